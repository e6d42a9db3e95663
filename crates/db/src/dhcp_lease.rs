//! DHCP leases: each DHCP server records the leases it binds and reads them back at
//! start.

use ferric_types::dhcp::LeaseRecord;

use crate::exec::Scalar;
use crate::query::{Sql, Value};
use crate::{Datastore, DbError};

impl Datastore {
    /// Records (or renews) a bound lease.
    pub async fn dhcp_lease_put(&self, lease: &LeaseRecord) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("INSERT INTO dhcp_leases (server_ip, mac, ip, expires_at) VALUES (")
            .arg(lease.server_ip.as_str().into())
            .push(", ")
            .arg(lease.mac.as_str().into())
            .push(", ")
            .arg(lease.ip.as_str().into())
            .push(", ")
            .arg(Value::Int(lease.expires_at))
            .push(
                ") ON CONFLICT (server_ip, mac) DO UPDATE SET ip = excluded.ip, expires_at = excluded.expires_at",
            );
        self.execute(sql).await?;
        Ok(())
    }

    /// Forgets a MAC's lease (released, declined).
    pub async fn dhcp_lease_delete(&self, server_ip: &str, mac: &str) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("DELETE FROM dhcp_leases WHERE server_ip = ")
            .arg(server_ip.into())
            .push(" AND mac = ")
            .arg(mac.into());
        self.execute(sql).await?;
        Ok(())
    }

    /// The server's leases that end after `now` (Unix seconds); older ones are
    /// deleted on the way.
    pub async fn dhcp_lease_list(
        &self,
        server_ip: &str,
        now: i64,
    ) -> Result<Vec<LeaseRecord>, DbError> {
        let mut purge = Sql::default();
        purge
            .push("DELETE FROM dhcp_leases WHERE server_ip = ")
            .arg(server_ip.into())
            .push(" AND expires_at <= ")
            .arg(Value::Int(now));
        self.execute(purge).await?;
        let mut sql = Sql::default();
        sql.push("SELECT mac, ip, expires_at FROM dhcp_leases WHERE server_ip = ")
            .arg(server_ip.into())
            .push(" ORDER BY mac");
        let rows = self
            .fetch_scalar_rows(sql, &[Scalar::Text, Scalar::Text, Scalar::Int])
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [Value::Text(mac), Value::Text(ip), Value::Int(expires_at)] => Some(LeaseRecord {
                    server_ip: server_ip.to_string(),
                    mac: mac.clone(),
                    ip: ip.clone(),
                    expires_at: *expires_at,
                }),
                _ => None,
            })
            .collect())
    }
}
