//! Schema migrations: numbered SQL files per backend, embedded in the binary, applied
//! in order inside a transaction and recorded in `ferric_schema_migrations`. On
//! PostgreSQL an advisory lock keeps concurrent starters from racing; on SQLite the
//! write lock of the transaction does.

use ferric_types::Timestamp;
use sqlx::{Connection, Executor};

use crate::exec::Pool;
use crate::sqlite::from_sqlite;
use crate::{Datastore, DbError};

/// One schema step.
struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "chassis, nodes, port groups, ports",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "conductor registry",
        sqlite: include_str!("../migrations/sqlite/0002_conductors.sql"),
        postgres: include_str!("../migrations/postgres/0002_conductors.sql"),
    },
    Migration {
        version: 3,
        description: "allocations",
        sqlite: include_str!("../migrations/sqlite/0003_allocations.sql"),
        postgres: include_str!("../migrations/postgres/0003_allocations.sql"),
    },
    Migration {
        version: 4,
        description: "deploy templates",
        sqlite: include_str!("../migrations/sqlite/0004_deploy_templates.sql"),
        postgres: include_str!("../migrations/postgres/0004_deploy_templates.sql"),
    },
    Migration {
        version: 5,
        description: "node network data, boot mode and secure boot",
        sqlite: include_str!("../migrations/sqlite/0005_node_boot_settings.sql"),
        postgres: include_str!("../migrations/postgres/0005_node_boot_settings.sql"),
    },
    Migration {
        version: 6,
        description: "node history",
        sqlite: include_str!("../migrations/sqlite/0006_node_history.sql"),
        postgres: include_str!("../migrations/postgres/0006_node_history.sql"),
    },
    Migration {
        version: 7,
        description: "node shard",
        sqlite: include_str!("../migrations/sqlite/0007_node_shard.sql"),
        postgres: include_str!("../migrations/postgres/0007_node_shard.sql"),
    },
    Migration {
        version: 8,
        description: "node parent",
        sqlite: include_str!("../migrations/sqlite/0008_node_parent.sql"),
        postgres: include_str!("../migrations/postgres/0008_node_parent.sql"),
    },
    Migration {
        version: 9,
        description: "node service step, port name",
        sqlite: include_str!("../migrations/sqlite/0009_service_and_port_name.sql"),
        postgres: include_str!("../migrations/postgres/0009_service_and_port_name.sql"),
    },
    Migration {
        version: 10,
        description: "DHCP leases",
        sqlite: include_str!("../migrations/sqlite/0010_dhcp_leases.sql"),
        postgres: include_str!("../migrations/postgres/0010_dhcp_leases.sql"),
    },
    Migration {
        version: 11,
        description: "networks, subnets, VIF ports",
        sqlite: include_str!("../migrations/sqlite/0011_networks.sql"),
        postgres: include_str!("../migrations/postgres/0011_networks.sql"),
    },
    Migration {
        version: 12,
        description: "node inventory",
        sqlite: include_str!("../migrations/sqlite/0012_node_inventory.sql"),
        postgres: include_str!("../migrations/postgres/0012_node_inventory.sql"),
    },
    Migration {
        version: 13,
        description: "node history project",
        sqlite: include_str!("../migrations/sqlite/0013_node_history_project.sql"),
        postgres: include_str!("../migrations/postgres/0013_node_history_project.sql"),
    },
    Migration {
        version: 14,
        description: "built-in identity service",
        sqlite: include_str!("../migrations/sqlite/0014_identity.sql"),
        postgres: include_str!("../migrations/postgres/0014_identity.sql"),
    },
    Migration {
        version: 15,
        description: "node, port, port group and history fields of API 1.95 to 1.115",
        sqlite: include_str!("../migrations/sqlite/0015_api_1_90_to_1_115.sql"),
        postgres: include_str!("../migrations/postgres/0015_api_1_90_to_1_115.sql"),
    },
    Migration {
        version: 16,
        description: "runbooks",
        sqlite: include_str!("../migrations/sqlite/0016_runbooks.sql"),
        postgres: include_str!("../migrations/postgres/0016_runbooks.sql"),
    },
    Migration {
        version: 17,
        description: "volume connectors and targets",
        sqlite: include_str!("../migrations/sqlite/0017_volumes.sql"),
        postgres: include_str!("../migrations/postgres/0017_volumes.sql"),
    },
    Migration {
        version: 18,
        description: "firmware components",
        sqlite: include_str!("../migrations/sqlite/0018_firmware_components.sql"),
        postgres: include_str!("../migrations/postgres/0018_firmware_components.sql"),
    },
    Migration {
        version: 19,
        description: "inspection rules",
        sqlite: include_str!("../migrations/sqlite/0019_inspection_rules.sql"),
        postgres: include_str!("../migrations/postgres/0019_inspection_rules.sql"),
    },
    Migration {
        version: 20,
        description: "conductor RPC address",
        sqlite: include_str!("../migrations/sqlite/0020_conductor_rpc_url.sql"),
        postgres: include_str!("../migrations/postgres/0020_conductor_rpc_url.sql"),
    },
    Migration {
        version: 21,
        description: "unique fixed IPs and network segments",
        sqlite: include_str!("../migrations/sqlite/0021_unique_addresses_and_segments.sql"),
        postgres: include_str!("../migrations/postgres/0021_unique_addresses_and_segments.sql"),
    },
    Migration {
        version: 22,
        description: "boot configs and served images",
        sqlite: include_str!("../migrations/sqlite/0022_boot_files.sql"),
        postgres: include_str!("../migrations/postgres/0022_boot_files.sql"),
    },
];

