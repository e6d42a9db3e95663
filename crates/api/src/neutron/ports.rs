//! `/v2.0/ports`: VIF ports — a MAC on a network, fixed IPs (allocated from the
//! subnets' pools when not given), per-port DHCP options, and the binding
//! (`binding:host_id`, `binding:profile`, `binding:vnic_type`). A MAC is unique
//! within its network, an address within its subnet.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::{DbError, ListQuery};
use ferric_types::net::{DhcpOption, FixedIp, Network, Subnet, VifPort};
use ferric_types::{MacAddress, SubnetId, Timestamp, VifPortId};
use serde_json::{json, Map, Value};

use super::error::NetError;
use super::ownership::{disallowed, NetCaller};
use super::{lookup, render, request};
use crate::AppState;

const ATTRIBUTES: &[&str] = &[
    "name",
    "description",
    "network_id",
    "tenant_id",
    "project_id",
    "mac_address",
    "fixed_ips",
    "extra_dhcp_opts",
    "admin_state_up",
    "device_id",
    "device_owner",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
    "security_groups",
    "port_security_enabled",
];

async fn find(state: &AppState, id: &str) -> Result<VifPort, NetError> {
    lookup::by_id(id, "PortNotFound", "Port", |u: VifPortId| {
        state.db.vif_port_get(u)
    })
    .await
}

/// The port `id` names and its network, if the caller may read the port (404 as if
/// missing otherwise).
async fn find_visible(
    state: &AppState,
    caller: &NetCaller,
    id: &str,
) -> Result<(VifPort, Network), NetError> {
    let p = find(state, id).await?;
    let network = super::networks::find(state, &p.network_uuid.to_string()).await?;
    if !caller.sees_port(&p, Some(&network)) {
        return Err(NetError::not_found(
            "PortNotFound",
            format!("Port {id} could not be found."),
        ));
    }
    Ok((p, network))
}

