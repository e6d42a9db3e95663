//! Registration and heartbeats: a conductor announces itself (host, group, hardware
//! types) at start, bumps its heartbeat on an interval, and goes offline on a clean
//! stop. A cached view of the alive conductors gives the hash rings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferric_db::Datastore;
use ferric_types::conductor::ConductorRecord;
use ferric_types::hardware::hardware_type_names;
use ferric_types::Timestamp;
use tokio::sync::Mutex;

use crate::hash_ring::Rings;
use crate::{Conductor, ConductorError};

/// A conductor whose last heartbeat is older than this is dead.
pub const HEARTBEAT_TIMEOUT_SECS: i64 = 60;

impl Conductor {
    /// Registers this conductor and starts its heartbeat; the task runs until the
    /// process ends.
    pub async fn register(
        &self,
        interval: Duration,
    ) -> Result<tokio::task::JoinHandle<()>, ConductorError> {
        let now = Timestamp::now();
        let record = ConductorRecord {
            hostname: self.host.to_string(),
            conductor_group: self.group.to_string(),
            drivers: hardware_type_names()
                .into_iter()
                .map(str::to_string)
                .collect(),
            online: true,
            created_at: now,
            updated_at: Some(now),
        };
        self.db.conductor_register(&record).await?;
        let (db, host) = (self.db.clone(), self.host.clone());
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = db
                    .conductor_touch(&host, &Timestamp::now().to_string())
                    .await
                {
                    tracing::warn!(error = %e, "conductor heartbeat failed");
                }
            }
        }))
    }

    /// Marks this conductor offline (a clean stop).
    pub async fn unregister(&self) -> Result<(), ConductorError> {
        Ok(self.db.conductor_unregister(&self.host).await?)
    }
}

/// The alive conductors' rings, re-read from the database at most every `ttl`.
pub struct RingCache {
    db: Datastore,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<Rings>)>>,
}

impl RingCache {
    pub fn new(db: Datastore, ttl: Duration) -> Self {
        Self {
            db,
            ttl,
            cached: Mutex::new(None),
        }
    }

    pub async fn rings(&self) -> Result<Arc<Rings>, ConductorError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, rings)) = cached.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(rings.clone());
            }
        }
        let conductors = self.db.conductor_list().await?;
        let rings = Arc::new(Rings::from_conductors(
            &conductors,
            Timestamp::now(),
            HEARTBEAT_TIMEOUT_SECS,
        ));
        *cached = Some((Instant::now(), rings.clone()));
        Ok(rings)
    }
}
