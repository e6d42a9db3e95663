//! VIF attachment (`/v1/nodes/{node}/vifs`): a tenant's VIF port of the network
//! service is tied to one of the node's port groups or ports — a free one
//! (`internal_info.tenant_vif_port_id` unset), on the VIF network's physical network,
//! port groups before ports, pxe-enabled first — which records it; the VIF takes
//! that NIC's MAC (a bond's is its own or its first port's) and is bound to the node
//! (`binding:host_id`, `binding:vnic_type` baremetal). Detaching clears both sides.
//! With an external Neutron the VIF is its port: it takes the NIC's MAC at attach,
//! is bound at the tenant flip, and is unbound (and given a MAC of its own) at detach.
//! With the `noop` network interface (and `flat`, for an id no network service
//! knows) the VIF id is only recorded on the NIC, as Ironic's non-Neutron
//! interfaces do.

use ferric_db::{DbError, UpdateOutcome};
use ferric_types::net::{Network, VifPort};
use ferric_types::{Node, NodeId, Port, PortGroup, Timestamp, VifPortId};
use serde_json::Value;

pub use ferric_conductor_api::VifTarget;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

pub use ferric_net::service::TENANT_VIF_KEY;
use ferric_net::service::{is_on, tenant_vif};

/// A NIC the VIF can go on.
enum Slot {
    Group(PortGroup),
    Single(Port),
}

impl Conductor {
    async fn node_nics(&self, node: NodeId) -> Result<(Vec<PortGroup>, Vec<Port>), ConductorError> {
        Ok(self.db.nics_of(node).await?)
    }

    /// The VIFs attached to `node`.
    pub(crate) async fn vifs(&self, node: NodeId) -> Result<Vec<String>, ConductorError> {
        self.db.node_get(node).await.map_err(|e| match e {
            DbError::NotFound => ConductorError::NodeNotFound(node.to_string()),
            other => other.into(),
        })?;
        let (groups, ports) = self.node_nics(node).await?;
        Ok(groups
            .iter()
            .filter_map(|g| tenant_vif(&g.internal_info))
            .chain(ports.iter().filter_map(|p| tenant_vif(&p.internal_info)))
            .map(str::to_string)
            .collect())
    }

    async fn find_vif(&self, id: &str) -> Result<(VifPort, Network), ConductorError> {
        let missing = || {
            ConductorError::Invalid(format!(
                "Unable to attach VIF {id}: the network service has no port {id}."
            ))
        };
        let uuid: VifPortId = id.parse().map_err(|_| missing())?;
        let vif = self.db.vif_port_get(uuid).await.map_err(|e| match e {
            DbError::NotFound => missing(),
            other => other.into(),
        })?;
        let network = self.db.network_get(vif.network_uuid).await?;
        Ok((vif, network))
    }

    pub(crate) async fn vif_attach(
        &self,
        uuid: NodeId,
        id: String,
        target: VifTarget,
    ) -> Result<(), ConductorError> {
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let mut result = self.attach_locked(&node, &id, target).await;
        if result.is_ok() && is_on(&node, "tenant") {
            // A deployed node: the new VIF is plugged in at once.
            result = self.replug_tenant(&lock, &mut node).await;
        }
        lock.release().await;
        result
    }

    /// Re-binds a deployed node's tenant networks after its VIFs changed.
    async fn replug_tenant(&self, lock: &NodeLock, node: &mut Node) -> Result<(), ConductorError> {
        let driver = self.driver_for(node)?;
        let result = driver.network.configure_tenant_networks(node).await;
        lock.save(node).await?;
        Ok(result?)
    }

    /// Whether attaching `id` to `node` only records it, as Ironic's non-Neutron
    /// interfaces do: always with `noop`; with `flat` when no Neutron is configured
    /// and the id is not a port of Ferric's own network service.
    async fn records_only(&self, node: &Node, id: &str) -> Result<bool, ConductorError> {
        match node.network_interface.as_deref() {
            Some("noop") => Ok(true),
            Some("flat") if self.drivers.external.clone().is_none() => {
                let Ok(uuid) = id.parse::<VifPortId>() else {
                    return Ok(true);
                };
                match self.db.vif_port_get(uuid).await {
                    Ok(_) => Ok(false),
                    Err(DbError::NotFound) => Ok(true),
                    Err(e) => Err(e.into()),
                }
            }
            _ => Ok(false),
        }
    }

