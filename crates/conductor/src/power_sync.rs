//! The periodic power-state sync: for every node this conductor owns on the hash ring
//! (not locked, not in operator maintenance), read the power state from the hardware
//! with bounded concurrency (overall, and per BMC address) and record what changed.
//! A node whose BMC fails `MAX_FAILURES` syncs in a row is put in maintenance with
//! fault `power failure`; the first good read afterwards lifts that maintenance again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferric_db::ListQuery;
use ferric_types::history::{ERROR, INFO};
use ferric_types::{Node, NodeId, Timestamp};
use tokio::sync::Semaphore;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

/// Failed reads in a row before a node is put in maintenance.
pub const MAX_FAILURES: u32 = 3;
/// The fault recorded on such a node.
pub const POWER_FAILURE: &str = "power failure";
/// BMC reads at once.
const CONCURRENCY: usize = 16;
/// Reads at once against one BMC address.
const PER_BMC_CONCURRENCY: usize = 2;

/// The address of the node's BMC, for the per-BMC limit (fake nodes have none).
fn bmc_address(node: &Node) -> Option<String> {
    ["redfish_address", "ipmi_address"]
        .iter()
        .find_map(|k| node.driver_info.get(*k).and_then(serde_json::Value::as_str))
        .map(|a| {
            a.trim_start_matches("https://")
                .trim_start_matches("http://")
                .to_string()
        })
}

/// What the BMC says of the machine's health (API 1.109); `None` when it could
/// not be read, so a failed read changes nothing.
async fn read_health(driver: &ferric_drivers::Driver, node: &Node) -> Option<Option<String>> {
    match tokio::time::timeout(Duration::from_secs(60), driver.management.health(node)).await {
        Ok(Ok(health)) => Some(health),
        Ok(Err(e)) => {
            tracing::debug!(node = %node.uuid, error = %e, "could not read the hardware health");
            None
        }
        Err(_) => None,
    }
}

/// Consecutive failures per node, kept between sync rounds.
#[derive(Default)]
pub(crate) struct FailureCounts(Mutex<HashMap<NodeId, u32>>);

/// What one sync round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub checked: usize,
    pub changed: usize,
    pub failed: usize,
    pub faulted: usize,
    pub recovered: usize,
}

enum Outcome {
    Same,
    Changed,
    Failed,
    Faulted,
    Recovered,
    Skipped,
}

