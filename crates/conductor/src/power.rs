//! Power changes through the node's driver, recorded in the node's history.

use std::time::Duration;

use ferric_drivers::PowerTarget;
use ferric_types::history::Requester;
use ferric_types::NodeId;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

impl Conductor {
    pub(crate) async fn start_power_change(
        &self,
        uuid: NodeId,
        target: PowerTarget,
        timeout: Option<Duration>,
        requester: Requester,
    ) -> Result<(), ConductorError> {
        let permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let driver = match self.driver_for(&node) {
            Ok(d) => d,
            Err(e) => {
                lock.release().await;
                return Err(ConductorError::Invalid(e.to_string()));
            }
        };
        if node.disable_power_off && matches!(target, PowerTarget::Off | PowerTarget::SoftOff) {
            lock.release().await;
            return Err(ConductorError::Conflict(format!(
                "Failed to set node power state to {}: node {uuid} has disable_power_off set.",
                target.final_state()
            )));
        }
        node.target_power_state = Some(target.final_state().to_string());
        node.last_error = None;
        lock.save(&node).await?;
        let this = self.clone();
        self.spawn_work(permit, async move {
            let result = driver
                .power
                .set_power_state(&mut node, target, timeout)
                .await;
            node.target_power_state = None;
            if result.is_ok() && target != PowerTarget::On {
                // The ramdisk (if any) is gone: its next boot gets a fresh token.
                ferric_drivers::agent_client::forget_agent(&mut node);
            }
            if let Err(e) = result {
                tracing::warn!(node = %node.uuid, error = %e, "power change failed");
                node.last_error = Some(format!(
                    "Failed to change power state to '{}' of node {}: {e}",
                    target.final_state(),
                    node.uuid
                ));
            }
            if let Err(e) = lock.save(&node).await {
                tracing::error!(node = %node.uuid, error = %e, "could not record the power state");
            }
            let (severity, event) = match &node.last_error {
                Some(err) => (ferric_types::history::ERROR, err.clone()),
                None => (
                    ferric_types::history::INFO,
                    format!("Power state changed to \"{}\"", target.final_state()),
                ),
            };
            this.record_by(node.uuid, severity, "power", event, &requester)
                .await;
            lock.release().await;
        });
        Ok(())
    }
}
