//! Schema migrations: numbered SQL files per backend, embedded in the binary, applied
//! in order inside a transaction each and recorded in `ferric_schema_migrations`.
//! On PostgreSQL an advisory lock keeps concurrent starters from racing.

use sqlx::{Connection, Executor, Row};

use crate::{Backend, Datastore, DbError};

/// One schema step.
struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "chassis, nodes, port groups, ports",
    sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
    postgres: include_str!("../migrations/postgres/0001_initial.sql"),
}];

/// An arbitrary, fixed key for the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6665_7272_6963;

pub(crate) async fn run(store: &Datastore) -> Result<(), DbError> {
    let mut conn = store.pool.acquire().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_pending(store.backend, &mut conn).await;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(backend: Backend, conn: &mut sqlx::AnyConnection) -> Result<(), DbError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ferric_schema_migrations (\
           version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM ferric_schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    if let Some(newest) = applied.iter().max() {
        let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        if *newest > known {
            return Err(DbError::Config(format!(
                "the database schema (version {newest}) is newer than this Ferric knows (version {known}); upgrade Ferric"
            )));
        }
    }
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO ferric_schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.description)
            .bind(ferric_types::Timestamp::now().to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied schema migration"
        );
    }
    Ok(())
}