    /// Records the VIF on a free NIC of the node, asking no network service.
    async fn attach_recorded(
        &self,
        node: &Node,
        id: &str,
        target: VifTarget,
    ) -> Result<(), ConductorError> {
        if id.is_empty() || id.len() > 255 {
            return Err(ConductorError::Invalid(format!(
                "Unable to attach VIF '{id}': a VIF id is 1 to 255 characters"
            )));
        }
        let (slot, _) = self.free_slot(node, id, None, target).await?;
        self.record_vif(slot, Some(id)).await?;
        self.record(
            node.uuid,
            ferric_types::history::INFO,
            "network",
            format!("VIF {id} attached"),
        )
        .await;
        Ok(())
    }

    /// The NIC a VIF goes on (with the node's ports): 409 if it is on one of
    /// them already, 400 if none is free.
    async fn free_slot(
        &self,
        node: &Node,
        id: &str,
        network: Option<&Network>,
        target: VifTarget,
    ) -> Result<(Slot, Vec<Port>), ConductorError> {
        let (groups, ports) = self.node_nics(node.uuid).await?;
        if attached_to(&groups, &ports, id) {
            return Err(ConductorError::Conflict(format!(
                "Unable to attach VIF {id}, VIF is already attached to node {}",
                node.uuid
            )));
        }
        let slot = choose(node, network, &groups, &ports, target).ok_or_else(|| {
            ConductorError::Invalid(format!(
                "Unable to attach VIF {id}, not enough free physical ports."
            ))
        })?;
        Ok((slot, ports))
    }

    async fn attach_locked(
        &self,
        node: &Node,
        id: &str,
        target: VifTarget,
    ) -> Result<(), ConductorError> {
        if self.records_only(node, id).await? {
            return self.attach_recorded(node, id, target).await;
        }
        let external = self.drivers.external.clone();
        let (vif_id, host_id, network, local) = match &external {
            Some(neutron) => {
                let v = neutron
                    .vif(id)
                    .await
                    .map_err(neutron_failed)?
                    .ok_or_else(|| {
                        ConductorError::Invalid(format!(
                            "Unable to attach VIF {id}: Neutron has no port {id}."
                        ))
                    })?;
                (
                    v.id,
                    v.host_id,
                    v.network,
                    Err((neutron.clone(), v.mac_address)),
                )
            }
            None => {
                let (vif, network) = self.find_vif(id).await?;
                (vif.uuid.to_string(), vif.host_id.clone(), network, Ok(vif))
            }
        };
        if network.role != "tenant" {
            return Err(ConductorError::Invalid(format!(
                "Unable to attach VIF {vif_id}: its network {} is a {} network, not a tenant network",
                network.name, network.role
            )));
        }
        // (A VIF already on this node is bound to it: the order of these checks
        // changes no answer.)
        if !host_id.is_empty() && host_id != node.uuid.to_string() {
            return Err(ConductorError::Conflict(format!(
                "Unable to attach VIF {vif_id}: it is bound to {host_id}"
            )));
        }
        let (slot, ports) = self
            .free_slot(node, &vif_id, Some(&network), target)
            .await?;
        let mac = match &slot {
            Slot::Single(p) => p.address.clone(),
            Slot::Group(g) => g
                .address
                .clone()
                .or_else(|| {
                    ports
                        .iter()
                        .find(|p| p.portgroup_uuid == Some(g.uuid))
                        .map(|p| p.address.clone())
                })
                .ok_or_else(|| {
                    ConductorError::Invalid(format!(
                        "Port group {} has no address and no ports: the VIF cannot take its MAC",
                        g.uuid
                    ))
                })?,
        };
        // The VIF is claimed first (a conflicting attach elsewhere loses here), then
        // recorded on the NIC; if that fails the claim is given back.
        match local {
            Ok(mut vif) => {
                let before = vif.clone();
                vif.mac_address = mac;
                vif.vnic_type = "baremetal".into();
                vif.host_id = node.uuid.to_string();
                vif.updated_at = Some(Timestamp::now());
                expect_updated(
                    self.db.vif_port_update(&vif, before.updated_at).await?,
                    "VIF",
                    &vif_id,
                )?;
                if let Err(e) = self.record_vif(slot, Some(&vif_id)).await {
                    let mut back = before;
                    back.updated_at = Some(Timestamp::now());
                    if let Err(undo) = self.db.vif_port_update(&back, vif.updated_at).await {
                        tracing::warn!(vif = %vif_id, error = %undo, "could not give a VIF back");
                    }
                    return Err(e);
                }
            }
            Err((neutron, old_mac)) => {
                neutron
                    .claim_vif(&vif_id, &mac)
                    .await
                    .map_err(neutron_failed)?;
                if let Err(e) = self.record_vif(slot, Some(&vif_id)).await {
                    if let Err(undo) = neutron.give_back_vif(&vif_id, &old_mac).await {
                        tracing::warn!(vif = %vif_id, error = %undo, "could not give a VIF back");
                    }
                    return Err(e);
                }
            }
        }
        self.record(
            node.uuid,
            ferric_types::history::INFO,
            "network",
            format!("VIF {vif_id} attached"),
        )
        .await;
        Ok(())
    }

