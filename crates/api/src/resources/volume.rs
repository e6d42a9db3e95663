//! `/v1/volume` (API 1.32): the root of volume connectors and targets, and what
//! both share — the version gate, which node a listing is scoped to, and Ironic's
//! rule that a node's storage wiring changes only while the machine is off.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ferric_db::Cond;
use ferric_types::provision::ProvisionState;
use ferric_types::{Microversion, Node};
use serde_json::{json, Value};

use super::nodes::node_uuid_cond;
use crate::access::{Access, ListScope};
use crate::error::ApiError;
use crate::links::{base_url, self_and_bookmark};
use crate::AppState;

/// The version volume resources came with.
pub const VOLUME: u16 = 32;

fn links(base: &str, prefix: &str) -> Value {
    json!({
        "links": self_and_bookmark(base, prefix),
        "connectors": self_and_bookmark(base, &format!("{prefix}/connectors")),
        "targets": self_and_bookmark(base, &format!("{prefix}/targets")),
    })
}

/// `GET /v1/volume`.
pub async fn root(
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, VOLUME)?;
    Ok(Json(links(&base_url(&state, &headers), "volume")))
}

/// `GET /v1/nodes/{node}/volume`.
pub async fn node_root(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, VOLUME)?;
    access
        .node(&state, &node_ident, version, "baremetal:volume:get")
        .await?;
    Ok(Json(links(
        &base_url(&state, &headers),
        &format!("nodes/{node_ident}/volume"),
    )))
}

/// The rows a listing may show: those of the node in the path or the `node`
/// filter (which may not both be given), narrowed to the caller's project.
pub async fn list_conds(
    state: &AppState,
    access: &Access,
    version: Microversion,
    path_node: Option<String>,
    filter_node: Option<String>,
    carried: &mut Vec<(String, String)>,
) -> Result<Vec<Cond>, ApiError> {
    let mut conds = Vec::new();
    if path_node.is_some() && filter_node.is_some() {
        return Err(ApiError::bad_request("Malformed request URI."));
    }
    if let Some(ident) = path_node.as_ref().or(filter_node.as_ref()) {
        let node = access
            .node(state, ident, version, "baremetal:volume:get")
            .await?;
        conds.push(node_uuid_cond(node.uuid));
    } else if let ListScope::Project(p) = access.list_scope("volume", None)? {
        conds.push(Access::project_nodes_cond(state, &p).await?);
    }
    if let Some(n) = filter_node {
        carried.push(("node".into(), n));
    }
    Ok(conds)
}

/// Ironic's rule for changing a node's volume resources: an update needs the
/// machine powered off; a deletion needs that too unless the node is in enroll,
/// manageable or adopt failed.
pub fn check_changeable(node: &Node, action: &str, deleting: bool) -> Result<(), ApiError> {
    let off = node.power_state.as_deref() == Some(ferric_types::power::POWER_OFF);
    let resting = matches!(
        node.provision_state,
        ProvisionState::Enroll | ProvisionState::Manageable | ProvisionState::AdoptFailed
    );
    if off || (deleting && resting) {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "The requested action \"{action}\" can not be performed on node \"{}\" while it is in state \"{}\".",
        node.uuid,
        node.power_state.as_deref().unwrap_or("None")
    )))
}
