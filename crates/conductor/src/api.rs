//! The conductor's side of the conductor API: each call, served by this
//! conductor, its failures turned into the errors that travel between processes.

use std::time::Duration;

use ferric_conductor_api::{
    AgentHeartbeat, BootSetting, BoxFuture, CallError, ConductorApi, ErrorKind, ProvisionRequest,
    VifTarget,
};
use ferric_drivers::DriverError;
use ferric_types::history::Requester;
use ferric_types::management::{
    BootDevice, Indicator, PowerTarget, Validation, VendorMethod, VirtualMedia,
};
use ferric_types::{AllocationId, NodeId};

use crate::{Conductor, ConductorError};

impl From<ConductorError> for CallError {
    fn from(e: ConductorError) -> Self {
        let e = match e {
            ConductorError::Db(db) => return db.into(),
            other => other,
        };
        let kind = match &e {
            ConductorError::NodeNotFound(_) => ErrorKind::NotFound,
            ConductorError::Locked { .. } => ErrorKind::Locked,
            ConductorError::InvalidState(_) => ErrorKind::InvalidState,
            ConductorError::Invalid(_) => ErrorKind::Invalid,
            ConductorError::Conflict(_) => ErrorKind::Conflict,
            ConductorError::Busy => ErrorKind::Unavailable,
            // Refused before anything ran (it is leaving, or cut off from its
            // database): the router may take the call to the next owner.
            ConductorError::Unavailable(_) => ErrorKind::Unreachable,
            ConductorError::Driver(DriverError::Unsupported(_)) => ErrorKind::Unsupported,
            ConductorError::Driver(DriverError::Config(_)) => ErrorKind::Invalid,
            ConductorError::Driver(DriverError::Hardware(_)) => ErrorKind::Hardware,
            ConductorError::Db(_) => ErrorKind::Internal,
        };
        CallError::new(kind, e.to_string())
    }
}

impl ConductorApi for Conductor {
    fn provision(
        &self,
        node: NodeId,
        request: ProvisionRequest,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.start_provision(node, request)
                .await
                .map_err(CallError::from)
        })
    }

    fn change_power(
        &self,
        node: NodeId,
        target: PowerTarget,
        timeout: Option<Duration>,
        requester: Requester,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.start_power_change(node, target, timeout, requester)
                .await
                .map_err(CallError::from)
        })
    }

    fn get_boot_device(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Option<BootDevice>, CallError>> {
        Box::pin(async move { self.boot_device(node).await.map_err(CallError::from) })
    }

    fn set_boot_device(
        &self,
        node: NodeId,
        device: BootDevice,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.apply_boot_device(node, device)
                .await
                .map_err(CallError::from)
        })
    }

    fn supported_boot_devices(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<String>, CallError>> {
        Box::pin(async move { self.boot_devices(node).await.map_err(CallError::from) })
    }

    fn inject_nmi(&self, node: NodeId) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move { self.nmi(node).await.map_err(CallError::from) })
    }

    fn validate(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<Validation>, CallError>> {
        Box::pin(async move { self.validation(node).await.map_err(CallError::from) })
    }

    fn console(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), CallError>> {
        Box::pin(async move { self.console_info(node).await.map_err(CallError::from) })
    }

    fn set_console(&self, node: NodeId, enabled: bool) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.switch_console(node, enabled)
                .await
                .map_err(CallError::from)
        })
    }

    fn set_boot_setting(
        &self,
        node: NodeId,
        setting: BootSetting,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.apply_boot_setting(node, setting)
                .await
                .map_err(CallError::from)
        })
    }

    fn bios(
        &self,
        node: NodeId,
    ) -> BoxFuture<'_, Result<Vec<(String, serde_json::Value)>, CallError>> {
        Box::pin(async move { self.bios_settings(node).await.map_err(CallError::from) })
    }

    fn set_target_raid(
        &self,
        node: NodeId,
        target: ferric_types::JsonObject,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.store_target_raid(node, target)
                .await
                .map_err(CallError::from)
        })
    }

    fn vendor_methods(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<VendorMethod>, CallError>> {
        Box::pin(async move { self.vendor_methods(node).await.map_err(CallError::from) })
    }

    fn vendor_passthru(
        &self,
        node: NodeId,
        method: String,
        http_method: String,
        body: serde_json::Value,
    ) -> BoxFuture<'_, Result<(bool, Option<serde_json::Value>), CallError>> {
        Box::pin(async move {
            self.vendor_call(node, method, http_method, body)
                .await
                .map_err(CallError::from)
        })
    }

    fn indicators(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<Indicator>, CallError>> {
        Box::pin(async move { self.indicator_list(node).await.map_err(CallError::from) })
    }

    fn set_indicator(
        &self,
        node: NodeId,
        name: String,
        state: String,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.indicator_set(node, name, state)
                .await
                .map_err(CallError::from)
        })
    }

    fn virtual_media(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<VirtualMedia>, CallError>> {
        Box::pin(async move { self.virtual_media(node).await.map_err(CallError::from) })
    }

    fn agent_lookup(&self, node: NodeId) -> BoxFuture<'_, Result<Option<String>, CallError>> {
        Box::pin(async move {
            self.accepting().map_err(CallError::from)?;
            self.issue_agent_token(node).await.map_err(CallError::from)
        })
    }

    fn vifs(&self, node: NodeId) -> BoxFuture<'_, Result<Vec<String>, CallError>> {
        Box::pin(async move { Conductor::vifs(self, node).await.map_err(CallError::from) })
    }

    fn vif_attach(
        &self,
        node: NodeId,
        vif: String,
        target: VifTarget,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.accepting().map_err(CallError::from)?;
            Conductor::vif_attach(self, node, vif, target)
                .await
                .map_err(CallError::from)
        })
    }

    fn vif_detach(&self, node: NodeId, vif: String) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.accepting().map_err(CallError::from)?;
            Conductor::vif_detach(self, node, vif)
                .await
                .map_err(CallError::from)
        })
    }

    fn agent_heartbeat(
        &self,
        node: NodeId,
        heartbeat: AgentHeartbeat,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.accepting().map_err(CallError::from)?;
            self.accept_heartbeat(node, heartbeat)
                .await
                .map_err(CallError::from)
        })
    }

    fn continue_inspection(
        &self,
        node: NodeId,
        data: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            self.accepting().map_err(CallError::from)?;
            self.take_inspection_data(node, data)
                .await
                .map_err(CallError::from)
        })
    }

    fn allocate(&self, allocation: AllocationId) -> BoxFuture<'_, Result<(), CallError>> {
        Box::pin(async move {
            let permit = self.worker().map_err(CallError::from)?;
            let this = self.clone();
            self.spawn_work(permit, async move {
                if let Err(e) = this.process_allocation(allocation).await {
                    tracing::error!(allocation = %allocation, error = %e, "allocation failed");
                    this.fail_allocation(allocation, &e.to_string()).await;
                }
            });
            Ok(())
        })
    }
}
