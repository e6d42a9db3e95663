//! The network flips of the `neutron` network interface, done by Ferric's own
//! network service: while Ferric works on a node its NICs sit on the network of
//! that role (provisioning, cleaning, rescue, inspection, servicing) — a VIF port
//! per NIC on that network (`device_owner` `baremetal:<role>`, an address from its
//! subnet) and the switch port on its segment; once deployed, only on the tenant
//! networks of its attached VIFs. A node is never on a service network and a tenant
//! network at once: the roles a node is on are kept in its
//! `driver_internal_info.network_roles` and each flip checks them. Every flip is
//! written to the node's history.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ferric_db::{Cond, Datastore, ListQuery};
use ferric_types::history::{HistoryEvent, INFO};
pub use ferric_types::net::{tenant_vif, TENANT_VIF_KEY};
use ferric_types::net::{FixedIp, Network, VifPort};
use ferric_types::{JsonObject, Node, Port, PortGroup, Timestamp, VifPortId};
use serde_json::{json, Value};

use crate::switch::{Segment, SwitchDriver};

/// Where a node's roles are recorded.
pub const ROLES_KEY: &str = "network_roles";

/// A switch the service drives.
pub struct Switch {
    pub name: String,
    /// Matched against `local_link_connection.switch_id` (a MAC, any case)…
    pub switch_id: Option<String>,
    /// …or `local_link_connection.switch_info`.
    pub switch_info: Option<String>,
    pub driver: Arc<dyn SwitchDriver>,
}

/// The service: the database and the switches.
pub struct NetworkService {
    db: Datastore,
    switches: Vec<Switch>,
}

/// Whether the node's NICs are on the network of `role` now.
pub fn is_on(node: &Node, role: &str) -> bool {
    roles(node).iter().any(|r| r == role)
}