impl Conductor {
    /// Runs one sync round over the nodes this conductor owns.
    pub async fn sync_power_states(&self) -> Result<SyncReport, ConductorError> {
        let mine = self.own_nodes().await?;
        let nodes: Vec<Node> = self
            .db
            .node_list(&ListQuery::default())
            .await?
            .into_iter()
            .filter(|n| n.reservation.is_none())
            .filter(|n| !n.maintenance || n.fault.as_deref() == Some(POWER_FAILURE))
            .filter(|n| mine(n))
            .collect();
        let limit = Arc::new(Semaphore::new(CONCURRENCY));
        // Many nodes may share one BMC (a chassis manager): it gets a few reads at a time.
        let mut per_bmc: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut tasks = Vec::with_capacity(nodes.len());
        for node in nodes {
            let bmc = bmc_address(&node).map(|a| {
                per_bmc
                    .entry(a)
                    .or_insert_with(|| Arc::new(Semaphore::new(PER_BMC_CONCURRENCY)))
                    .clone()
            });
            let (this, limit) = (self.clone(), limit.clone());
            tasks.push(tokio::spawn(async move {
                let _bmc_slot = match bmc {
                    Some(s) => Some(s.acquire_owned().await),
                    None => None,
                };
                let _slot = limit.acquire_owned().await;
                this.sync_one(node.uuid).await
            }));
        }
        let mut report = SyncReport::default();
        for t in tasks {
            match t.await {
                Ok(Ok(outcome)) => {
                    report.checked += 1;
                    match outcome {
                        Outcome::Changed => report.changed += 1,
                        Outcome::Failed => report.failed += 1,
                        Outcome::Faulted => report.faulted += 1,
                        Outcome::Recovered => report.recovered += 1,
                        Outcome::Same => {}
                        Outcome::Skipped => report.checked -= 1,
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "power sync of a node failed"),
                Err(e) => tracing::error!(error = %e, "power sync task panicked"),
            }
        }
        Ok(report)
    }

    async fn sync_one(&self, uuid: NodeId) -> Result<Outcome, ConductorError> {
        let (lock, mut node) = match NodeLock::acquire(&self.db, uuid, &self.host).await {
            Ok(held) => held,
            // Someone is working on it: their result will be the truth.
            Err(ConductorError::Locked { .. } | ConductorError::NodeNotFound(_)) => {
                return Ok(Outcome::Skipped)
            }
            Err(e) => return Err(e),
        };
        let driver = self.driver_for(&node);
        let read = match &driver {
            Ok(driver) => {
                tokio::time::timeout(Duration::from_secs(60), driver.power.get_power_state(&node))
                    .await
                    .unwrap_or_else(|_| {
                        Err(ferric_drivers::DriverError::Hardware(
                            "no answer within 60 s".into(),
                        ))
                    })
            }
            Err(e) => Err(e.clone()),
        };
        let health_change = match (&driver, &read) {
            (Ok(driver), Ok(_)) if self.health_monitoring => read_health(driver, &node)
                .await
                .filter(|h| *h != node.health),
            _ => None,
        };
        let outcome = match read {
            Ok(state) => {
                self.failures
                    .0
                    .lock()
                    .expect("failure counts")
                    .remove(&uuid);
                let mut outcome = Outcome::Same;
                if node.fault.as_deref() == Some(POWER_FAILURE) {
                    node.maintenance = false;
                    node.maintenance_reason = None;
                    node.fault = None;
                    outcome = Outcome::Recovered;
                }
                if node.power_state.as_deref() != Some(state.as_str()) {
                    tracing::info!(node = %uuid, from = ?node.power_state, to = %state, "power state changed outside Ferric");
                    node.power_state = Some(state);
                    if matches!(outcome, Outcome::Same) {
                        outcome = Outcome::Changed;
                    }
                }
                outcome
            }
            Err(e) => {
                let count = {
                    let mut counts = self.failures.0.lock().expect("failure counts");
                    let c = counts.entry(uuid).or_insert(0);
                    *c += 1;
                    *c
                };
                tracing::warn!(node = %uuid, failures = count, error = %e, "could not read the power state");
                if count >= MAX_FAILURES && !node.maintenance {
                    node.maintenance = true;
                    node.fault = Some(POWER_FAILURE.into());
                    node.maintenance_reason = Some(format!(
                        "Power state sync failed {count} times in a row: {e}"
                    ));
                    node.power_state = Some(ferric_types::power::POWER_ERROR.into());
                    Outcome::Faulted
                } else {
                    Outcome::Failed
                }
            }
        };
        let health_event = health_change.map(|health| {
            let event = format!(
                "Hardware health changed from {} to {}",
                node.health.as_deref().unwrap_or("unknown"),
                health.as_deref().unwrap_or("unknown")
            );
            tracing::info!(node = %uuid, from = ?node.health, to = ?health, "hardware health changed");
            node.health = health;
            event
        });
        let power_changed = !matches!(outcome, Outcome::Same | Outcome::Failed);
        if power_changed || health_event.is_some() {
            node.updated_at = Some(Timestamp::now());
            lock.save(&node).await?;
        }
        if let Some(event) = health_event {
            self.record(uuid, INFO, "monitoring", event).await;
        }
        if power_changed {
            let (severity, event) = match &outcome {
                Outcome::Faulted => (ERROR, node.maintenance_reason.clone().unwrap_or_default()),
                Outcome::Recovered => (
                    INFO,
                    "The BMC answers again; maintenance for power failure lifted".into(),
                ),
                _ => (
                    INFO,
                    format!(
                        "Power state changed outside Ferric to \"{}\"",
                        node.power_state.as_deref().unwrap_or("unknown")
                    ),
                ),
            };
            self.record(uuid, severity, "power", event).await;
        }
        lock.release().await;
        Ok(outcome)
    }

    /// Runs the sync every `interval` until the process ends.
    pub fn start_power_sync(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                let started = std::time::Instant::now();
                match this.sync_power_states().await {
                    Ok(r) => tracing::info!(
                        checked = r.checked,
                        changed = r.changed,
                        failed = r.failed,
                        faulted = r.faulted,
                        recovered = r.recovered,
                        seconds = started.elapsed().as_secs_f64(),
                        "power sync round"
                    ),
                    Err(e) => tracing::warn!(error = %e, "power sync round failed"),
                }
            }
        })
    }
}
