//! Ironic's `ports`, `local-link-connection` and `physical-network` inspection hooks
//! applied to a node's ports in one pass, so each port is written at most once:
//! a port is created for each NIC `add_ports` picked (a MAC some port already has
//! is left alone), ports `keep_ports` does not keep are deleted, and every port of
//! a NIC in the inventory gets `pxe_enabled` set to whether the machine booted from
//! it (`update_pxe_enabled`), the DHCP `client-id` the NIC reported, the switch
//! link its LLDP names (only the `local_link_connection` keys it lacks) and the
//! physical network of the first of its addresses the CIDR map knows. A port that
//! cannot be written is logged and skipped, as in Ironic.

use std::collections::BTreeSet;

use ferric_db::{Cond, Datastore, DbError, ListQuery, UpdateOutcome};
use ferric_types::{MacAddress, NodeId, Port, PortId, Timestamp};
use serde_json::Value;

use super::interfaces::{Interface, Interfaces};
use super::local_link::link_for;
use super::settings::{AddPorts, InspectorSettings, KeepPorts};

/// What the pass did to the node's ports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortReport {
    pub created: usize,
    pub deleted: usize,
    pub updated: usize,
    /// Ports that got (part of) a switch link from LLDP.
    pub linked: usize,
}

impl std::fmt::Display for PortReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} deleted, {} updated, {} linked to their switch port",
            self.created, self.deleted, self.updated, self.linked
        )
    }
}

/// Brings `port` in line with its NIC; true when something changed. Whether a
/// link was added is counted into `linked`.
fn apply_nic(
    port: &mut Port,
    iface: &Interface,
    settings: &InspectorSettings,
    node: NodeId,
    plugin_data: &Value,
    linked: &mut usize,
) -> bool {
    let mut changed = false;
    if settings.update_pxe_enabled && port.pxe_enabled != iface.pxe {
        port.pxe_enabled = iface.pxe;
        changed = true;
    }
    if let Some(id) = &iface.client_id {
        if port.extra.get("client-id").and_then(Value::as_str) != Some(id) {
            port.extra
                .insert("client-id".into(), Value::from(id.as_str()));
            changed = true;
        }
    }
    if let Some(link) = link_for(node, iface, plugin_data) {
        if link.fill(&mut port.local_link_connection) {
            *linked += 1;
            changed = true;
        }
    }
    if let Some(physnet) = settings
        .physical_network_cidr_map
        .physical_network(&iface.addresses)
    {
        if port.physical_network.as_deref() != Some(physnet) {
            port.physical_network = Some(physnet.to_string());
            changed = true;
        }
    }
    changed
}

/// The node's ports.
async fn ports_of(db: &Datastore, node: NodeId) -> Result<Vec<Port>, DbError> {
    db.port_list(&ListQuery {
        conds: vec![Cond::Eq("node_uuid", node.to_string().into())],
        ..ListQuery::default()
    })
    .await
}

/// Creates the ports `add_ports` asks for, already carrying what the other hooks
/// would set.
async fn add_ports(
    db: &Datastore,
    settings: &InspectorSettings,
    node: NodeId,
    ifaces: &Interfaces,
    plugin_data: &Value,
    known: &BTreeSet<MacAddress>,
    report: &mut PortReport,
) -> Result<(), DbError> {
    for iface in ifaces.added.iter().filter(|i| !known.contains(&i.mac)) {
        let mut port = Port::new(PortId::new_v4(), iface.mac.clone(), node, Timestamp::now());
        port.pxe_enabled = iface.pxe;
        apply_nic(
            &mut port,
            iface,
            settings,
            node,
            plugin_data,
            &mut report.linked,
        );
        match db.port_create(&port).await {
            Ok(()) => {
                report.created += 1;
                tracing::info!(node = %node, address = %iface.mac, pxe = iface.pxe, "port created from the inventory");
            }
            Err(DbError::Duplicate(_)) => {
                tracing::info!(node = %node, address = %iface.mac, "a port already exists for this MAC address");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs the hooks over the node's ports.
pub async fn apply(
    db: &Datastore,
    settings: &InspectorSettings,
    node: NodeId,
    ifaces: &Interfaces,
    plugin_data: &Value,
) -> Result<PortReport, DbError> {
    let mut report = PortReport::default();
    let before = ports_of(db, node).await?;
    if settings.add_ports != AddPorts::Disabled {
        let known: BTreeSet<MacAddress> = before.iter().map(|p| p.address.clone()).collect();
        add_ports(db, settings, node, ifaces, plugin_data, &known, &mut report).await?;
    }
    let expected: BTreeSet<&MacAddress> = match settings.keep_ports {
        KeepPorts::All => BTreeSet::new(),
        KeepPorts::Present => ifaces.all.iter().map(|i| &i.mac).collect(),
        KeepPorts::Added => ifaces.added.iter().map(|i| &i.mac).collect(),
    };
    for mut port in before {
        // As in Ironic, an empty expectation deletes nothing.
        if !expected.is_empty() && !expected.contains(&port.address) {
            match db.port_delete(port.uuid).await {
                Ok(()) | Err(DbError::NotFound) => {
                    report.deleted += 1;
                    tracing::info!(node = %node, port = %port.uuid, address = %port.address, keep_ports = ?settings.keep_ports, "port deleted: its MAC is not among the expected ones");
                }
                Err(e) => {
                    tracing::warn!(node = %node, port = %port.uuid, error = %e, "could not delete a port inspection did not keep")
                }
            }
            continue;
        }
        let changed = match ifaces.by_mac(&port.address) {
            Some(iface) => apply_nic(
                &mut port,
                iface,
                settings,
                node,
                plugin_data,
                &mut report.linked,
            ),
            // A port of no NIC in the inventory: the machine did not boot from it.
            None if settings.update_pxe_enabled && port.pxe_enabled => {
                port.pxe_enabled = false;
                true
            }
            None => false,
        };
        if !changed {
            continue;
        }
        let read = port.updated_at;
        port.updated_at = Some(Timestamp::after(read));
        match db.port_update(&port, read).await {
            Ok(UpdateOutcome::Updated) => report.updated += 1,
            Ok(outcome) => {
                tracing::warn!(node = %node, port = %port.uuid, ?outcome, "a port changed under inspection; left as it is")
            }
            Err(e) => {
                tracing::warn!(node = %node, port = %port.uuid, error = %e, "could not update a port from the inventory")
            }
        }
    }
    Ok(report)
}