pub(crate) fn roles(node: &Node) -> Vec<String> {
    node.driver_internal_info
        .get(ROLES_KEY)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn set_roles(node: &mut Node, roles: Vec<String>) {
    if roles.is_empty() {
        node.driver_internal_info.remove(ROLES_KEY);
    } else {
        node.driver_internal_info
            .insert(ROLES_KEY.into(), json!(roles));
    }
}

fn segment(n: &Network) -> Segment {
    match n.segmentation_id {
        Some(id) if n.network_type == "vlan" => Segment::Vlan(id),
        _ => Segment::Flat,
    }
}

pub(crate) fn owner(role: &str) -> String {
    format!("baremetal:{role}")
}

/// The link aggregate a port group is on the switch (`extra/switch_lag_id`), if
/// the switch should bundle its ports.
fn lag_of(group: &PortGroup) -> Option<String> {
    match group.extra.get("switch_lag_id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A NIC whose switch Ferric does not manage (`local_link_connection`
/// `network_type: unmanaged`, as Ironic has it): no switch configuration.
fn unmanaged(port: &Port) -> bool {
    port.local_link_connection
        .get("network_type")
        .and_then(Value::as_str)
        == Some("unmanaged")
}

/// The role of the network a node is inspected on; without one, the provisioning
/// network serves.
pub const INSPECTION: &str = "inspection";
/// The role of the network a node is deployed on.
pub const PROVISIONING: &str = "provisioning";

/// The `driver_info` key naming a node's network of `role`, as Ironic spells it:
/// `provisioning_network`, `cleaning_network`, `rescuing_network`…
pub fn role_network_key(role: &str) -> String {
    match role {
        "rescue" => "rescuing_network".to_string(),
        other => format!("{other}_network"),
    }
}

/// Joining and leaving a service network: done by Ferric's own service or asked of
/// an external Neutron.
pub(crate) trait Flips {
    async fn join(&self, node: &mut Node, role: &str) -> Result<(), String>;
    async fn leave(&self, node: &mut Node, role: &str) -> Result<(), String>;
}

impl Flips for NetworkService {
    async fn join(&self, node: &mut Node, role: &str) -> Result<(), String> {
        NetworkService::join(self, node, role).await
    }
    async fn leave(&self, node: &mut Node, role: &str) -> Result<(), String> {
        self.remove_network(node, role).await
    }
}

/// Joins the network of `role`; a failure half-way takes back what was done. When
/// taking it back fails too, the node's switch ports may be on the network, so the
/// role stays recorded and no tenant network joins it.
pub(crate) async fn join_or_undo(
    f: &impl Flips,
    node: &mut Node,
    role: &str,
) -> Result<(), String> {
    let result = f.join(node, role).await;
    if result.is_err() && !is_on(node, role) {
        if let Err(e) = f.leave(node, role).await {
            tracing::warn!(node = %node.uuid, role, error = %e, "could not undo a failed network flip");
            let mut on = roles(node);
            on.push(role.to_string());
            set_roles(node, on);
        }
    }
    result
}

impl NetworkService {
    pub fn new(db: Datastore, switches: Vec<Switch>) -> Self {
        Self { db, switches }
    }

    async fn history(&self, node: &Node, text: String) {
        let event = HistoryEvent::new(node.uuid, INFO, "network", text, None);
        if let Err(e) = self.db.history_record(&event).await {
            tracing::warn!(node = %node.uuid, error = %e, "could not record a network flip");
        }
    }

    async fn nics(&self, node: &Node) -> Result<(Vec<PortGroup>, Vec<Port>), String> {
        self.db.nics_of(node.uuid).await.map_err(|e| e.to_string())
    }

    /// The network of `role` for `node`: `driver_info/<role>_network` (name or
    /// UUID; `rescuing_network` for rescue), else the one network with that role
    /// (for inspection without one, the provisioning network).
    pub async fn network_for(&self, node: &Node, role: &str) -> Result<Network, String> {
        let all = self
            .db
            .network_list(&ListQuery::default())
            .await
            .map_err(|e| e.to_string())?;
        let key = role_network_key(role);
        if let Some(named) = node.driver_info.get(&key).and_then(Value::as_str) {
            return all
                .into_iter()
                .find(|n| n.uuid.to_string() == named || n.name == named)
                .ok_or_else(|| format!("driver_info/{key} names no network: {named}"));
        }
        let mut of_role: Vec<Network> = all.iter().filter(|n| n.role == role).cloned().collect();
        if of_role.is_empty() && role == INSPECTION {
            // No inspection network: inspection runs on the provisioning network.
            return Box::pin(self.network_for(node, PROVISIONING)).await;
        }
        match of_role.len() {
            1 => Ok(of_role.remove(0)),
            0 => Err(format!("no network has the {role} role")),
            _ => Err(format!(
                "several networks have the {role} role: name one in driver_info/{key}"
            )),
        }
    }

    fn switch_for(&self, port: &Port) -> Result<(&Switch, String), String> {
        let llc = &port.local_link_connection;
        let field = |k: &str| llc.get(k).and_then(Value::as_str).map(str::to_string);
        let port_id = field("port_id").ok_or_else(|| {
            format!(
                "port {} ({}) has no local_link_connection/port_id: the switch port it plugs into is unknown",
                port.uuid, port.address
            )
        })?;
        let (id, info) = (field("switch_id"), field("switch_info"));
        self.switches
            .iter()
            .find(|s| {
                let by_id =
                    matches!((&s.switch_id, &id), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
                let by_info = matches!((&s.switch_info, &info), (Some(a), Some(b)) if a == b);
                by_id || by_info
            })
            .map(|s| (s, port_id))
            .ok_or_else(|| {
                format!(
                    "no switch is configured for port {} (switch_id {:?}, switch_info {:?})",
                    port.address, id, info
                )
            })
    }

    async fn bind(&self, node: &Node, port: &Port, network: &Network) -> Result<(), String> {
        if unmanaged(port) {
            return Ok(());
        }
        let (switch, port_id) = self.switch_for(port)?;
        let seg = segment(network);
        switch.driver.bind(&port_id, seg).await?;
        self.history(
            node,
            format!(
                "Switch {} port {port_id} ({}) on network {} ({}, {seg})",
                switch.name, port.address, network.name, network.role
            ),
        )
        .await;
        Ok(())
    }

    async fn unbind(&self, node: &Node, port: &Port) -> Result<(), String> {
        if unmanaged(port) {
            return Ok(());
        }
        let (switch, port_id) = self.switch_for(port)?;
        switch.driver.unbind(&port_id).await?;
        self.history(
            node,
            format!(
                "Switch {} port {port_id} ({}) off every network",
                switch.name, port.address
            ),
        )
        .await;
        Ok(())
    }

    /// The switch and switch ports of a bond's members, which must share a switch.
    fn lag_ports(&self, members: &[Port]) -> Result<(&Switch, Vec<String>), String> {
        let mut switch: Option<&Switch> = None;
        let mut ids = Vec::new();
        for m in members {
            let (s, id) = self.switch_for(m)?;
            if switch.is_some_and(|prev| prev.name != s.name) {
                return Err(format!(
                    "the members of a link aggregate span switches {} and {}",
                    switch.map(|p| p.name.as_str()).unwrap_or_default(),
                    s.name
                ));
            }
            switch = Some(s);
            ids.push(id);
        }
        switch
            .map(|s| (s, ids))
            .ok_or_else(|| "a port group without ports".to_string())
    }

    async fn bind_lag(
        &self,
        node: &Node,
        lag: &str,
        members: &[Port],
        network: &Network,
    ) -> Result<(), String> {
        let (switch, ids) = self.lag_ports(members)?;
        let seg = segment(network);
        switch.driver.bind_group(lag, &ids, seg).await?;
        self.history(
            node,
            format!(
                "Switch {} link aggregate {lag} ({}) on network {} ({}, {seg})",
                switch.name,
                ids.join(", "),
                network.name,
                network.role
            ),
        )
        .await;
        Ok(())
    }

    async fn unbind_lag(&self, node: &Node, lag: &str, members: &[Port]) -> Result<(), String> {
        let (switch, ids) = self.lag_ports(members)?;
        switch.driver.unbind_group(lag, &ids).await?;
        self.history(
            node,
            format!(
                "Switch {} link aggregate {lag} ({}) off every network",
                switch.name,
                ids.join(", ")
            ),
        )
        .await;
        Ok(())
    }

    /// The NICs Ferric works through: pxe-enabled ports, and every member of a
    /// port group with a pxe-enabled member (a bond flips as one).
    pub(crate) fn service_nics(groups: &[PortGroup], ports: &[Port]) -> Vec<Port> {
        let bonded: HashSet<_> = groups
            .iter()
            .filter(|g| {
                ports
                    .iter()
                    .any(|p| p.portgroup_uuid == Some(g.uuid) && p.pxe_enabled)
            })
            .map(|g| g.uuid)
            .collect();
        ports
            .iter()
            .filter(|p| p.pxe_enabled || p.portgroup_uuid.is_some_and(|g| bonded.contains(&g)))
            .cloned()
            .collect()
    }

    async fn allocate(&self, network: &Network, attempt: usize) -> Result<Vec<FixedIp>, String> {
        let subnets = self
            .db
            .subnets_of(network.uuid)
            .await
            .map_err(|e| e.to_string())?;
        let Some(subnet) = subnets.first() else {
            return Ok(Vec::new());
        };
        let used: HashSet<Ipv4Addr> = self
            .db
            .vif_ports_of(network.uuid)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .flat_map(|p| p.fixed_ips.iter())
            .filter(|ip| ip.subnet_id == subnet.uuid)
            .filter_map(|ip| ip.ip_address.parse().ok())
            .collect();
        let ip = crate::ipam::allocate(subnet, &used, attempt).ok_or_else(|| {
            format!(
                "No more IP addresses available on network {}.",
                network.uuid
            )
        })?;
        Ok(vec![FixedIp {
            subnet_id: subnet.uuid,
            ip_address: ip.to_string(),
        }])
    }

    /// Puts the node's NICs on the network of `role` (not `tenant`). A failure
    /// half-way takes back what was done.
    pub async fn add_network(&self, node: &mut Node, role: &str) -> Result<(), String> {
        join_or_undo(self, node, role).await
    }

    async fn join(&self, node: &mut Node, role: &str) -> Result<(), String> {
        let mut on = roles(node);
        if on.iter().any(|r| r == "tenant") {
            return Err(format!(
                "node {} is on its tenant networks: it cannot join the {role} network at the same time",
                node.uuid
            ));
        }
        let network = self.network_for(node, role).await?;
        // A switch port is on one network at a time: any other service network
        // goes first, and so do ports a crash (or an earlier join) left on this one.
        for other in on.clone() {
            self.remove_network(node, &other).await?;
        }
        self.remove_network(node, role).await?;
        on = roles(node);
        let (groups, ports) = self.nics(node).await?;
        let nics = Self::service_nics(&groups, &ports);
        if nics.is_empty() {
            return Err(format!(
                "node {} has no pxe-enabled port to put on the {role} network",
                node.uuid
            ));
        }
        for nic in nics.iter().filter(|n| !unmanaged(n)) {
            self.switch_for(nic)?;
        }
        for nic in &nics {
            let now = Timestamp::now();
            let mut vif = VifPort {
                uuid: VifPortId::new_v4(),
                network_uuid: network.uuid,
                name: format!("{}-{role}-{}", node.uuid, nic.address),
                description: String::new(),
                project_id: network.project_id.clone(),
                mac_address: nic.address.clone(),
                fixed_ips: Vec::new(),
                extra_dhcp_opts: Vec::new(),
                binding_profile: json!({"local_link_information": [nic.local_link_connection]})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                vnic_type: "baremetal".into(),
                host_id: node.uuid.to_string(),
                device_id: node.uuid.to_string(),
                device_owner: owner(role),
                admin_state_up: true,
                status: "ACTIVE".into(),
                created_at: now,
                updated_at: None,
            };
            // Another process may take the address first: the database refuses the
            // second, which picks again.
            let mut tries = 0;
            loop {
                vif.fixed_ips = self.allocate(&network, tries).await?;
                match self.db.vif_port_create(&vif).await {
                    Err(ferric_db::DbError::Duplicate(col))
                        if col == "ip_address" && tries < 10 =>
                    {
                        tries += 1
                    }
                    Err(e) => return Err(e.to_string()),
                    Ok(()) => break,
                }
            }
        }
        for nic in &nics {
            self.bind(node, nic, &network).await?;
        }
        on.push(role.to_string());
        set_roles(node, on);
        Ok(())
    }

    /// Takes the node's NICs off the network of `role` and deletes its ports there.
    pub async fn remove_network(&self, node: &mut Node, role: &str) -> Result<(), String> {
        let vifs = self
            .db
            .vif_port_list(&ListQuery {
                conds: vec![
                    Cond::Eq("device_id", node.uuid.to_string().into()),
                    Cond::Eq("device_owner", owner(role).into()),
                ],
                ..ListQuery::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let (_, ports) = self.nics(node).await?;
        let mut first_error = None;
        for vif in &vifs {
            if let Some(nic) = ports.iter().find(|p| p.address == vif.mac_address) {
                if let Err(e) = self.unbind(node, nic).await {
                    // The switch port may still be on the network: the port and the
                    // role stay, so no tenant network can join it.
                    first_error.get_or_insert(e);
                    continue;
                }
            }
            self.db
                .vif_port_delete(vif.uuid)
                .await
                .map_err(|e| e.to_string())?;
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        set_roles(
            node,
            roles(node).into_iter().filter(|r| r != role).collect(),
        );
        Ok(())
    }

    /// The NICs carrying tenant VIFs: (member ports, the group if a bond, VIF id).
    pub(crate) fn tenant_nics(
        groups: &[PortGroup],
        ports: &[Port],
    ) -> Vec<(Vec<Port>, Option<PortGroup>, String)> {
        let mut out = Vec::new();
        for g in groups {
            if let Some(vif) = tenant_vif(&g.internal_info) {
                let members = ports
                    .iter()
                    .filter(|p| p.portgroup_uuid == Some(g.uuid))
                    .cloned()
                    .collect();
                out.push((members, Some(g.clone()), vif.to_string()));
            }
        }
        for p in ports {
            if let Some(vif) = tenant_vif(&p.internal_info) {
                out.push((vec![p.clone()], None, vif.to_string()));
            }
        }
        out
    }

    async fn save_vif(&self, vif: &VifPort, read: Option<Timestamp>) -> Result<(), String> {
        match self
            .db
            .vif_port_update(vif, read)
            .await
            .map_err(|e| e.to_string())?
        {
            ferric_db::UpdateOutcome::Updated => Ok(()),
            _ => Err(format!(
                "VIF {} changed while its binding was updated",
                vif.uuid
            )),
        }
    }

    async fn vif(&self, id: &str) -> Result<VifPort, String> {
        let uuid: VifPortId = id
            .parse()
            .map_err(|_| format!("VIF {id} is not a port UUID"))?;
        self.db
            .vif_port_get(uuid)
            .await
            .map_err(|e| format!("VIF {id}: {e}"))
    }

    /// Binds the node's attached VIFs: their NICs' switch ports go on the VIFs'
    /// networks.
    pub async fn configure_tenant(&self, node: &mut Node) -> Result<(), String> {
        let on = roles(node);
        if let Some(r) = on.iter().find(|r| *r != "tenant") {
            return Err(format!(
                "node {} is still on the {r} network: it cannot join its tenant networks at the same time",
                node.uuid
            ));
        }
        // Recorded before the first switch port moves, so a failure half-way is
        // still undone by `unconfigure_tenant`.
        set_roles(node, vec!["tenant".into()]);
        let (groups, ports) = self.nics(node).await?;
        for (members, group, vif_id) in Self::tenant_nics(&groups, &ports) {
            let mut vif = self.vif(&vif_id).await?;
            let network = self
                .db
                .network_get(vif.network_uuid)
                .await
                .map_err(|e| e.to_string())?;
            let mut profile = JsonObject::new();
            profile.insert(
                "local_link_information".into(),
                Value::Array(
                    members
                        .iter()
                        .map(|p| Value::Object(p.local_link_connection.clone()))
                        .collect(),
                ),
            );
            if let Some(g) = &group {
                profile.insert(
                    "local_group_information".into(),
                    json!({"id": g.uuid.to_string(), "name": g.name, "bond_mode": g.mode,
                           "bond_properties": g.properties}),
                );
            }
            match group.as_ref().and_then(lag_of) {
                Some(lag) => self.bind_lag(node, &lag, &members, &network).await?,
                None => {
                    for m in &members {
                        self.bind(node, m, &network).await?;
                    }
                }
            }
            let read = vif.updated_at;
            vif.binding_profile = profile;
            vif.host_id = node.uuid.to_string();
            vif.vnic_type = "baremetal".into();
            vif.status = "ACTIVE".into();
            vif.updated_at = Some(Timestamp::now());
            self.save_vif(&vif, read).await?;
        }
        Ok(())
    }

    /// Takes the node's NICs off its tenant networks (the VIFs stay attached).
    pub async fn unconfigure_tenant(&self, node: &mut Node) -> Result<(), String> {
        if !roles(node).iter().any(|r| r == "tenant") {
            return Ok(());
        }
        let (groups, ports) = self.nics(node).await?;
        for (members, group, vif_id) in Self::tenant_nics(&groups, &ports) {
            match group.as_ref().and_then(lag_of) {
                Some(lag) => self.unbind_lag(node, &lag, &members).await?,
                None => {
                    for m in &members {
                        self.unbind(node, m).await?;
                    }
                }
            }
            if let Ok(mut vif) = self.vif(&vif_id).await {
                let read = vif.updated_at;
                vif.status = "DOWN".into();
                vif.binding_profile.clear();
                vif.updated_at = Some(Timestamp::now());
                self.save_vif(&vif, read).await?;
            }
        }
        set_roles(
            node,
            roles(node).into_iter().filter(|r| r != "tenant").collect(),
        );
        Ok(())
    }
}
