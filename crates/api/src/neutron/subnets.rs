//! `/v2.0/subnets`: IPv4 subnets with a gateway, DNS servers and allocation pools
//! (every host address but the gateway when none are given).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::ListQuery;
use ferric_types::net::{AllocationPool, Subnet};
use ferric_types::{SubnetId, Timestamp};
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
    "ip_version",
    "cidr",
    "gateway_ip",
    "dns_nameservers",
    "allocation_pools",
    "host_routes",
    "enable_dhcp",
];

pub(super) async fn find(state: &AppState, id: &str) -> Result<Subnet, NetError> {
    lookup::by_id(id, "SubnetNotFound", "Subnet", |u: SubnetId| {
        state.db.subnet_get(u)
    })
    .await
}

/// The subnet `id` names and its network, if the caller may read the subnet (404 as
/// if missing otherwise) and, with `change`, change it (403 otherwise).
async fn find_for(
    state: &AppState,
    caller: &NetCaller,
    id: &str,
    change: Option<&str>,
) -> Result<Subnet, NetError> {
    let s = find(state, id).await?;
    let network = super::networks::find(state, &s.network_uuid.to_string()).await?;
    if !caller.sees_subnet(&s, Some(&network)) {
        return Err(NetError::not_found(
            "SubnetNotFound",
            format!("Subnet {id} could not be found."),
        ));
    }
    if let Some(rule) = change {
        if !caller.changes_subnet(&network) {
            return Err(disallowed(rule));
        }
    }
    Ok(s)
}

pub async fn list(
    State(state): State<AppState>,
    caller: NetCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, NetError> {
    let networks = state.db.network_list(&ListQuery::default()).await?;
    let items = state
        .db
        .subnet_list(&ListQuery::default())
        .await?
        .iter()
        .filter(|s| {
            let network = networks.iter().find(|n| n.uuid == s.network_uuid);
            caller.sees_subnet(s, network)
        })
        .map(render::subnet)
        .collect();
    Ok(lookup::listing("subnets", items, raw))
}

pub async fn show(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NetError> {
    let s = find_for(&state, &caller, &id, None).await?;
    Ok(Json(json!({"subnet": render::subnet(&s)})))
}

fn strings(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, NetError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    NetError::invalid(format!("'{v}' is not a valid string in {key}."))
                })
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(other) => Err(NetError::invalid(format!(
            "'{other}' is not a list for {key}."
        ))),
    }
}

fn apply(s: &mut Subnet, m: &Map<String, Value>, creating: bool) -> Result<(), NetError> {
    request::known_only(m, ATTRIBUTES, "subnet")?;
    if !creating {
        for fixed in ["cidr", "network_id", "ip_version"] {
            if m.contains_key(fixed) {
                return Err(NetError::bad_request(format!(
                    "Cannot update read-only attribute {fixed}"
                )));
            }
        }
    }
    if let Some(v) = request::integer(m, "ip_version")? {
        if v != 4 {
            return Err(NetError::invalid(format!(
                "ip_version {v} is not supported: Ferric's network service is IPv4 only."
            )));
        }
    }
    if let Some(Value::Array(routes)) = m.get("host_routes") {
        if !routes.is_empty() {
            return Err(NetError::invalid("host_routes are not supported."));
        }
    }
    lookup::common(m, &mut s.name, &mut s.description, &mut s.project_id)?;
    if let Some(v) = request::string(m, "cidr")? {
        s.cidr = v;
    }
    if m.contains_key("gateway_ip") {
        s.gateway_ip = request::string(m, "gateway_ip")?;
    }
    if let Some(v) = strings(m, "dns_nameservers")? {
        s.dns_nameservers = v;
    }
    if let Some(v) = request::boolean(m, "enable_dhcp")? {
        s.enable_dhcp = v;
    }
    if let Some(pools) = m.get("allocation_pools").filter(|v| !v.is_null()) {
        s.allocation_pools = serde_json::from_value::<Vec<AllocationPool>>(pools.clone())
            .map_err(|e| NetError::invalid(format!("allocation_pools: {e}")))?;
    }
    ferric_types::net_validate::subnet(s).map_err(NetError::invalid)
}

pub async fn create(
    State(state): State<AppState>,
    caller: NetCaller,
    body: Bytes,
) -> Result<Response, NetError> {
    let m = request::object(&body, "subnet")?;
    let network_id = request::string(&m, "network_id")?.ok_or_else(|| {
        NetError::bad_request(
            "Failed to parse request. Required attribute 'network_id' not specified",
        )
    })?;
    let network = super::networks::find_visible(&state, &caller, &network_id).await?;
    if !caller.changes_subnet(&network) {
        return Err(disallowed("create_subnet"));
    }
    if request::string(&m, "cidr")?.is_none() {
        return Err(NetError::bad_request(
            "Bad subnets request: a cidr must be specified in the absence of a subnet pool.",
        ));
    }
    let mut s = Subnet {
        uuid: SubnetId::new_v4(),
        network_uuid: network.uuid,
        name: String::new(),
        description: String::new(),
        project_id: network.project_id.clone(),
        cidr: String::new(),
        gateway_ip: None,
        dns_nameservers: Vec::new(),
        allocation_pools: Vec::new(),
        enable_dhcp: true,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    if !m.contains_key("gateway_ip") {
        // Neutron's default: the first host address.
        let cidr = request::string(&m, "cidr")?.unwrap_or_default();
        if let Ok(c) = ferric_types::ipam::Cidr::parse(&cidr) {
            s.gateway_ip = Some(c.first_host().to_string());
        }
    }
    apply(&mut s, &m, true)?;
    s.project_id = caller.owner(&m, &network.project_id)?;
    let siblings = state.db.subnets_of(network.uuid).await?;
    let mine = ferric_types::ipam::Cidr::parse(&s.cidr).map_err(NetError::invalid)?;
    for other in siblings {
        if let Ok(c) = ferric_types::ipam::Cidr::parse(&other.cidr) {
            if c.contains(mine.network) || mine.contains(c.network) {
                return Err(NetError::invalid(format!(
                    "Requested subnet with cidr: {} for network: {} overlaps with another subnet",
                    s.cidr, network.uuid
                )));
            }
        }
    }
    state.db.subnet_create(&s).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"subnet": render::subnet(&s)})),
    )
        .into_response())
}

pub async fn update(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NetError> {
    let m = request::object(&body, "subnet")?;
    let before = find_for(&state, &caller, &id, Some("update_subnet")).await?;
    let mut s = before.clone();
    apply(&mut s, &m, false)?;
    s.updated_at = Some(Timestamp::now());
    match state.db.subnet_update(&s, before.updated_at).await? {
        ferric_db::UpdateOutcome::Updated => Ok(Json(json!({"subnet": render::subnet(&s)}))),
        _ => Err(NetError::conflict(
            "Conflict",
            format!("Subnet {id} changed while it was being updated; try again."),
        )),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, NetError> {
    let s = find_for(&state, &caller, &id, Some("delete_subnet")).await?;
    let in_use = state
        .db
        .vif_ports_of(s.network_uuid)
        .await?
        .iter()
        .any(|p| p.fixed_ips.iter().any(|ip| ip.subnet_id == s.uuid));
    if in_use {
        return Err(NetError::conflict(
            "SubnetInUse",
            format!("Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."),
        ));
    }
    state.db.subnet_delete(s.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
