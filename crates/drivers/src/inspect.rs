//! The `agent` inspect interface: a manageable node boots the deploy ramdisk (on
//! the inspection network when its network interface has one), whose agent posts
//! its hardware inventory to `/v1/continue_inspection`; the conductor records it
//! and runs the inspection again, which powers the node off, removes the ramdisk's
//! boot files and takes the node off the inspection network. Other work goes to the
//! wrapped work interface.

use std::sync::Arc;

use ferric_types::Node;
use serde_json::Value;

use crate::agent_client::forget_agent;
use crate::direct::DirectDeploy;
use crate::interfaces::{BoxFuture, DriverError, PowerTarget, WorkInterface, WorkKind};
use crate::steps::StepOutcome;

/// `driver_internal_info` key set while the inspection ramdisk boots.
pub const BOOTING: &str = "inspection_ramdisk_booting";
/// `driver_internal_info` key set by the conductor once the agent's data is in.
pub const RECEIVED: &str = "inspection_data_received";

/// Forgets the node's inspection ramdisk and its agent (finished, failed, aborted
/// or started afresh); whether one was booted.
pub fn forget_ramdisk(node: &mut Node) -> bool {
    let booted = node.driver_internal_info.remove(BOOTING).is_some();
    node.driver_internal_info.remove(RECEIVED);
    forget_agent(node);
    booted
}

/// The `agent` inspect interface over the node's power, management, network and boot.
pub struct AgentInspect {
    /// Runs the work that is not inspection.
    pub other: Arc<dyn WorkInterface>,
    pub parts: DirectDeploy,
}

impl AgentInspect {
    /// First pass: onto the inspection network, into the ramdisk; then wait.
    async fn boot_ramdisk(&self, node: &mut Node) -> Result<StepOutcome, DriverError> {
        let p = &self.parts;
        p.power
            .set_power_state(node, PowerTarget::Off, None)
            .await?;
        p.network.add_network(node, "inspection").await?;
        p.boot_ramdisk(node).await?;
        node.driver_internal_info
            .insert(BOOTING.into(), Value::Bool(true));
        Ok(StepOutcome::Wait)
    }

    /// Second pass, once the data is recorded: power off and undo the boot.
    async fn finish(&self, node: &mut Node) -> Result<StepOutcome, DriverError> {
        self.parts
            .power
            .set_power_state(node, PowerTarget::Off, None)
            .await?;
        self.clean_up(node).await?;
        Ok(StepOutcome::Done)
    }

    /// Removes what the first pass set up.
    async fn clean_up(&self, node: &mut Node) -> Result<(), DriverError> {
        forget_ramdisk(node);
        self.parts.boot.clean_up_ramdisk(node).await?;
        self.parts.network.remove_network(node, "inspection").await
    }
}

impl WorkInterface for AgentInspect {
    fn run<'a>(
        &'a self,
        node: &'a mut Node,
        kind: WorkKind,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            match kind {
                WorkKind::Inspect if node.driver_internal_info.contains_key(RECEIVED) => {
                    self.finish(node).await
                }
                WorkKind::Inspect => self.boot_ramdisk(node).await,
                other => self.other.run(node, other).await,
            }
        })
    }
}
