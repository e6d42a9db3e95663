//! A conductor over a fresh database: a new SQLite file, or a new schema in the
//! PostgreSQL named by `FERRIC_TEST_POSTGRES_URL` (kept after the test, for a look
//! when it fails). `both_backends!` turns one scenario into a test on each.

use std::time::Duration;

use ferric_conductor::{Conductor, ConductorConfig};
use ferric_db::Datastore;
use sqlx::{Connection, Executor};

/// A database of the test's own.
pub enum Backend {
    Sqlite,
    Postgres,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Opens a fresh, migrated database.
pub async fn database(backend: Backend) -> Datastore {
    let url = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("ferric-conductor-tests");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{}.db", unique("t")));
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres => {
            let url = std::env::var("FERRIC_TEST_POSTGRES_URL").expect(
                "FERRIC_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite needs a \
                 server (lab/postgres.sh starts one)",
            );
            let schema = unique("c");
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .expect("PostgreSQL reachable");
            conn.execute(format!("CREATE SCHEMA {schema}").as_str())
                .await
                .unwrap();
            conn.close().await.unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        }
    };
    Datastore::connect(&url).await.unwrap()
}

/// A registered conductor over `db` with `config`'s other settings.
pub async fn conductor(db: &Datastore, config: ConductorConfig) -> Conductor {
    let conductor = Conductor::new(
        db.clone(),
        ConductorConfig {
            host: "test-conductor".into(),
            workers: 8,
            // It never heartbeats after registering, and stays alive.
            heartbeats: ferric_conductor::Heartbeats {
                interval: Duration::from_secs(3600),
                timeout: Duration::from_secs(7200),
            },
            ..config
        },
    );
    conductor.register().await.unwrap();
    conductor
}

/// Runs one scenario (an async fn taking the fresh database) on SQLite and on
/// PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $scenario:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::harness::database($crate::harness::Backend::Sqlite).await;
                ($scenario)(db).await;
            }

            #[tokio::test]
            async fn postgres() {
                let db = $crate::harness::database($crate::harness::Backend::Postgres).await;
                ($scenario)(db).await;
            }
        }
    };
}
