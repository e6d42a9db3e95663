//! `/v1/volume` (API 1.32): the root of volume connectors and targets, and what
//! both share — the version gate, their listing (scoped to a node or to the
//! caller's project), the node checks of a create, update or delete, and Ironic's
//! rule that a node's storage wiring changes only while the machine is off.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{Cond, DbError, ListQuery};
use ferric_types::provision::ProvisionState;
use ferric_types::{Microversion, Node, NodeId};
use serde_json::{json, Value};

use super::ident;
use super::nodes::{check_unlocked, node_uuid_cond};
use crate::access::{Access, ListScope};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::{NextLink, Paging};
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

/// What a volume listing needs to know of its resource.
pub struct Listed<'a, T> {
    /// `connectors` or `targets`: the collection key and the path's last part.
    pub name: &'static str,
    /// `Volume connector`, for errors.
    pub what: &'static str,
    pub fields: &'static FieldSet,
    pub sort_column: fn(&str) -> Option<&'static str>,
    pub not_sortable: &'static [&'static str],
    pub render: &'a (dyn Fn(&T, &str, &Selection) -> Value + Sync),
    pub uuid: fn(&T) -> String,
}

/// `GET /v1/volume/{name}` and `GET /v1/nodes/{node}/volume/{name}`: the listing
/// of connectors or targets, `fetch` reading one page.
#[allow(clippy::too_many_arguments)]
pub async fn list<T, F, Fut>(
    state: &AppState,
    access: &Access,
    version: Microversion,
    headers: &HeaderMap,
    q: Option<String>,
    path_node: Option<String>,
    listed: Listed<'_, T>,
    fetch: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(ListQuery) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, DbError>>,
{
    super::common::require(version, VOLUME)?;
    let mut params = super::common::params(q)?;
    let mut carried = Vec::new();
    let filter_node = params.take("node");
    let conds = list_conds(
        state,
        access,
        version,
        path_node.clone(),
        filter_node,
        &mut carried,
    )
    .await?;
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        listed.fields,
        listed.sort_column,
        listed.not_sortable,
        false,
    )?;
    params.finish()?;
    let all = fetch(paging.query(conds))
        .await
        .map_err(paging.list_error(listed.what))?;
    let base = base_url(state, headers);
    let last = all.last().map(listed.uuid);
    let items = all
        .iter()
        .map(|item| (listed.render)(item, &base, &paging.selection))
        .collect();
    let url_path = match &path_node {
        Some(n) => format!("nodes/{n}/volume/{}", listed.name),
        None => format!("volume/{}", listed.name),
    };
    let link = NextLink {
        base: &base,
        url_path: &url_path,
        carried: &carried,
        default_fields: listed.fields.list_default,
    };
    Ok(paging.collection(listed.name, items, last, &link))
}

/// The node a new connector or target names: judged like a port's (403 for a node
/// the caller may not create on), then it must exist (400) and be unlocked.
pub async fn node_for_create(
    state: &AppState,
    access: &Access,
    node: NodeId,
    version: Microversion,
) -> Result<Node, ApiError> {
    access
        .require_on_node_of_body(state, node, "baremetal:volume:create")
        .await?;
    let node = ident::node(state, &node.to_string(), version)
        .await
        .map_err(ident::as_bad_reference)?;
    check_unlocked(&node)?;
    Ok(node)
}

/// The node of an item being updated, read once: visible (else `not_found`) and
/// the caller passes the update rule on it.
pub async fn node_for_update(
    state: &AppState,
    access: &Access,
    version: Microversion,
    node: NodeId,
    not_found: impl FnOnce() -> ApiError,
) -> Result<Node, ApiError> {
    let node = ident::node(state, &node.to_string(), version).await?;
    access.check_child_of(&node, "baremetal:volume:update", not_found)?;
    Ok(node)
}

/// The nodes an update touches: the item's `node`, and the one the body moves it
/// to, must both be unlocked (the first) and powered off.
pub async fn check_update(
    state: &AppState,
    access: &Access,
    version: Microversion,
    node: &Node,
    after: NodeId,
    action: &str,
) -> Result<(), ApiError> {
    check_unlocked(node)?;
    check_changeable(node, action, false)?;
    if after != node.uuid {
        let target = ident::node(state, &after.to_string(), version)
            .await
            .map_err(ident::as_bad_reference)?;
        access.check_child_of(&target, "baremetal:volume:update", || {
            ident::as_bad_reference(ident::node_not_found(&after.to_string()))
        })?;
        check_changeable(&target, action, false)?;
    }
    Ok(())
}

/// The node of an item being deleted: visible (else `not_found`), the caller
/// passes the delete rule, unlocked, and in a state that allows it.
pub async fn check_delete(
    state: &AppState,
    access: &Access,
    version: Microversion,
    node: NodeId,
    action: &str,
    not_found: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    let node = ident::node(state, &node.to_string(), version).await?;
    access.check_child_of(&node, "baremetal:volume:delete", not_found)?;
    check_unlocked(&node)?;
    check_changeable(&node, action, true)
}
