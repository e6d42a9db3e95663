//! `/v2.0/networks`: a network's segment (`provider:network_type` flat or vlan,
//! `provider:physical_network`, `provider:segmentation_id`) and its role (Ferric's
//! `role` attribute: provisioning, cleaning, rescue, inspection, servicing, tenant).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::{DbError, ListQuery};
use ferric_types::net::Network;
use ferric_types::{NetworkId, Timestamp};
use serde_json::{json, Map, Value};

use super::error::NetError;
use super::ownership::{disallowed, NetCaller};
use super::{filter, lookup, render, request};
use crate::AppState;

const ATTRIBUTES: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "tenant_id",
    "project_id",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "mtu",
    "role",
    "port_security_enabled",
];

/// Segment checks and the writes after them happen one at a time.
/// The refusal for a segment another network has.
fn segment_in_use(n: &Network) -> NetError {
    let physnet = n.physical_network.clone().unwrap_or_default();
    if n.network_type == "flat" {
        NetError::conflict(
            "FlatNetworkInUse",
            format!("Unable to create the flat network. Physical network {physnet} is in use."),
        )
    } else {
        NetError::conflict(
            "SegmentationIdInUse",
            format!(
                "Unable to create the network. The VLAN {} on physical network {physnet} is in use.",
                n.segmentation_id.unwrap_or_default()
            ),
        )
    }
}

/// A segment (a VLAN, or the flat network of a physical network) is one network's:
/// checked here for a clear answer, and by the database (`segment` is unique) for
/// two processes racing for it.
async fn check_segment_free(state: &AppState, n: &Network) -> Result<(), NetError> {
    let physnet = n.physical_network.clone().unwrap_or_default();
    let clash = state
        .db
        .network_list(&ListQuery::default())
        .await?
        .into_iter()
        .filter(|o| o.uuid != n.uuid && o.network_type == n.network_type)
        .filter(|o| o.physical_network.clone().unwrap_or_default() == physnet)
        .any(|o| n.network_type == "flat" || o.segmentation_id == n.segmentation_id);
    if clash {
        return Err(segment_in_use(n));
    }
    Ok(())
}

/// A write's database error, the segment clash named.
fn written(n: &Network) -> impl FnOnce(DbError) -> NetError + '_ {
    move |e| match e {
        DbError::Duplicate(col) if col == "segment" => segment_in_use(n),
        other => other.into(),
    }
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<Network, NetError> {
    lookup::by_id(id, "NetworkNotFound", "Network", |u: NetworkId| {
        state.db.network_get(u)
    })
    .await
}

/// The network `id` names, if the caller may read it (404 as if missing otherwise).
pub(super) async fn find_visible(
    state: &AppState,
    caller: &NetCaller,
    id: &str,
) -> Result<Network, NetError> {
    let n = find(state, id).await?;
    if !caller.sees_network(&n) {
        return Err(NetError::not_found(
            "NetworkNotFound",
            format!("Network {id} could not be found."),
        ));
    }
    Ok(n)
}

/// The ids of each network's subnets.
async fn subnet_ids(state: &AppState, network: NetworkId) -> Result<Vec<String>, NetError> {
    Ok(state
        .db
        .subnets_of(network)
        .await?
        .into_iter()
        .map(|s| s.uuid.to_string())
        .collect())
}

async fn rendered(state: &AppState, n: &Network) -> Result<Value, NetError> {
    Ok(render::network(n, subnet_ids(state, n.uuid).await?))
}

