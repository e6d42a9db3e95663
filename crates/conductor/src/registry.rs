//! Registration and heartbeats: a conductor announces itself (host, group, hardware
//! types, RPC address) at start, bumps its row every heartbeat interval — a failed
//! bump is logged and the loop goes on, so a database blip never kills the
//! heartbeat — and goes offline on a clean stop. SQLite serves one conductor: a
//! second one alive in the same database is refused. Heartbeats are stamped, and
//! judged, by the database's clock, not the machines'.

use ferric_db::Backend;
use ferric_types::conductor::ConductorRecord;
use ferric_types::hardware::hardware_type_names;

use crate::{Conductor, ConductorError};

impl Conductor {
    /// Registers this conductor and starts its heartbeat; the task runs until
    /// aborted.
    pub async fn register(&self) -> Result<tokio::task::JoinHandle<()>, ConductorError> {
        let now = self.db.clock().await?;
        if self.db.backend() == Backend::Sqlite {
            let others = self.db.conductor_list().await?;
            if let Some(other) = others.iter().find(|c| {
                c.hostname != *self.host && c.is_alive(now, self.liveness.settings.timeout_secs())
            }) {
                return Err(ConductorError::Conflict(format!(
                    "conductor {} is alive in this SQLite database, which serves one conductor: \
                     stop it, or use PostgreSQL to run several",
                    other.hostname
                )));
            }
        }
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
            rpc_url: self.rpc_url.as_deref().map(str::to_string),
        };
        self.db.conductor_register(&record).await?;
        self.liveness.heartbeat(true);
        let (db, host, liveness) = (self.db.clone(), self.host.clone(), self.liveness.clone());
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(liveness.settings.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                // A draining conductor stays alive to its peers but leaves the rings.
                let online = !liveness.leaving();
                // A heartbeat stuck waiting for the database counts as failed.
                let touch = db.conductor_touch(&host, online);
                let touched = match tokio::time::timeout(liveness.settings.interval, touch).await {
                    Ok(Ok(())) => true,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "conductor heartbeat failed");
                        false
                    }
                    Err(_) => {
                        tracing::warn!(
                            "conductor heartbeat timed out: the database does not answer"
                        );
                        false
                    }
                };
                liveness.heartbeat(touched);
                if touched && online && liveness.leaving() {
                    // It started leaving while this heartbeat said online: say
                    // offline now rather than an interval later.
                    if let Err(e) = db.conductor_touch(&host, false).await {
                        tracing::warn!(error = %e, "could not leave the hash rings");
                    }
                }
            }
        }))
    }

    /// Marks this conductor offline (a clean stop).
    pub async fn unregister(&self) -> Result<(), ConductorError> {
        Ok(self.db.conductor_unregister(&self.host).await?)
    }

    /// Which nodes this conductor owns on the rings of the alive conductors now: a
    /// test to filter its periodic work by.
    pub(crate) async fn own_nodes(
        &self,
    ) -> Result<impl Fn(&ferric_types::Node) -> bool + use<>, ConductorError> {
        let conductors = self.db.conductor_list().await?;
        let rings = ferric_conductor_api::ring::Rings::from_conductors(
            &conductors,
            self.db.clock().await?,
            self.liveness.settings.timeout_secs(),
        );
        let host = self.host.clone();
        Ok(move |n: &ferric_types::Node| {
            rings.conductor_for(&n.uuid.to_string(), &n.conductor_group) == Some(&*host)
        })
    }

    /// How often this conductor heartbeats, and when a silent one counts as dead.
    pub fn heartbeats(&self) -> crate::Heartbeats {
        self.liveness.settings
    }
}
