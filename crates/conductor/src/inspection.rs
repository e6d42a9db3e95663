//! In-band inspection, the conductor's side: the agent's inspection data for a node
//! in `inspect wait` is stored as the node's inventory, turned into the properties
//! scheduling reads (`cpus`, `cpu_arch`, `memory_mb`, `local_gb`), and the node's
//! inspection work runs again to power it off and undo the ramdisk boot. Before the
//! data is stored, Ironic's network hooks complete the node's ports from it
//! (`validate-interfaces`, `ports`, `local-link-connection`, `physical-network`,
//! under the `[inspector]` settings); an inventory none of whose NICs qualifies
//! fails the inspection, as in Ironic.

mod interfaces;
mod local_link;
mod ports;
pub mod rules;
pub mod settings;

use std::time::Duration;

use ferric_drivers::inspect;
use ferric_types::history::INFO;
use ferric_types::provision::ProvisionState;
use ferric_types::{JsonObject, NodeId};
use serde_json::Value;

use crate::{Conductor, ConductorError};
use interfaces::Interfaces;
pub use settings::{AddPorts, CidrMap, InspectorSettings, KeepPorts};

/// How long the data waits for a locked node before the agent is told to retry.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// The properties the inventory tells: CPUs, architecture, memory (MiB) and the
/// root disk's size in GiB, one GiB kept back for partitioning as Ironic does.
/// What the data does not say is left out.
pub fn properties_from(data: &Value) -> JsonObject {
    let mut p = JsonObject::new();
    let inv = &data["inventory"];
    if let Some(n) = inv.pointer("/cpu/count").and_then(Value::as_u64) {
        p.insert("cpus".into(), Value::from(n));
    }
    if let Some(arch) = inv
        .pointer("/cpu/architecture")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        p.insert("cpu_arch".into(), Value::from(arch));
    }
    let memory_mb = inv
        .pointer("/memory/physical_mb")
        .and_then(Value::as_u64)
        .or_else(|| {
            inv.pointer("/memory/total")
                .and_then(Value::as_u64)
                .map(|b| b / MIB)
        });
    if let Some(mb) = memory_mb {
        p.insert("memory_mb".into(), Value::from(mb));
    }
    if let Some(size) = data.pointer("/root_disk/size").and_then(Value::as_u64) {
        p.insert(
            "local_gb".into(),
            Value::from((size / GIB).saturating_sub(1)),
        );
    }
    p
}

impl Conductor {
    /// Inspection data that fails the inspection: the ramdisk has nothing left to
    /// do, so its boot is undone and the machine powered off, as after a timeout.
    async fn fail_inspection(
        &self,
        lock: crate::lock::NodeLock,
        mut node: ferric_types::Node,
        driver: &ferric_drivers::Driver,
        why: String,
    ) {
        crate::provision::drop_ramdisk_boot(driver, &mut node).await;
        self.fail_waiting(lock, node, why).await;
    }

    /// Takes the agent's inspection data for a node in `inspect wait`: stores it,
    /// updates the node's properties, and finishes the inspection on a worker.
    pub(crate) async fn take_inspection_data(
        &self,
        uuid: NodeId,
        data: Value,
    ) -> Result<(), ConductorError> {
        ferric_types::inspection_data::validate(&data).map_err(ConductorError::Invalid)?;
        // A refused ramdisk posts again only after its back-off (5 s, then 10 s…).
        let permit = self.worker_within(LOCK_WAIT).await?;
        let (lock, mut node) = self.lock_patiently(uuid, LOCK_WAIT).await?;
        let booted = node.driver_internal_info.contains_key(inspect::BOOTING);
        if node.provision_state != ProvisionState::InspectWait || !booted {
            let state = node.provision_state;
            lock.release().await;
            return Err(ConductorError::InvalidState(format!(
                "Node {uuid} is in state {state}, not waiting for its inspection ramdisk's data."
            )));
        }
        let driver = match self.driver_for(&node) {
            Ok(d) => d,
            Err(e) => {
                lock.release().await;
                return Err(e.into());
            }
        };
        let found = properties_from(&data);
        let mut plugin_data = data;
        let mut inventory = Value::Null;
        if let Some(parts) = plugin_data.as_object_mut() {
            inventory = parts.remove("inventory").unwrap_or_default();
            // The ramdisk's logs (a journal archive) are not kept: they may hold
            // anything, and the inventory is served to every API client.
            parts.remove("logs");
        }
        let ifaces = match Interfaces::from_inventory(&inventory, self.inspector.add_ports) {
            Ok(i) => i,
            Err(why) => {
                self.fail_inspection(lock, node, &driver, why).await;
                return Ok(());
            }
        };
        let ports = match ports::apply(&self.db, &self.inspector, uuid, &ifaces, &plugin_data).await
        {
            Ok(r) => r,
            Err(e) => {
                lock.release().await;
                return Err(e.into());
            }
        };
        if let Some(parts) = plugin_data.as_object_mut() {
            for (key, value) in ifaces.plugin_data() {
                parts.insert(key.into(), value);
            }
        }
        let summary = found
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .chain(std::iter::once(format!("ports: {ports}")))
            .collect::<Vec<_>>()
            .join(", ");
        node.properties.extend(found);
        match self
            .run_inspection_rules(&mut node, &inventory, &mut plugin_data)
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                self.fail_inspection(lock, node, &driver, why).await;
                return Ok(());
            }
            Err(e) => {
                lock.release().await;
                return Err(e);
            }
        }
        if let Err(e) = self.db.inventory_put(uuid, &inventory, &plugin_data).await {
            lock.release().await;
            return Err(e.into());
        }
        node.driver_internal_info
            .insert(inspect::RECEIVED.into(), Value::Bool(true));
        // Kept before the work resumes: the agent is told its data is in.
        if let Err(e) = lock.save(&node).await {
            lock.release().await;
            return Err(e);
        }
        self.record(
            uuid,
            INFO,
            "inspection",
            format!("Inspection data received from the agent: {summary}"),
        )
        .await;
        tracing::info!(node = %uuid, properties = %summary, "inspection data received");
        let this = self.clone();
        self.spawn_work(permit, async move {
            this.resume(lock, node, driver).await;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_come_from_the_inventory_and_the_root_disk() {
        let data = json!({
            "inventory": {
                "cpu": {"count": 8, "architecture": "x86_64"},
                "memory": {"total": 17_179_869_184u64, "physical_mb": 16384},
                "interfaces": [{"mac_address": "52:54:00:00:00:01"}],
            },
            "root_disk": {"size": 500_107_862_016u64},
        });
        let p = properties_from(&data);
        assert_eq!(p["cpus"], json!(8));
        assert_eq!(p["cpu_arch"], json!("x86_64"));
        assert_eq!(p["memory_mb"], json!(16384));
        assert_eq!(p["local_gb"], json!(464));
    }

    #[test]
    fn missing_facts_are_left_out() {
        let data = json!({"inventory": {"memory": {"total": 2_147_483_648u64}, "interfaces": []}});
        let p = properties_from(&data);
        assert_eq!(p.len(), 1);
        assert_eq!(p["memory_mb"], json!(2048));
    }
}
