//! The `agent` rescue interface: an active node boots the ramdisk on the rescue
//! network; when its agent heartbeats, the agent is given the rescue password
//! (SHA-256-crypt hashed by the conductor) and stops, the ramdisk's boot files and
//! the rescue network go, and the node — still running the ramdisk — is put back on
//! its tenant networks for its owner to log in. Unrescue powers it off and boots
//! its instance again. Other work goes to the hardware type's own work interface.

use std::sync::Arc;

use ferric_types::Node;
use serde_json::{json, Value};

use crate::agent_client::{self, forget_agent};
use crate::direct::DirectDeploy;
use crate::interfaces::{BoxFuture, DriverError, PowerTarget, WorkInterface, WorkKind};
use crate::steps::StepOutcome;

/// `driver_internal_info` key set while the rescue ramdisk boots.
pub const BOOTING: &str = "rescue_ramdisk_booting";
/// `instance_info` key of the hashed rescue password.
pub const HASHED_PASSWORD: &str = "hashed_rescue_password";

/// The `agent` rescue interface over the node's power, management, network and boot.
pub struct AgentRescue {
    /// Runs the work that is not rescue.
    pub other: Arc<dyn WorkInterface>,
    pub parts: DirectDeploy,
}

impl AgentRescue {
    /// First pass: off the tenant networks, onto the rescue network, into the ramdisk.
    async fn boot_rescue_ramdisk(&self, node: &mut Node) -> Result<StepOutcome, DriverError> {
        if !node.instance_info.contains_key(HASHED_PASSWORD) {
            return Err(DriverError::Config(format!(
                "node {} has no rescue password to give its rescue ramdisk",
                node.uuid
            )));
        }
        let p = &self.parts;
        p.power
            .set_power_state(node, PowerTarget::Off, None)
            .await?;
        p.boot.clean_up_instance(node).await?;
        p.network.unconfigure_tenant_networks(node).await?;
        p.network.add_network(node, "rescue").await?;
        p.boot_ramdisk(node).await?;
        node.driver_internal_info
            .insert(BOOTING.into(), Value::Bool(true));
        Ok(StepOutcome::Wait)
    }

    /// Second pass, after the agent's heartbeat: the password, then the networks.
    async fn finalize(&self, node: &mut Node) -> Result<StepOutcome, DriverError> {
        let password = node
            .instance_info
            .get(HASHED_PASSWORD)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let params = json!({"rescue_password": password, "hashed": true});
        let record = self
            .parts
            .agent
            .command(node, "rescue.finalize_rescue", params, true)
            .await?;
        if record.get("command_status").and_then(Value::as_str) == Some("FAILED") {
            return Err(DriverError::Hardware(format!(
                "the agent could not set the rescue password: {}",
                agent_client::error_text(&record)
            )));
        }
        node.driver_internal_info.remove(BOOTING);
        // The agent stops serving once it has the password.
        forget_agent(node);
        self.clean_up(node).await?;
        self.parts.network.configure_tenant_networks(node).await?;
        Ok(StepOutcome::Done)
    }

    /// Removes the ramdisk's boot files and takes the node off the rescue network.
    async fn clean_up(&self, node: &mut Node) -> Result<(), DriverError> {
        self.parts.boot.clean_up_ramdisk(node).await?;
        self.parts.network.remove_network(node, "rescue").await
    }

    async fn unrescue(&self, node: &mut Node) -> Result<StepOutcome, DriverError> {
        let p = &self.parts;
        p.power
            .set_power_state(node, PowerTarget::Off, None)
            .await?;
        node.driver_internal_info.remove(BOOTING);
        forget_agent(node);
        self.clean_up(node).await?;
        p.network.configure_tenant_networks(node).await?;
        p.boot_from_disk(node).await?;
        p.power.set_power_state(node, PowerTarget::On, None).await?;
        Ok(StepOutcome::Done)
    }
}

impl WorkInterface for AgentRescue {
    fn run<'a>(
        &'a self,
        node: &'a mut Node,
        kind: WorkKind,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            match kind {
                WorkKind::Rescue if node.driver_internal_info.contains_key(BOOTING) => {
                    self.finalize(node).await
                }
                WorkKind::Rescue => self.boot_rescue_ramdisk(node).await,
                WorkKind::Unrescue => self.unrescue(node).await,
                other => self.other.run(node, other).await,
            }
        })
    }
}
