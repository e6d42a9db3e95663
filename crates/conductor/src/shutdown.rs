//! Leaving the cluster: a stopping conductor (SIGTERM) or a draining one (SIGUSR2)
//! first leaves the hash rings — its row turns offline at once and keeps being
//! bumped, so peers take its place for new work without counting it dead — and
//! starts no new work; then it waits, up to its timeout, until it holds no node
//! and no worker runs; what it still holds then fails with a reason and is
//! released; finally it marks itself offline for good. Nodes waiting on their
//! agents hold nothing: their heartbeats reach the new owners meanwhile.

use std::time::{Duration, Instant};

use ferric_db::{Cond, ListQuery};

use crate::{Conductor, ConductorError};

impl Conductor {
    /// Leaves the rings and takes no new work.
    pub async fn leave(&self) {
        self.liveness.leave();
        if let Err(e) = self.db.conductor_touch(&self.host, false).await {
            tracing::warn!(error = %e, "could not leave the hash rings now; the next heartbeat will");
        }
    }

    /// How many nodes this conductor holds locked.
    async fn held(&self) -> Result<usize, ConductorError> {
        let query = ListQuery {
            conds: vec![Cond::Eq("reservation", self.host.to_string().into())],
            ..ListQuery::default()
        };
        Ok(self.db.node_list(&query).await?.len())
    }

    /// Waits until no worker runs and no node is held, at most `limit`; true when
    /// it got there.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let busy = self.worker_count - self.workers.available_permits();
            let held = self.held().await.unwrap_or(usize::MAX);
            if busy == 0 && held == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    workers = busy,
                    nodes = held,
                    "work still running at the end of the shutdown wait"
                );
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Leaves the cluster: fails and releases what it still holds, and marks itself
    /// offline.
    pub async fn depart(&self) -> Result<usize, ConductorError> {
        let why = format!("Conductor {} stopped", self.host);
        let released = self.release_held_by(&self.host, &why).await;
        // Offline even when a release failed: a peer's takeover gets the rest.
        self.unregister().await?;
        released
    }
}
