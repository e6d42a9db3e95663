//! The conductor registry: each conductor upserts its row at start, bumps
//! `updated_at` as a heartbeat (offline while it drains, so it leaves the rings
//! but is not taken for dead), and marks itself offline when it stops.

use ferric_types::conductor::ConductorRecord;
use ferric_types::Timestamp;

use crate::exec::Scalar;
use crate::query::{Cond, ListQuery, Sql, Value};
use crate::table::CONDUCTORS;
use crate::{Datastore, DbError};

impl Datastore {
    /// The database's clock. Heartbeats are stamped and judged by it, so processes
    /// on machines whose clocks disagree still agree on who is alive. SQLite
    /// serves one process: its clock is this machine's.
    pub async fn clock(&self) -> Result<Timestamp, DbError> {
        if self.backend() == crate::Backend::Sqlite {
            return Ok(Timestamp::now());
        }
        let mut sql = Sql::default();
        sql.push("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");
        match self.fetch_scalars(sql, &[Scalar::Int]).await?.as_deref() {
            Some([Value::Int(micros)]) => Ok(Timestamp::from_micros(*micros)),
            _ => Err(DbError::Corrupt("the database's clock gave no time".into())),
        }
    }

    /// Registers (or re-registers) a conductor as online.
    pub async fn conductor_register(&self, record: &ConductorRecord) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("INSERT INTO conductors (")
            .push(&CONDUCTORS.column_list())
            .push(") VALUES (");
        for (i, v) in CONDUCTORS.encode(record)?.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.arg(v);
        }
        sql.push(
            ") ON CONFLICT (hostname) DO UPDATE SET conductor_group = excluded.conductor_group, ",
        )
        .push("drivers = excluded.drivers, online = 1, updated_at = excluded.updated_at, ")
        .push("rpc_url = excluded.rpc_url");
        self.execute(sql).await?;
        Ok(())
    }

    /// Records a heartbeat of `hostname`, stamped by the database's clock: online,
    /// or (draining, stopping) alive but out of the hash rings.
    pub async fn conductor_touch(&self, hostname: &str, online: bool) -> Result<(), DbError> {
        let now = self.clock().await?.to_string();
        let mut sql = Sql::default();
        sql.push("UPDATE conductors SET online = ")
            .arg(Value::Int(i64::from(online)))
            .push(", updated_at = ")
            .arg(now.into())
            .push(" WHERE hostname = ")
            .arg(hostname.into());
        match self.execute(sql).await? {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }

    /// Marks `hostname` offline (a clean shutdown).
    pub async fn conductor_unregister(&self, hostname: &str) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("UPDATE conductors SET online = 0 WHERE hostname = ")
            .arg(Value::Text(hostname.into()));
        self.execute(sql).await?;
        Ok(())
    }

    /// Every registered conductor, in registration order.
    pub async fn conductor_list(&self) -> Result<Vec<ConductorRecord>, DbError> {
        self.list_rows(&CONDUCTORS, &ListQuery::default()).await
    }

    pub async fn conductor_get(&self, hostname: &str) -> Result<ConductorRecord, DbError> {
        let mut list = self
            .list_rows::<ConductorRecord>(
                &CONDUCTORS,
                &ListQuery {
                    conds: vec![Cond::Eq("hostname", hostname.into())],
                    ..ListQuery::default()
                },
            )
            .await?;
        list.pop().ok_or(DbError::NotFound)
    }
}