/// An arbitrary, fixed key for the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6665_7272_6963;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS ferric_schema_migrations (\
    version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// Refuses a database migrated by a newer Ferric.
fn check_known(applied: &[i64]) -> Result<(), DbError> {
    let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    match applied.iter().max() {
        Some(newest) if *newest > known => Err(DbError::Config(format!(
            "the database schema (version {newest}) is newer than this Ferric knows (version {known}); upgrade Ferric"
        ))),
        _ => Ok(()),
    }
}

pub(crate) async fn run(store: &Datastore) -> Result<(), DbError> {
    match &store.pool {
        Pool::Sqlite(pool) => pool.run(migrate_sqlite).await,
        Pool::Postgres(pool) => migrate_postgres(pool).await,
    }
}

fn migrate_sqlite(conn: &mut rusqlite::Connection) -> Result<(), DbError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    tx.execute_batch(CREATE_LEDGER).map_err(from_sqlite)?;
    let applied: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT version FROM ferric_schema_migrations")
            .map_err(from_sqlite)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(from_sqlite)?;
        rows.collect::<Result<_, _>>().map_err(from_sqlite)?
    };
    check_known(&applied)?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tx.execute_batch(m.sqlite).map_err(from_sqlite)?;
        tx.execute(
            "INSERT INTO ferric_schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.description, Timestamp::now().to_string()],
        )
        .map_err(from_sqlite)?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied schema migration"
        );
    }
    tx.commit().map_err(from_sqlite)
}

async fn migrate_postgres(pool: &sqlx::PgPool) -> Result<(), DbError> {
    let mut conn = pool.acquire().await.map_err(DbError::Postgres)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .map_err(DbError::Postgres)?;
    let result = apply_postgres(&mut conn).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .map_err(DbError::Postgres)?;
    result
}

async fn apply_postgres(conn: &mut sqlx::PgConnection) -> Result<(), DbError> {
    conn.execute(CREATE_LEDGER)
        .await
        .map_err(DbError::Postgres)?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM ferric_schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(DbError::Postgres)?;
    check_known(&applied)?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let mut tx = conn.begin().await.map_err(DbError::Postgres)?;
        sqlx::raw_sql(m.postgres)
            .execute(&mut *tx)
            .await
            .map_err(DbError::Postgres)?;
        sqlx::query("INSERT INTO ferric_schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.description)
            .bind(Timestamp::now().to_string())
            .execute(&mut *tx)
            .await
            .map_err(DbError::Postgres)?;
        tx.commit().await.map_err(DbError::Postgres)?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied schema migration"
        );
    }
    Ok(())
}
