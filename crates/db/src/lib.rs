//! Ferric's datastore: one connection pool over SQLite or PostgreSQL (through sqlx's
//! `Any` driver, so every query is written once), the schema migrations of both, and
//! one module per resource with resource-first function names (`node_get`,
//! `port_create`…). The database is the source of truth; updates are conditional and
//! report what happened.

mod chassis;
mod error;
mod migrate;
mod node;
mod port;
mod portgroup;
mod query;
mod table;

pub use chassis::chassis_sort_column;
pub use error::DbError;
pub use node::node_sort_column;
pub use port::port_sort_column;
pub use portgroup::portgroup_sort_column;
pub use query::{Cond, ListQuery, SortDir, Value};

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Executor;

/// Which database engine a datastore runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle every layer above uses to reach the database.
#[derive(Clone)]
pub struct Datastore {
    pool: AnyPool,
    backend: Backend,
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
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`) and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::Config(format!(
                "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
                redact_url(url)
            )));
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30));
        let options = match backend {
            Backend::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options.connect(url).await.map_err(|e| {
            DbError::Config(format!("cannot open database {}: {e}", redact_url(url)))
        })?;
        let store = Datastore { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; waits for them to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
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
