//! The conductor's metrics, recorded through the `metrics` facade: the worker
//! pool, node-lock conflicts and waits, power-sync rounds, agent heartbeats, the
//! steps it runs and the time nodes spend in each provision state.

use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

use crate::Conductor;

pub(crate) const WORKERS: &str = "ferric_conductor_workers";
pub(crate) const WORKERS_BUSY: &str = "ferric_conductor_workers_busy";
pub(crate) const BUSY: &str = "ferric_conductor_busy_refusals_total";
pub(crate) const LOCK_CONFLICTS: &str = "ferric_node_lock_conflicts_total";
pub(crate) const LOCK_WAIT: &str = "ferric_node_lock_wait_seconds";
pub(crate) const SYNC_ROUND: &str = "ferric_power_sync_round_seconds";
pub(crate) const SYNC_NODES: &str = "ferric_power_sync_nodes_total";
pub(crate) const SYNC_FAILED_ROUNDS: &str = "ferric_power_sync_failed_rounds_total";
pub(crate) const HEARTBEATS: &str = "ferric_agent_heartbeats_total";
pub(crate) const STEP: &str = "ferric_step_seconds";
pub(crate) const STATE: &str = "ferric_provision_state_seconds";

/// Gives every conductor metric its help text and a first value, so that a
/// scrape shows them before anything happened (a rate over a series that does
/// not exist yet is no rate at all). Call once the recorder is installed.
pub fn describe() {
    for counter in [BUSY, LOCK_CONFLICTS, SYNC_FAILED_ROUNDS] {
        metrics::counter!(counter).increment(0);
    }
    for outcome in ["same", "changed", "failed", "faulted", "recovered"] {
        metrics::counter!(SYNC_NODES, "outcome" => outcome).increment(0);
    }
    for outcome in ["processed", "superseded", "locked", "stale_token"] {
        metrics::counter!(HEARTBEATS, "outcome" => outcome).increment(0);
    }
    // A histogram registered without a sample renders with zero counts.
    let _ = metrics::histogram!(SYNC_ROUND);
    for outcome in ["acquired", "gave_up"] {
        let _ = metrics::histogram!(LOCK_WAIT, "outcome" => outcome);
    }
    describe_gauge!(WORKERS, "Workers of this process's conductor.");
    describe_gauge!(WORKERS_BUSY, "Workers running work now.");
    describe_counter!(
        BUSY,
        "Requests refused because every worker was busy (the API answers 503)."
    );
    describe_counter!(
        LOCK_CONFLICTS,
        "Times an operation found a node locked by another (a wait that polls counts once)."
    );
    describe_histogram!(
        LOCK_WAIT,
        Unit::Seconds,
        "Time waited for a held node lock (heartbeats, lookups), by outcome."
    );
    describe_histogram!(SYNC_ROUND, Unit::Seconds, "Duration of a power-sync round.");
    describe_counter!(
        SYNC_NODES,
        "Nodes checked by power sync, by outcome (same, changed, failed, faulted, recovered)."
    );
    describe_counter!(SYNC_FAILED_ROUNDS, "Power-sync rounds that failed.");
    describe_counter!(
        HEARTBEATS,
        "Agent heartbeats, by outcome (processed, superseded by a newer one, dropped because the node stayed locked or the token was stale)."
    );
    describe_histogram!(
        STEP,
        Unit::Seconds,
        "Time the conductor spent running a step, by phase, step and outcome (done, reboot, continues on the agent, failed)."
    );
    describe_histogram!(
        STATE,
        Unit::Seconds,
        "Time a node spent in a provision state, recorded when it leaves it."
    );
}

pub(crate) fn heartbeat(outcome: &'static str) {
    metrics::counter!(HEARTBEATS, "outcome" => outcome).increment(1);
}

pub(crate) fn lock_wait(waited: Duration, acquired: bool) {
    let outcome = if acquired { "acquired" } else { "gave_up" };
    metrics::histogram!(LOCK_WAIT, "outcome" => outcome).record(waited.as_secs_f64());
}

impl Conductor {
    /// Sets the worker-pool gauges: call before a scrape.
    pub fn record_worker_use(&self) {
        let busy = self.worker_count - self.workers.available_permits();
        metrics::gauge!(WORKERS).set(self.worker_count as f64);
        metrics::gauge!(WORKERS_BUSY).set(busy as f64);
    }
}
