//! Who is alive: the conductor rows of the database read into hash rings, cached
//! for at most one heartbeat interval so a membership change reaches every process
//! within one, and read again at once when a call finds a conductor gone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferric_db::Datastore;
use tokio::sync::Mutex;

use crate::ring::Rings;
use crate::CallError;

/// Ironic's `[conductor] heartbeat_interval` and `heartbeat_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeats {
    /// How often a conductor bumps its row.
    pub interval: Duration,
    /// A conductor whose last heartbeat is older is dead.
    pub timeout: Duration,
}

impl Default for Heartbeats {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
        }
    }
}

impl Heartbeats {
    pub fn timeout_secs(&self) -> i64 {
        self.timeout.as_secs() as i64
    }
}

/// The alive conductors' rings, re-read from the database at most every heartbeat
/// interval.
pub struct RingCache {
    db: Datastore,
    heartbeats: Heartbeats,
    cached: Mutex<Option<(Instant, Arc<Rings>)>>,
}

impl RingCache {
    pub fn new(db: Datastore, heartbeats: Heartbeats) -> Self {
        Self {
            db,
            heartbeats,
            cached: Mutex::new(None),
        }
    }

    pub fn heartbeats(&self) -> Heartbeats {
        self.heartbeats
    }

    pub async fn rings(&self) -> Result<Arc<Rings>, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, rings)) = cached.as_ref() {
            if at.elapsed() < self.heartbeats.interval {
                return Ok(rings.clone());
            }
        }
        let conductors = self.db.conductor_list().await?;
        let rings = Arc::new(Rings::from_conductors(
            &conductors,
            self.db.clock().await?,
            self.heartbeats.timeout_secs(),
        ));
        *cached = Some((Instant::now(), rings.clone()));
        Ok(rings)
    }

    /// Forgets the cached rings: the next call reads the database.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
