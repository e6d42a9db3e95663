//! The conductor: takes a node's lock (its `reservation` column), moves it through
//! the provision state machine, and runs the work on a bounded pool of workers
//! through the node's driver. The API reaches it through [`ConductorApi`], in process
//! when all-in-one; nothing here assumes the API runs in the same process.

mod agent;
mod allocation;
mod configdrive;
mod error;
mod firmware;
pub mod hash_ring;
pub mod inspection;
pub mod lessee;
mod lock;
mod management;
mod power;
pub mod power_sync;
mod provision;
mod recovery;
mod registry;
mod steps;
mod timeouts;
pub mod vif;

pub use agent::AgentHeartbeat;
pub use error::ConductorError;
pub use management::BootSetting;
pub use provision::ProvisionRequest;
pub use registry::{RingCache, HEARTBEAT_TIMEOUT_SECS};
pub use timeouts::WaitTimeouts;

use std::sync::Arc;
use std::time::Duration;

use ferric_db::Datastore;
use ferric_drivers::{BootDevice, BoxFuture, PowerTarget, Validation};
use ferric_types::history::Requester;
use ferric_types::{AllocationId, NodeId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the API asks of a conductor.
pub trait ConductorApi: Send + Sync {
    /// Starts a provision verb; returns once the node is in the new state, before the
    /// work is done.
    fn provision(
        &self,
        node: NodeId,
        request: ProvisionRequest,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// Starts a power change; returns before it is done.
    fn change_power(
        &self,
        node: NodeId,
        target: PowerTarget,
        timeout: Option<Duration>,
        requester: Requester,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    fn get_boot_device(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Option<BootDevice>, ConductorError>>;
    fn set_boot_device(
        &self,
        node: NodeId,
        device: BootDevice,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    fn supported_boot_devices(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<String>, ConductorError>>;
    fn inject_nmi(&self, node: NodeId) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// Starts working on a new allocation; returns before a node is picked.
    fn allocate(&self, allocation: AllocationId) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// Validates every interface of the node.
    fn validate(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<Validation>, ConductorError>>;
    /// Whether the console is on, and how to reach it.
    fn console(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), ConductorError>>;
    /// Turns the console on or off.
    fn set_console(&self, node: NodeId, enabled: bool)
        -> BoxFuture<'_, Result<(), ConductorError>>;
    /// The node's BIOS settings.
    fn bios(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<(String, serde_json::Value)>, ConductorError>>;
    /// Records the node's target RAID configuration.
    fn set_target_raid(
        &self,
        node: NodeId,
        target: ferric_types::JsonObject,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// The node's vendor passthru methods.
    fn vendor_methods(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::VendorMethod>, ConductorError>>;
    /// Calls a vendor method; `(true, None)` when it runs asynchronously.
    fn vendor_passthru(
        &self,
        node: NodeId,
        method: String,
        http_method: String,
        body: serde_json::Value,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), ConductorError>>;
    /// The node's indicators (LEDs).
    fn indicators(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::Indicator>, ConductorError>>;
    /// The node's virtual media devices and what they hold.
    fn virtual_media(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::VirtualMedia>, ConductorError>>;
    /// Sets one indicator.
    fn set_indicator(
        &self,
        node: NodeId,
        name: String,
        state: String,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// The agent token for a lookup: `Some` when issued now, `None` when the node
    /// already has one.
    fn agent_lookup(&self, node: NodeId) -> BoxFuture<'_, Result<Option<String>, ConductorError>>;
    /// Hands over an agent heartbeat; returns before it is processed.
    fn agent_heartbeat(
        &self,
        node: NodeId,
        heartbeat: AgentHeartbeat,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// Takes the ramdisk agent's inspection data for a node waiting for it; returns
    /// before the inspection finishes.
    fn continue_inspection(
        &self,
        node: NodeId,
        data: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// Changes the boot mode or secure boot.
    fn set_boot_setting(
        &self,
        node: NodeId,
        setting: BootSetting,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    /// The VIFs attached to a node.
    fn vifs(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<String>, ConductorError>>;
    /// Attaches a VIF (a port of the network service) to one of the node's NICs.
    fn vif_attach(
        &self,
        node: NodeId,
        vif: String,
        target: vif::VifTarget,
    ) -> BoxFuture<'_, Result<(), ConductorError>>;
    fn vif_detach(&self, node: NodeId, vif: String) -> BoxFuture<'_, Result<(), ConductorError>>;
}

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
    failures: Arc<power_sync::FailureCounts>,
    heartbeats: agent::PendingHeartbeats,
    automatic_lessee: lessee::LesseeSource,
    inspector: Arc<inspection::InspectorSettings>,
    health_monitoring: bool,
    rules: Arc<inspection::rules::RuleSettings>,
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
            host: config.host.into(),
            group: config.group.to_ascii_lowercase().into(),
            workers: Arc::new(Semaphore::new(config.workers)),
            failures: Arc::default(),
            heartbeats: Arc::default(),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
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

    /// A worker slot, or `Busy` when every worker is taken.
    fn worker(&self) -> Result<OwnedSemaphorePermit, ConductorError> {
        self.workers
            .clone()
            .try_acquire_owned()
            .map_err(|_| ConductorError::Busy)
    }
}

impl ConductorApi for Conductor {
    fn provision(
        &self,
        node: NodeId,
        request: ProvisionRequest,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.start_provision(node, request))
    }

    fn change_power(
        &self,
        node: NodeId,
        target: PowerTarget,
        timeout: Option<Duration>,
        requester: Requester,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.start_power_change(node, target, timeout, requester))
    }

    fn get_boot_device(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Option<BootDevice>, ConductorError>> {
        Box::pin(self.boot_device(node))
    }

    fn set_boot_device(
        &self,
        node: NodeId,
        device: BootDevice,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.apply_boot_device(node, device))
    }

    fn supported_boot_devices(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<String>, ConductorError>> {
        Box::pin(self.boot_devices(node))
    }

    fn inject_nmi(&self, node: NodeId) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.nmi(node))
    }

    fn validate(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<Validation>, ConductorError>> {
        Box::pin(self.validation(node))
    }

    fn console(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), ConductorError>> {
        Box::pin(self.console_info(node))
    }

    fn set_console(
        &self,
        node: NodeId,
        enabled: bool,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.switch_console(node, enabled))
    }

    fn set_boot_setting(
        &self,
        node: NodeId,
        setting: BootSetting,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.apply_boot_setting(node, setting))
    }

    fn bios(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<(String, serde_json::Value)>, ConductorError>> {
        Box::pin(self.bios_settings(node))
    }

    fn set_target_raid(
        &self,
        node: NodeId,
        target: ferric_types::JsonObject,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.store_target_raid(node, target))
    }

    fn vendor_methods(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::VendorMethod>, ConductorError>> {
        Box::pin(self.vendor_methods(node))
    }

    fn vendor_passthru(
        &self,
        node: NodeId,
        method: String,
        http_method: String,
        body: serde_json::Value,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), ConductorError>> {
        Box::pin(self.vendor_call(node, method, http_method, body))
    }

    fn indicators(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::Indicator>, ConductorError>> {
        Box::pin(self.indicator_list(node))
    }

    fn set_indicator(
        &self,
        node: NodeId,
        name: String,
        state: String,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.indicator_set(node, name, state))
    }

    fn virtual_media(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<ferric_drivers::VirtualMedia>, ConductorError>> {
        Box::pin(self.virtual_media(node))
    }

    fn agent_lookup(&self, node: NodeId) -> BoxFuture<'_, Result<Option<String>, ConductorError>> {
        Box::pin(self.issue_agent_token(node))
    }

    fn vifs(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<String>, ConductorError>> {
        Box::pin(Conductor::vifs(self, node))
    }

    fn vif_attach(
        &self,
        node: NodeId,
        vif: String,
        target: vif::VifTarget,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(Conductor::vif_attach(self, node, vif, target))
    }

    fn vif_detach(&self, node: NodeId, vif: String) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(Conductor::vif_detach(self, node, vif))
    }

    fn agent_heartbeat(
        &self,
        node: NodeId,
        heartbeat: AgentHeartbeat,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.accept_heartbeat(node, heartbeat))
    }

    fn continue_inspection(
        &self,
        node: NodeId,
        data: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(self.take_inspection_data(node, data))
    }

    fn allocate(&self, allocation: AllocationId) -> BoxFuture<'_, Result<(), ConductorError>> {
        Box::pin(async move {
            let permit = self.worker()?;
            let this = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = this.process_allocation(allocation).await {
                    tracing::error!(allocation = %allocation, error = %e, "allocation failed");
                    this.fail_allocation(allocation, &e.to_string()).await;
                }
            });
            Ok(())
        })
    }
}