    pub(crate) async fn vif_detach(&self, uuid: NodeId, id: String) -> Result<(), ConductorError> {
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = if is_on(&node, "tenant") {
            // A deployed node: its switch ports leave the tenant networks before the
            // VIF goes, and the remaining VIFs are plugged in again.
            match self.unplug_tenant(&lock, &mut node).await {
                Ok(()) => match self.detach_locked(&node, &id).await {
                    Ok(()) => self.replug_tenant(&lock, &mut node).await,
                    Err(e) => self.replug_tenant(&lock, &mut node).await.and(Err(e)),
                },
                Err(e) => Err(e),
            }
        } else {
            self.detach_locked(&node, &id).await
        };
        lock.release().await;
        result
    }

    async fn unplug_tenant(&self, lock: &NodeLock, node: &mut Node) -> Result<(), ConductorError> {
        let driver = self.driver_for(node)?;
        let result = driver.network.unconfigure_tenant_networks(node).await;
        lock.save(node).await?;
        Ok(result?)
    }

    async fn detach_locked(&self, node: &Node, id: &str) -> Result<(), ConductorError> {
        let (groups, ports) = self.node_nics(node.uuid).await?;
        let not_attached = || {
            ConductorError::Invalid(format!(
                "Unable to detach VIF {id} from node {}, VIF is not attached",
                node.uuid
            ))
        };
        let now = Timestamp::now();
        let slot = match groups
            .into_iter()
            .find(|g| tenant_vif(&g.internal_info) == Some(id))
        {
            Some(g) => Slot::Group(g),
            None => ports
                .into_iter()
                .find(|p| tenant_vif(&p.internal_info) == Some(id))
                .map(Slot::Single)
                .ok_or_else(not_attached)?,
        };
        self.record_vif(slot, None).await?;
        if node.network_interface.as_deref() == Some("noop") {
            // Nothing outside Ferric knew of it.
        } else if let Some(neutron) = self.drivers.external.clone() {
            neutron
                .release_vif(id, node.uuid)
                .await
                .map_err(neutron_failed)?;
        } else if let Ok(uuid) = id.parse::<VifPortId>() {
            // The VIF itself may be gone already; if it is there it is unbound.
            if let Ok(mut vif) = self.db.vif_port_get(uuid).await {
                let read = vif.updated_at;
                vif.host_id.clear();
                vif.binding_profile.clear();
                vif.status = "DOWN".into();
                vif.mac_address = ferric_net::ipam::random_mac();
                vif.updated_at = Some(now);
                expect_updated(self.db.vif_port_update(&vif, read).await?, "VIF", id)?;
            }
        }
        self.record(
            node.uuid,
            ferric_types::history::INFO,
            "network",
            format!("VIF {id} detached"),
        )
        .await;
        Ok(())
    }
}

