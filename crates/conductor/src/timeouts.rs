//! Wait-state timeouts: a node waiting for its ramdisk agent (deploy, clean, inspect,
//! rescue, service) that has not moved for longer than its timeout is failed into
//! the matching failure state, with `last_error` saying what it waited for.

use std::time::Duration;

use ferric_db::{Cond, ListQuery};
use ferric_types::fsm::Event;
use ferric_types::provision::ProvisionState::{self, *};
use ferric_types::Timestamp;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

/// How long each wait state may last.
#[derive(Debug, Clone, Copy)]
pub struct WaitTimeouts {
    pub deploy: Duration,
    pub clean: Duration,
    pub inspect: Duration,
    pub rescue: Duration,
    pub service: Duration,
}

impl Default for WaitTimeouts {
    fn default() -> Self {
        let half_hour = Duration::from_secs(1800);
        Self {
            deploy: half_hour,
            clean: half_hour,
            inspect: half_hour,
            rescue: half_hour,
            service: half_hour,
        }
    }
}

impl WaitTimeouts {
    /// How often to look for timed-out nodes: every minute, or more often when a
    /// timeout is short, so a node fails within a quarter of its timeout late.
    pub fn check_interval(&self) -> Duration {
        let shortest = [
            self.deploy,
            self.clean,
            self.inspect,
            self.rescue,
            self.service,
        ]
        .into_iter()
        .min()
        .unwrap_or(Duration::from_secs(60));
        (shortest / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }

    fn for_state(&self, state: ProvisionState) -> Option<Duration> {
        match state {
            WaitCallBack => Some(self.deploy),
            CleanWait => Some(self.clean),
            InspectWait => Some(self.inspect),
            RescueWait => Some(self.rescue),
            ServiceWait => Some(self.service),
            _ => None,
        }
    }
}

const WAIT_STATES: [ProvisionState; 5] = [
    WaitCallBack,
    CleanWait,
    InspectWait,
    RescueWait,
    ServiceWait,
];

impl Conductor {
    /// Fails every unlocked node that waited too long; returns how many.
    pub async fn fail_expired_waits(
        &self,
        timeouts: &WaitTimeouts,
    ) -> Result<usize, ConductorError> {
        let query = ListQuery {
            conds: vec![
                Cond::In(
                    "provision_state",
                    WAIT_STATES.iter().map(|s| s.as_str().into()).collect(),
                ),
                Cond::IsNull("reservation"),
            ],
            ..ListQuery::default()
        };
        let now = Timestamp::now();
        let mut failed = 0;
        let mine = self.own_nodes().await?;
        for node in self
            .db
            .node_list(&query)
            .await?
            .into_iter()
            .filter(|n| mine(n))
        {
            let Some(limit) = timeouts.for_state(node.provision_state) else {
                continue;
            };
            let since = node.provision_updated_at.unwrap_or(node.created_at);
            if now.micros() - since.micros() < limit.as_micros() as i64 {
                continue;
            }
            let (lock, mut locked) = match NodeLock::acquire(&self.db, node.uuid, &self.host).await
            {
                Ok(held) => held,
                Err(ConductorError::Locked { .. } | ConductorError::NodeNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            // Re-check under the lock: the agent may have called back meanwhile.
            if locked.provision_state == node.provision_state
                && locked.provision_updated_at == node.provision_updated_at
            {
                let state = locked.provision_state;
                if crate::provision::advance(&mut locked, Event::Fail) {
                    locked.last_error = Some(format!(
                        "Timeout reached while waiting for callback for node {} in state \"{state}\" ({} s)",
                        locked.uuid,
                        limit.as_secs()
                    ));
                    if let Ok(driver) = self.driver_for(&locked) {
                        crate::provision::drop_ramdisk_boot(&driver, &mut locked).await;
                    }
                    lock.save(&locked).await?;
                    let err = locked.last_error.clone().unwrap_or_default();
                    self.record(
                        locked.uuid,
                        ferric_types::history::ERROR,
                        "provisioning",
                        err,
                    )
                    .await;
                    tracing::warn!(node = %locked.uuid, state = %state, "wait timed out");
                    failed += 1;
                }
            }
            lock.release().await;
        }
        Ok(failed)
    }

    /// Checks wait timeouts every `interval` until the process ends.
    pub fn start_wait_timeouts(
        &self,
        interval: Duration,
        timeouts: WaitTimeouts,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                if let Err(e) = this.fail_expired_waits(&timeouts).await {
                    tracing::warn!(error = %e, "wait-timeout check failed");
                }
            }
        })
    }
}