pub async fn list(
    State(state): State<AppState>,
    caller: NetCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, NetError> {
    let networks = state.db.network_list(&ListQuery::default()).await?;
    let items = state
        .db
        .vif_port_list(&ListQuery::default())
        .await?
        .iter()
        .filter(|p| {
            let network = networks.iter().find(|n| n.uuid == p.network_uuid);
            caller.sees_port(p, network)
        })
        .map(|p| caller.port_view(render::port(p)))
        .collect();
    Ok(lookup::listing("ports", items, raw))
}

pub async fn show(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NetError> {
    let (p, _) = find_visible(&state, &caller, &id).await?;
    Ok(Json(json!({"port": caller.port_view(render::port(&p))})))
}

/// Turns the requested `fixed_ips` into addresses: given ones checked, missing ones
/// allocated; no request means one address from the network's first subnet.
fn resolve_fixed_ips(
    requested: Option<&Value>,
    network: &Network,
    subnets: &[Subnet],
    others: &[VifPort],
    attempt: usize,
) -> Result<Vec<FixedIp>, NetError> {
    let mut used: HashSet<(SubnetId, Ipv4Addr)> = HashSet::new();
    for p in others {
        for ip in &p.fixed_ips {
            if let Ok(a) = ip.ip_address.parse() {
                used.insert((ip.subnet_id, a));
            }
        }
    }
    let wanted: Vec<Map<String, Value>> = match requested {
        None | Some(Value::Null) => subnets
            .first()
            .map(|s| {
                let mut m = Map::new();
                m.insert("subnet_id".into(), Value::from(s.uuid.to_string()));
                vec![m]
            })
            .unwrap_or_default(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_object().cloned().ok_or_else(|| {
                    NetError::invalid(format!("Invalid data format for fixed IP: '{v}'"))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(NetError::invalid(format!(
                "Invalid data format for fixed IP: '{other}'"
            )))
        }
    };
    let mut out = Vec::new();
    for w in wanted {
        let subnet_id = request::string(&w, "subnet_id")?;
        let address = request::string(&w, "ip_address")?;
        let subnet = match (&subnet_id, &address) {
            (Some(id), _) => subnets
                .iter()
                .find(|s| s.uuid.to_string() == *id)
                .ok_or_else(|| {
                    NetError::invalid(format!(
                        "Failed to create port on network {}, because fixed_ips included invalid subnet {id}.",
                        network.uuid
                    ))
                })?,
            (None, Some(a)) => subnets
                .iter()
                .find(|s| ferric_types::net_validate::fixed_ip(s, a).is_ok())
                .ok_or_else(|| {
                    NetError::invalid(format!(
                        "IP address {a} is not a valid IP for any subnet of network {}.",
                        network.uuid
                    ))
                })?,
            (None, None) => {
                return Err(NetError::invalid("A fixed IP needs a subnet_id or an ip_address."))
            }
        };
        let ip = match address {
            Some(a) => {
                let ip =
                    ferric_types::net_validate::fixed_ip(subnet, &a).map_err(NetError::invalid)?;
                if used.contains(&(subnet.uuid, ip)) {
                    return Err(NetError::conflict(
                        "IpAddressAlreadyAllocated",
                        format!(
                            "IP address {ip} already allocated in subnet {}",
                            subnet.uuid
                        ),
                    ));
                }
                ip
            }
            None => {
                let taken: HashSet<Ipv4Addr> = used
                    .iter()
                    .filter(|(s, _)| *s == subnet.uuid)
                    .map(|(_, a)| *a)
                    .collect();
                ferric_types::ipam::allocate(subnet, &taken, attempt).ok_or_else(|| {
                    NetError::conflict(
                        "IpAddressGenerationFailure",
                        format!(
                            "No more IP addresses available on network {}.",
                            network.uuid
                        ),
                    )
                })?
            }
        };
        used.insert((subnet.uuid, ip));
        out.push(FixedIp {
            subnet_id: subnet.uuid,
            ip_address: ip.to_string(),
        });
    }
    Ok(out)
}

/// A port's DHCP options after a request's `extra_dhcp_opts`, as Neutron merges
/// them: an option (by name and IP version) is added or replaced, one given with a
/// null `opt_value` is removed, the others stay.
fn dhcp_options(v: &Value, current: &[DhcpOption]) -> Result<Vec<DhcpOption>, NetError> {
    let items = match v {
        Value::Null => return Ok(current.to_vec()),
        Value::Array(items) => items,
        other => {
            return Err(NetError::invalid(format!(
                "'{other}' is not a list of DHCP options"
            )))
        }
    };
    let mut out = current.to_vec();
    for o in items {
        let m = o
            .as_object()
            .ok_or_else(|| NetError::invalid(format!("'{o}' is not a DHCP option")))?;
        let name = request::string(m, "opt_name")?.filter(|s| !s.is_empty());
        let value = request::string(m, "opt_value")?;
        let version = request::integer(m, "ip_version")?.unwrap_or(4);
        let (Some(opt_name), true) = (name, version == 4 || version == 6) else {
            return Err(NetError::invalid(format!(
                "Invalid extra DHCP option {o}: opt_name is required and ip_version is 4 or 6"
            )));
        };
        let version = version as u8;
        out.retain(|d| !(d.opt_name == opt_name && d.ip_version == version));
        if let Some(opt_value) = value {
            out.push(DhcpOption {
                opt_name,
                opt_value,
                ip_version: version,
            });
        }
    }
    Ok(out)
}

/// Applies the plain attributes (not the network, MAC or addresses).
fn apply(p: &mut VifPort, m: &Map<String, Value>) -> Result<(), NetError> {
    lookup::common(m, &mut p.name, &mut p.description, &mut p.project_id)?;
    if let Some(v) = request::boolean(m, "admin_state_up")? {
        p.admin_state_up = v;
    }
    if let Some(v) = request::string(m, "device_id")? {
        p.device_id = v;
    }
    if let Some(v) = request::string(m, "device_owner")? {
        p.device_owner = v;
    }
    if m.contains_key("binding:host_id") {
        p.host_id = request::string(m, "binding:host_id")?.unwrap_or_default();
    }
    if let Some(v) = request::string(m, "binding:vnic_type")? {
        if !ferric_types::net_validate::VNIC_TYPES.contains(&v.as_str()) {
            return Err(NetError::invalid(format!(
                "{v} is not in valid_values {:?}",
                ferric_types::net_validate::VNIC_TYPES
            )));
        }
        p.vnic_type = v;
    }
    match m.get("binding:profile") {
        None => {}
        Some(Value::Null) => p.binding_profile.clear(),
        Some(Value::Object(o)) => p.binding_profile = o.clone(),
        Some(other) => {
            return Err(NetError::invalid(format!(
                "'{other}' is not a dictionary for binding:profile"
            )))
        }
    }
    if let Some(v) = m.get("extra_dhcp_opts") {
        p.extra_dhcp_opts = dhcp_options(v, &p.extra_dhcp_opts)?;
    }
    p.status = if p.host_id.is_empty() {
        "DOWN"
    } else {
        "ACTIVE"
    }
    .into();
    Ok(())
}

/// How often a write that lost a race for an address or MAC is tried again.
const RACE_RETRIES: usize = 10;

/// A write's database error: a lost race for an address or a MAC, said as such.
fn clash(e: DbError, network: &Network, p: &VifPort) -> NetError {
    match e {
        DbError::Duplicate(col) if col == "ip_address" => NetError::conflict(
            "IpAddressAlreadyAllocated",
            format!(
                "An IP address of port {} was allocated to another port meanwhile; try again.",
                p.uuid
            ),
        ),
        // The other unique key of a port: its MAC on its network.
        DbError::Duplicate(_) => mac_in_use(network, &p.mac_address),
        other => other.into(),
    }
}

fn mac_in_use(network: &Network, mac: &MacAddress) -> NetError {
    NetError::conflict(
        "MacAddressInUse",
        format!(
            "Unable to complete operation for network {}. The mac address {mac} is in use.",
            network.uuid
        ),
    )
}

fn parse_mac(m: &Map<String, Value>) -> Result<Option<MacAddress>, NetError> {
    request::string(m, "mac_address")?
        .map(|s| {
            s.parse::<MacAddress>()
                .map_err(|_| NetError::invalid(format!("'{s}' is not a valid MAC address")))
        })
        .transpose()
}

pub async fn create(
    State(state): State<AppState>,
    caller: NetCaller,
    body: Bytes,
) -> Result<Response, NetError> {
    let m = request::object(&body, "port")?;
    request::known_only(&m, ATTRIBUTES, "port")?;
    let network_id = request::string(&m, "network_id")?.ok_or_else(|| {
        NetError::bad_request(
            "Failed to parse request. Required attribute 'network_id' not specified",
        )
    })?;
    let network = super::networks::find_visible(&state, &caller, &network_id).await?;
    if !caller.creates_port(&network) {
        return Err(disallowed("create_port"));
    }
    caller.check_port_attributes(&m, &network, "create")?;
    let mut p = VifPort {
        uuid: VifPortId::new_v4(),
        network_uuid: network.uuid,
        name: String::new(),
        description: String::new(),
        project_id: network.project_id.clone(),
        mac_address: ferric_types::ipam::random_mac(),
        fixed_ips: Vec::new(),
        extra_dhcp_opts: Vec::new(),
        binding_profile: Map::new(),
        vnic_type: "normal".into(),
        host_id: String::new(),
        device_id: String::new(),
        device_owner: String::new(),
        admin_state_up: true,
        status: "DOWN".into(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    apply(&mut p, &m)?;
    p.project_id = caller.owner(&m, &network.project_id)?;
    if let Some(mac) = parse_mac(&m)? {
        p.mac_address = mac;
    }
    let subnets = state.db.subnets_of(network.uuid).await?;
    // Another process may take the address or MAC between the check and the
    // write: the database refuses the second, and the check runs again.
    let mut tries = 0;
    loop {
        let others = state.db.vif_ports_of(network.uuid).await?;
        if others.iter().any(|o| o.mac_address == p.mac_address) {
            return Err(mac_in_use(&network, &p.mac_address));
        }
        p.fixed_ips = resolve_fixed_ips(m.get("fixed_ips"), &network, &subnets, &others, tries)?;
        match state.db.vif_port_create(&p).await {
            Err(DbError::Duplicate(_)) if tries < RACE_RETRIES => tries += 1,
            Err(e) => return Err(clash(e, &network, &p)),
            Ok(()) => break,
        }
    }
    let view = caller.port_view(render::port(&p));
    Ok((StatusCode::CREATED, Json(json!({"port": view}))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NetError> {
    let m = request::object(&body, "port")?;
    request::known_only(&m, ATTRIBUTES, "port")?;
    if m.contains_key("network_id") {
        return Err(NetError::bad_request(
            "Cannot update read-only attribute network_id",
        ));
    }
    let (before, network) = find_visible(&state, &caller, &id).await?;
    if !caller.changes_port(&before) {
        return Err(disallowed("update_port"));
    }
    caller.check_port_attributes(&m, &network, "update")?;
    if ["project_id", "tenant_id"]
        .iter()
        .any(|k| m.contains_key(*k))
        && !caller.is_admin()
    {
        return Err(disallowed("update_port:project_id"));
    }
    let mut p = before.clone();
    apply(&mut p, &m)?;
    if m.contains_key("mac_address") {
        // Ironic sets the NIC's MAC on a VIF (and clears it with null on detach).
        p.mac_address = parse_mac(&m)?.unwrap_or_else(ferric_types::ipam::random_mac);
    }
    let subnets = state.db.subnets_of(network.uuid).await?;
    let mut tries = 0;
    let outcome = loop {
        let others: Vec<VifPort> = state
            .db
            .vif_ports_of(network.uuid)
            .await?
            .into_iter()
            .filter(|o| o.uuid != p.uuid)
            .collect();
        if m.contains_key("mac_address") && others.iter().any(|o| o.mac_address == p.mac_address) {
            return Err(mac_in_use(&network, &p.mac_address));
        }
        if m.contains_key("fixed_ips") {
            p.fixed_ips =
                resolve_fixed_ips(m.get("fixed_ips"), &network, &subnets, &others, tries)?;
        }
        p.updated_at = Some(Timestamp::now());
        match state.db.vif_port_update(&p, before.updated_at).await {
            Err(DbError::Duplicate(_)) if tries < RACE_RETRIES => tries += 1,
            Err(e) => return Err(clash(e, &network, &p)),
            Ok(outcome) => break outcome,
        }
    };
    match outcome {
        ferric_db::UpdateOutcome::Updated => {
            Ok(Json(json!({"port": caller.port_view(render::port(&p))})))
        }
        _ => Err(NetError::conflict(
            "Conflict",
            format!("Port {id} changed while it was being updated; try again."),
        )),
    }
}

/// Whether the port is bound to a node of this Ferric.
async fn node_is_here(state: &AppState, p: &VifPort) -> Result<bool, NetError> {
    let Ok(node) = p.host_id.parse::<ferric_types::NodeId>() else {
        return Ok(false);
    };
    match state.db.node_get(node).await {
        Ok(_) => Ok(true),
        Err(ferric_db::DbError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a NIC of the node the port is bound to carries it as its tenant VIF.
async fn attached_to_node(state: &AppState, p: &VifPort) -> Result<bool, NetError> {
    let Ok(node) = p.host_id.parse::<ferric_types::NodeId>() else {
        return Ok(false);
    };
    let id = p.uuid.to_string();
    let carries = |info| ferric_types::net::tenant_vif(info) == Some(id.as_str());
    let (groups, ports) = state.db.nics_of(node).await?;
    Ok(ports.iter().any(|port| carries(&port.internal_info))
        || groups.iter().any(|g| carries(&g.internal_info)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, NetError> {
    let (p, network) = find_visible(&state, &caller, &id).await?;
    if !caller.deletes_port(&p, &network) {
        return Err(disallowed("delete_port"));
    }
    let service_port = p.device_owner.starts_with("baremetal:") && node_is_here(&state, &p).await?;
    if service_port || attached_to_node(&state, &p).await? {
        // Switch ports may be configured for it: a VIF is detached from its node
        // first, and a node's provisioning or cleaning ports are this Ferric's own.
        // (Ports of another Ferric's nodes, using this one as its Neutron, go.)
        return Err(NetError::conflict(
            "PortInUse",
            format!(
                "Unable to complete operation on port {id}: node {} uses it; detach it first.",
                p.host_id
            ),
        ));
    }
    state.db.vif_port_delete(p.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
