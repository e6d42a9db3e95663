//! The periodic power-state sync: for every node this conductor owns on the hash ring
//! (not locked, not in operator maintenance, not waiting for its agent), read the
//! power state from the hardware with bounded concurrency (overall, and per BMC
//! address) and record what changed; a node is locked only when something did.
//! A node whose BMC fails `MAX_FAILURES` syncs in a row is put in maintenance with
//! fault `power failure`; the first good read afterwards lifts that maintenance again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferric_db::ListQuery;
use ferric_types::history::{ERROR, INFO};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId};
use tokio::sync::Semaphore;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

/// Failed reads in a row before a node is put in maintenance.
pub const MAX_FAILURES: u32 = 3;
/// The fault recorded on such a node.
pub const POWER_FAILURE: &str = "power failure";
/// BMC reads at once.
const CONCURRENCY: usize = 16;
/// Nodes read from the database at once.
const PAGE: i64 = 500;
/// States whose power is not synced (as Ironic's `SYNC_EXCLUDED_STATES`, save
/// `enroll`, whose nodes Ferric watches from the start): a machine waiting for its
/// agent is watched by its wait's timeout.
const SYNC_EXCLUDED: &[ProvisionState] = &[
    ProvisionState::WaitCallBack,
    ProvisionState::CleanWait,
    ProvisionState::AdoptFailed,
];
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

/// The machine's power state, or an error when the hardware does not answer
/// within 60 s.
async fn read_power(
    driver: &ferric_drivers::Driver,
    node: &Node,
) -> Result<String, ferric_drivers::DriverError> {
    tokio::time::timeout(Duration::from_secs(60), driver.power.get_power_state(node))
        .await
        .unwrap_or_else(|_| {
            Err(ferric_drivers::DriverError::Hardware(
                "no answer within 60 s".into(),
            ))
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

impl SyncReport {
    fn count(&mut self, outcome: Outcome) {
        if let Some(label) = outcome.label() {
            metrics::counter!(crate::metrics::SYNC_NODES, "outcome" => label).increment(1);
        }
        match outcome {
            Outcome::Skipped => return,
            Outcome::Changed => self.changed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Faulted => self.faulted += 1,
            Outcome::Recovered => self.recovered += 1,
            Outcome::Same => {}
        }
        self.checked += 1;
    }
}

enum Outcome {
    Same,
    Changed,
    Failed,
    Faulted,
    Recovered,
    Skipped,
}

impl Outcome {
    /// The outcome's label on `/metrics`; none for a node that was not checked.
    fn label(&self) -> Option<&'static str> {
        Some(match self {
            Outcome::Same => "same",
            Outcome::Changed => "changed",
            Outcome::Failed => "failed",
            Outcome::Faulted => "faulted",
            Outcome::Recovered => "recovered",
            Outcome::Skipped => return None,
        })
    }
}

impl Conductor {
    /// Runs one sync round over the nodes this conductor owns, a page of them at a
    /// time (the round's memory does not grow with the fleet).
    pub async fn sync_power_states(&self) -> Result<SyncReport, ConductorError> {
        let mine = self.own_nodes().await?;
        let limit = Arc::new(Semaphore::new(CONCURRENCY));
        // Many nodes may share one BMC (a chassis manager): it gets a few reads at a time.
        let mut per_bmc: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut report = SyncReport::default();
        let mut marker = None;
        loop {
            let page = self
                .db
                .node_list(&ListQuery {
                    marker: marker.take(),
                    limit: Some(PAGE),
                    ..Default::default()
                })
                .await?;
            let last_page = page.len() < PAGE as usize;
            marker = page.last().map(|n| n.uuid.to_string());
            let mut tasks = Vec::with_capacity(page.len());
            for node in page
                .into_iter()
                .filter(|n| n.reservation.is_none())
                .filter(|n| !n.maintenance || n.fault.as_deref() == Some(POWER_FAILURE))
                .filter(|n| !SYNC_EXCLUDED.contains(&n.provision_state))
                .filter(|n| mine(n))
            {
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
                    this.sync_one(node).await
                }));
            }
            for t in tasks {
                match t.await {
                    Ok(Ok(outcome)) => report.count(outcome),
                    Ok(Err(e)) => tracing::warn!(error = %e, "power sync of a node failed"),
                    Err(e) => tracing::error!(error = %e, "power sync task panicked"),
                }
            }
            if last_page {
                return Ok(report);
            }
        }
    }

    /// Syncs a node as listed: the hardware is read without the lock first, and
    /// only when it disagrees with the record (or cannot be read) is the node
    /// locked, read and asked again — a fleet in sync costs no write.
    async fn sync_one(&self, listed: Node) -> Result<Outcome, ConductorError> {
        if let Ok(driver) = self.driver_for(&listed) {
            if let Ok(state) = read_power(&driver, &listed).await {
                let health_changed = self.health_monitoring
                    && read_health(&driver, &listed)
                        .await
                        .is_some_and(|h| h != listed.health);
                if listed.power_state.as_deref() == Some(state.as_str())
                    && listed.fault.as_deref() != Some(POWER_FAILURE)
                    && !health_changed
                {
                    self.failures
                        .0
                        .lock()
                        .expect("failure counts")
                        .remove(&listed.uuid);
                    return Ok(Outcome::Same);
                }
            }
        }
        self.sync_locked(listed.uuid).await
    }

    async fn sync_locked(&self, uuid: NodeId) -> Result<Outcome, ConductorError> {
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
            Ok(driver) => read_power(driver, &node).await,
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
                let round = this.sync_power_states().await;
                metrics::histogram!(crate::metrics::SYNC_ROUND)
                    .record(started.elapsed().as_secs_f64());
                match round {
                    Ok(r) => tracing::info!(
                        checked = r.checked,
                        changed = r.changed,
                        failed = r.failed,
                        faulted = r.faulted,
                        recovered = r.recovered,
                        seconds = started.elapsed().as_secs_f64(),
                        "power sync round"
                    ),
                    Err(e) => {
                        metrics::counter!(crate::metrics::SYNC_FAILED_ROUNDS).increment(1);
                        tracing::warn!(error = %e, "power sync round failed")
                    }
                }
            }
        })
    }
}
