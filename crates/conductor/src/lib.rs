//! The conductor: takes a node's lock (its `reservation` column), moves it through
//! the provision state machine, and runs the work on a bounded pool of workers
//! through the node's driver. The API reaches it through the conductor API
//! (`ferric-conductor-api`), in process when all-in-one and over JSON-RPC
//! otherwise; nothing here assumes the API runs in the same process.

mod agent;
mod allocation;
mod api;
mod configdrive;
mod error;
mod firmware;
pub mod inspection;
pub mod lessee;
mod liveness;
mod lock;
mod management;
pub mod metrics;
mod power;
pub mod power_sync;
mod provision;
mod recovery;
mod registry;
mod shutdown;
mod steps;
mod takeover;
mod timeouts;
pub mod vif;

pub use error::ConductorError;
pub use ferric_conductor_api::{
    AgentHeartbeat, BootSetting, CallError, ConductorApi, Heartbeats, ProvisionRequest,
};
pub use timeouts::WaitTimeouts;

use std::sync::Arc;

use ferric_db::Datastore;
use ferric_types::history::Requester;
use ferric_types::NodeId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Settings of a conductor.
#[derive(Debug, Clone)]
pub struct ConductorConfig {
    /// The name this conductor locks nodes under.
    pub host: String,
    /// The conductor group it serves (nodes of other groups are not its own).
    pub group: String,
    /// How many node operations may run at once; more are refused with 503.
    pub workers: usize,
    /// Where a deployed node's lessee comes from when it has none (Ironic's
    /// `[conductor] automatic_lessee_source`).
    pub automatic_lessee: lessee::LesseeSource,
    /// What inspection does with the NICs it finds (Ironic's `[inspector]`).
    pub inspector: inspection::InspectorSettings,
    /// Read each node's hardware health during power sync (Ironic's
    /// `[conductor] enable_health_monitoring`).
    pub health_monitoring: bool,
    /// The operator's built-in inspection rules and secret masking
    /// (`[inspection_rules]`).
    pub inspection_rules: inspection::rules::RuleSettings,
    /// How often it heartbeats, and when a silent conductor counts as dead.
    pub heartbeats: Heartbeats,
    /// Where its RPC listener answers, for API processes elsewhere.
    pub rpc_url: Option<String>,
    /// The settings and services its nodes' drivers are built with.
    pub drivers: ferric_drivers::Drivers,
}

impl Default for ConductorConfig {
    fn default() -> Self {
        Self {
            host: local_hostname(),
            group: String::new(),
            workers: 100,
            automatic_lessee: lessee::LesseeSource::Instance,
            inspector: inspection::InspectorSettings::default(),
            health_monitoring: true,
            inspection_rules: inspection::rules::RuleSettings::default(),
            heartbeats: Heartbeats::default(),
            rpc_url: None,
            drivers: ferric_drivers::Drivers::default(),
        }
    }
}

/// The machine's host name, or `localhost`.
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A conductor of this process.
#[derive(Clone)]
pub struct Conductor {
    db: Datastore,
    host: Arc<str>,
    group: Arc<str>,
    workers: Arc<Semaphore>,
    /// How many workers it has (the semaphore's permits when idle).
    worker_count: usize,
    failures: Arc<power_sync::FailureCounts>,
    heartbeats: agent::PendingHeartbeats,
    automatic_lessee: lessee::LesseeSource,
    inspector: Arc<inspection::InspectorSettings>,
    health_monitoring: bool,
    rules: Arc<inspection::rules::RuleSettings>,
    /// Its own standing: heartbeats, fencing, draining (the `heartbeats`
    /// above are agents').
    liveness: Arc<liveness::Liveness>,
    rpc_url: Option<Arc<str>>,
    drivers: Arc<ferric_drivers::Drivers>,
}

impl Conductor {
    /// A conductor over `db`. Call [`Conductor::recover`] once before serving.
    pub fn new(db: Datastore, config: ConductorConfig) -> Self {
        Self {
            db,
            automatic_lessee: config.automatic_lessee,
            inspector: Arc::new(config.inspector),
            health_monitoring: config.health_monitoring,
            rules: Arc::new(config.inspection_rules),
            liveness: Arc::new(liveness::Liveness::new(config.heartbeats)),
            rpc_url: config.rpc_url.map(Into::into),
            drivers: Arc::new(config.drivers),
            host: config.host.into(),
            group: config.group.to_ascii_lowercase().into(),
            workers: Arc::new(Semaphore::new(config.workers)),
            worker_count: config.workers,
            failures: Arc::default(),
            heartbeats: Arc::default(),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The driver of `node`, built with this conductor's settings and services.
    pub(crate) fn driver_for(
        &self,
        node: &ferric_types::Node,
    ) -> Result<ferric_drivers::Driver, ferric_drivers::DriverError> {
        self.drivers.for_node(node)
    }

    /// Appends to the node's history what Ferric did by itself; a failure to record
    /// is logged, not fatal.
    pub(crate) async fn record(
        &self,
        node: NodeId,
        severity: &str,
        event_type: &str,
        event: String,
    ) {
        self.record_by(node, severity, event_type, event, &Requester::default())
            .await;
    }

    /// Appends to the node's history what `requester` asked for.
    pub(crate) async fn record_by(
        &self,
        node: NodeId,
        severity: &str,
        event_type: &str,
        event: String,
        requester: &Requester,
    ) {
        let entry = ferric_types::history::HistoryEvent::new(
            node,
            severity,
            event_type,
            event,
            Some(&self.host),
        )
        .by(requester);
        if let Err(e) = self.db.history_record(&entry).await {
            tracing::warn!(node = %node, error = %e, "could not record node history");
        }
    }

    /// A worker slot: `Busy` when every worker is taken, `Unavailable` while the
    /// conductor drains or has lost the database (its peers may be taking its
    /// nodes).
    fn worker(&self) -> Result<OwnedSemaphorePermit, ConductorError> {
        self.accepting()?;
        self.workers.clone().try_acquire_owned().map_err(|_| {
            ::metrics::counter!(crate::metrics::BUSY).increment(1);
            ConductorError::Busy
        })
    }

    /// A worker slot, waiting up to `wait` for one to come free: for a ramdisk's
    /// callback, which a refusal would only send back after its retry interval.
    async fn worker_within(
        &self,
        wait: std::time::Duration,
    ) -> Result<OwnedSemaphorePermit, ConductorError> {
        self.accepting()?;
        match tokio::time::timeout(wait, self.workers.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ConductorError::Busy),
        }
    }

    /// Runs `work` on a task of its own, holding the worker slot `permit`; the
    /// drivers give the slot back while they only wait (`worker_slot`).
    fn spawn_work(
        &self,
        permit: OwnedSemaphorePermit,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let workers = self.workers.clone();
        // In the caller's span: the API request that started the work, so its
        // request id is on every line the work logs.
        let work = tracing::Instrument::in_current_span(work);
        tokio::spawn(ferric_drivers::worker_slot::holding(workers, permit, work));
    }

    /// `Unavailable` while the conductor drains or has lost the database: no new
    /// work starts here (the router takes the call to the next owner).
    pub(crate) fn accepting(&self) -> Result<(), ConductorError> {
        if self.liveness.leaving() {
            return Err(ConductorError::Unavailable(format!(
                "Conductor {} is shutting down; retry, another conductor will take the request.",
                self.host
            )));
        }
        if self.liveness.fenced() {
            return Err(ConductorError::Unavailable(format!(
                "Conductor {} cannot reach its database; retry later.",
                self.host
            )));
        }
        Ok(())
    }
}
