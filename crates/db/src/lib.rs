//! Ferric's datastore: SQLite (rusqlite) or PostgreSQL (sqlx), with every query written
//! once by one builder, the schema migrations of both, and one module per resource
//! with resource-first function names (`node_get`, `port_create`…). The database is
//! the source of truth; updates are conditional and report what happened.

mod allocation;
mod boot_config;
mod chassis;
mod conductor;
mod deploy_template;
mod dhcp_lease;
mod error;
mod exec;
mod firmware;
mod history;
mod identity;
mod inspection_rule;
mod inventory;
mod migrate;
mod network;
mod node;
mod port;
mod portgroup;
mod postgres;
mod query;
mod runbook;
mod sqlite;
mod sqlite_writer;
mod table;
mod volume;

pub use allocation::allocation_sort_column;
pub use chassis::chassis_sort_column;
pub use deploy_template::deploy_template_sort_column;
pub use error::DbError;
pub use history::history_sort_column;
pub use inspection_rule::inspection_rule_sort_column;
pub use inventory::NodeInventory;
pub use node::{node_sort_column, NodeStateCount};
pub use port::port_sort_column;
pub use portgroup::portgroup_sort_column;
pub use query::{Cond, ListQuery, SortDir, Value};
pub use runbook::{runbook_project_cond, runbook_sort_column};
pub use volume::{volume_connector_sort_column, volume_target_sort_column};

use std::path::PathBuf;
use std::time::Duration;

use exec::Pool;
use sqlx::postgres::PgPoolOptions;

/// Which database engine a datastore runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle every layer above uses to reach the database.
#[derive(Clone)]
pub struct Datastore {
    pool: Pool,
}

/// What a conditional update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The row matched the expected state and was changed.
    Updated,
    /// The row exists but changed since it was read; nothing was written.
    Conflict,
    /// No such row.
    NotFound,
}

impl Datastore {
    /// Connects to `url` (`sqlite://PATH[?…]` or `postgres://…`) and brings the schema
    /// up to date.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let pool = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            if path.is_empty() {
                return Err(DbError::Config(format!("no database file in {url:?}")));
            }
            let path = PathBuf::from(path);
            Pool::Sqlite(
                tokio::task::spawn_blocking(move || sqlite::SqlitePool::open(path))
                    .await
                    .map_err(|e| DbError::Config(format!("cannot open the database: {e}")))??,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await
                .map_err(|e| {
                    DbError::Config(format!("cannot open database {}: {e}", redact_url(url)))
                })?;
            Pool::Postgres(pool)
        } else {
            return Err(DbError::Config(format!(
                "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
                redact_url(url)
            )));
        };
        let store = Datastore { pool };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; waits for them to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close(),
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// A database URL with its password replaced, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:******{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://ferric:s3cret@db:5432/ferric"),
            "postgres://ferric:******@db:5432/ferric"
        );
        assert_eq!(
            super::redact_url("sqlite://var/ferric.db"),
            "sqlite://var/ferric.db"
        );
    }
}