pub async fn list(
    State(state): State<AppState>,
    caller: NetCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, NetError> {
    let mut networks = state.db.network_list(&ListQuery::default()).await?;
    networks.retain(|n| caller.sees_network(n));
    let subnets = state.db.subnet_list(&ListQuery::default()).await?;
    let items = networks
        .iter()
        .map(|n| {
            let ids = subnets
                .iter()
                .filter(|s| s.network_uuid == n.uuid)
                .map(|s| s.uuid.to_string())
                .collect();
            caller.network_view(render::network(n, ids))
        })
        .collect();
    Ok(lookup::listing("networks", items, raw))
}

pub async fn show(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, NetError> {
    let n = find_visible(&state, &caller, &id).await?;
    let fields: Vec<(String, String)> = lookup::query_pairs(raw);
    let picked: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str())
        .collect();
    Ok(Json(
        json!({"network": filter::select(caller.network_view(rendered(&state, &n).await?), &picked)}),
    ))
}

/// Applies the attributes of a request to `n`.
fn apply(n: &mut Network, m: &Map<String, Value>) -> Result<(), NetError> {
    request::known_only(m, ATTRIBUTES, "network")?;
    lookup::common(m, &mut n.name, &mut n.description, &mut n.project_id)?;
    if let Some(v) = request::boolean(m, "admin_state_up")? {
        n.admin_state_up = v;
    }
    if let Some(v) = request::boolean(m, "shared")? {
        n.shared = v;
    }
    if let Some(v) = request::string(m, "role")? {
        n.role = v;
    }
    if let Some(v) = request::integer(m, "mtu")? {
        n.mtu =
            u32::try_from(v).map_err(|_| NetError::invalid(format!("mtu {v} is out of range")))?;
    }
    if let Some(v) = request::string(m, "provider:network_type")? {
        n.network_type = v;
    }
    if m.contains_key("provider:physical_network") {
        n.physical_network = request::string(m, "provider:physical_network")?;
    }
    if m.contains_key("provider:segmentation_id") {
        n.segmentation_id = match request::integer(m, "provider:segmentation_id")? {
            None => None,
            Some(v) => Some(u16::try_from(v).map_err(|_| {
                NetError::invalid(format!(
                    "segmentation_id out of range ({v} is not in 1..4094)."
                ))
            })?),
        };
    }
    ferric_types::net_validate::network(n).map_err(NetError::invalid)
}

pub async fn create(
    State(state): State<AppState>,
    caller: NetCaller,
    body: Bytes,
) -> Result<Response, NetError> {
    let m = request::object(&body, "network")?;
    caller.check_network_attributes(&m, "create")?;
    let mut n = Network {
        uuid: NetworkId::new_v4(),
        name: String::new(),
        description: String::new(),
        project_id: String::new(),
        shared: false,
        admin_state_up: true,
        role: "tenant".into(),
        network_type: "flat".into(),
        physical_network: None,
        segmentation_id: None,
        mtu: 1500,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    apply(&mut n, &m)?;
    n.project_id = caller.owner(&m, "")?;
    if !caller.changes_network(&n) {
        return Err(disallowed("create_network"));
    }
    check_segment_free(&state, &n).await?;
    state.db.network_create(&n).await.map_err(written(&n))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"network": caller.network_view(render::network(&n, Vec::new()))})),
    )
        .into_response())
}

pub async fn update(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NetError> {
    let m = request::object(&body, "network")?;
    let before = find_visible(&state, &caller, &id).await?;
    if !caller.changes_network(&before) {
        return Err(disallowed("update_network"));
    }
    caller.check_network_attributes(&m, "update")?;
    if ["project_id", "tenant_id"]
        .iter()
        .any(|k| m.contains_key(*k))
        && !caller.is_admin()
    {
        return Err(disallowed("update_network:project_id"));
    }
    let mut n = before.clone();
    let segment_keys = [
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
    ];
    if segment_keys.iter().any(|k| m.contains_key(*k)) {
        let in_use = !state.db.vif_ports_of(n.uuid).await?.is_empty();
        if in_use {
            return Err(NetError::conflict(
                "NetworkInUse",
                format!("Unable to complete operation on network {id}. There are one or more ports still in use on the network."),
            ));
        }
    }
    apply(&mut n, &m)?;
    check_segment_free(&state, &n).await?;
    n.updated_at = Some(Timestamp::now());
    match state
        .db
        .network_update(&n, before.updated_at)
        .await
        .map_err(written(&n))?
    {
        ferric_db::UpdateOutcome::Updated => {}
        _ => {
            return Err(NetError::conflict(
                "Conflict",
                format!("Network {id} changed while it was being updated; try again."),
            ))
        }
    }
    Ok(Json(
        json!({"network": caller.network_view(rendered(&state, &n).await?)}),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: NetCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, NetError> {
    let n = find_visible(&state, &caller, &id).await?;
    if !caller.changes_network(&n) {
        return Err(disallowed("delete_network"));
    }
    let ports = state.db.vif_ports_of(n.uuid).await?;
    if !ports.is_empty() {
        return Err(NetError::conflict(
            "NetworkInUse",
            format!("Unable to complete operation on network {id}. There are one or more ports still in use on the network."),
        ));
    }
    for s in state.db.subnets_of(n.uuid).await? {
        state.db.subnet_delete(s.uuid).await?;
    }
    state.db.network_delete(n.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
