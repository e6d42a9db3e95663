//! Power control for a node with `disable_power_off` (API 1.95): the machine is
//! never switched off. The conductor's own power-offs (before a deploy, after an
//! inspection, at teardown) are skipped, and a power-on of a running machine
//! becomes a reboot, so "power off, change the boot device, power on" turns into
//! "change the boot device, reboot", as Ironic does for such nodes. Operators'
//! power-off requests are refused before they get here.

use std::sync::Arc;
use std::time::Duration;

use ferric_types::power::POWER_ON;
use ferric_types::Node;

use crate::interfaces::{BoxFuture, DriverError, PowerInterface, PowerTarget};

/// Wraps a node's power interface when the node must stay powered.
pub fn for_node(node: &Node, power: Arc<dyn PowerInterface>) -> Arc<dyn PowerInterface> {
    if node.disable_power_off {
        Arc::new(KeepPowered(power))
    } else {
        power
    }
}

struct KeepPowered(Arc<dyn PowerInterface>);

impl PowerInterface for KeepPowered {
    fn get_power_state<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<String, DriverError>> {
        self.0.get_power_state(node)
    }

    fn set_power_state<'a>(
        &'a self,
        node: &'a mut Node,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            match target {
                PowerTarget::Off | PowerTarget::SoftOff => {
                    tracing::debug!(node = %node.uuid, "power-off skipped: disable_power_off is set");
                    Ok(())
                }
                PowerTarget::On => {
                    let now = self.0.get_power_state(node).await?;
                    let target = if now == POWER_ON {
                        PowerTarget::Reboot
                    } else {
                        PowerTarget::On
                    };
                    self.0.set_power_state(node, target, timeout).await
                }
                other => self.0.set_power_state(node, other, timeout).await,
            }
        })
    }

    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        self.0.validate(node)
    }
}