impl Conductor {
    /// Records `vif` (or its absence) on a port or port group.
    async fn record_vif(&self, slot: Slot, vif: Option<&str>) -> Result<(), ConductorError> {
        let set = |info: &mut ferric_types::JsonObject| match vif {
            Some(v) => {
                info.insert(TENANT_VIF_KEY.into(), Value::from(v));
            }
            None => {
                info.remove(TENANT_VIF_KEY);
            }
        };
        let now = Some(Timestamp::now());
        let (outcome, what, id) = match slot {
            Slot::Single(mut p) => {
                let read = p.updated_at;
                set(&mut p.internal_info);
                p.updated_at = now;
                (
                    self.db.port_update(&p, read).await?,
                    "port",
                    p.uuid.to_string(),
                )
            }
            Slot::Group(mut g) => {
                let read = g.updated_at;
                set(&mut g.internal_info);
                g.updated_at = now;
                (
                    self.db.portgroup_update(&g, read).await?,
                    "port group",
                    g.uuid.to_string(),
                )
            }
        };
        expect_updated(outcome, what, &id)
    }
}

fn neutron_failed(e: String) -> ConductorError {
    ConductorError::Driver(ferric_drivers::DriverError::Hardware(e))
}

fn expect_updated(outcome: UpdateOutcome, what: &str, id: &str) -> Result<(), ConductorError> {
    match outcome {
        UpdateOutcome::Updated => Ok(()),
        _ => Err(ConductorError::Conflict(format!(
            "The {what} {id} changed while a VIF was being attached or detached; retry."
        ))),
    }
}

/// Whether the VIF `id` is on one of these NICs.
fn attached_to(groups: &[PortGroup], ports: &[Port], id: &str) -> bool {
    groups
        .iter()
        .any(|g| tenant_vif(&g.internal_info) == Some(id))
        || ports
            .iter()
            .any(|p| tenant_vif(&p.internal_info) == Some(id))
}

/// The best free NIC for a VIF on `network`: on its physical network (any, for a
/// network without one or a VIF only recorded), port groups before ports,
/// pxe-enabled first; ports of a group that does not allow standalone ports are
/// only usable through the group. The `neutron` network interface also needs the
/// switch port (`local_link_connection`).
fn choose(
    node: &Node,
    network: Option<&Network>,
    groups: &[PortGroup],
    ports: &[Port],
    target: VifTarget,
) -> Option<Slot> {
    let needs_link = node.network_interface.as_deref() == Some("neutron");
    let on_physnet = |physnet: Option<&str>| match network.and_then(|n| n.physical_network.as_ref())
    {
        None => true,
        Some(want) => physnet == Some(want.as_str()),
    };
    let port_ok = |p: &Port| {
        tenant_vif(&p.internal_info).is_none()
            && on_physnet(p.physical_network.as_deref())
            && (!needs_link || !p.local_link_connection.is_empty())
    };
    let group_ok = |g: &PortGroup| {
        let members: Vec<&Port> = ports
            .iter()
            .filter(|p| p.portgroup_uuid == Some(g.uuid))
            .collect();
        tenant_vif(&g.internal_info).is_none()
            && !members.is_empty()
            && members
                .iter()
                .all(|p| on_physnet(p.physical_network.as_deref()))
            && (!needs_link || members.iter().all(|p| !p.local_link_connection.is_empty()))
    };
    let standalone = |p: &Port| match p.portgroup_uuid {
        None => true,
        Some(g) => groups
            .iter()
            .find(|x| x.uuid == g)
            .is_some_and(|x| x.standalone_ports_supported),
    };
    if let Some(want) = target.portgroup {
        return groups
            .iter()
            .find(|g| g.uuid == want && group_ok(g))
            .cloned()
            .map(Slot::Group);
    }
    if let Some(want) = target.port {
        return ports
            .iter()
            .find(|p| p.uuid == want && port_ok(p) && standalone(p))
            .cloned()
            .map(Slot::Single);
    }
    if let Some(g) = groups.iter().find(|g| group_ok(g)) {
        return Some(Slot::Group(g.clone()));
    }
    let mut free: Vec<&Port> = ports
        .iter()
        .filter(|p| port_ok(p) && standalone(p))
        .collect();
    free.sort_by_key(|p| !p.pxe_enabled);
    free.first().map(|p| Slot::Single((*p).clone()))
}
