//! `/v1/nodes`: list (with every filter of the served versions), show, create, JSON
//! patch update with the per-state rules that need no conductor, delete, and the
//! read-only `states` view. Listings of a chassis' nodes reuse [`list`].

use std::collections::BTreeSet;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferric_conductor_api::ring::Rings;
use ferric_db::{node_sort_column, Cond, DbError, Value as DbValue};
use ferric_types::hardware::InterfaceKind;
use ferric_types::provision::ProvisionState;
use ferric_types::{Microversion, Node, NodeId, Timestamp};
use serde_json::{json, Map, Value};

use super::common::{check_outcome, created, next_stamp, params};
use super::ident;
use super::node_fields::{
    apply_field, check_consistency, initial_state, render, resolve_interfaces, shaped, Origin,
    CREATABLE, NODE_FIELDS, NOT_SORTABLE, PATCHABLE, SCHEMA,
};
use super::values::check_create_keys;
use super::{node_patch_rules, node_redaction};
use crate::access::{node_target, Access, ListScope};
use crate::body::{object, JsonBody};
use crate::chunked::{rows, Chunk};
use crate::error::ApiError;
use crate::fields::Selection;
use crate::links::base_url;
use crate::listing::NextLink;
use crate::listing::Served;
use crate::listing::{parse_bool, Paging, Params};
use crate::patch;
use crate::AppState;
use ferric_authz::Target;

/// Values of the `fault` filter.
const FAULTS: &[&str] = &[
    "power failure",
    "clean failure",
    "rescue abort failure",
    "service failure",
];

/// The node filters of a list request.
struct Filters {
    conds: Vec<Cond>,
    /// The filters to repeat in the `next` link.
    carried: Vec<(String, String)>,
    /// False when the listing has no next page by definition (`instance_uuid`).
    paginate: bool,
    /// Only nodes this conductor owns on the hash ring.
    conductor: Option<String>,
    /// Only children of this node (name or UUID).
    parent: Option<String>,
    /// The project the request narrows the list to (`project`, else `owner`).
    asked_project: Option<String>,
}

/// Reads the node filters of the served versions.
fn filters(params: &mut Params, version: Microversion) -> Result<Filters, ApiError> {
    let mut conds = Vec::new();
    let mut carried = Vec::new();
    let mut parents = Vec::new();
    let mut paginate = true;
    let mut asked_project = None;
    if let Some(v) = params.take("instance_uuid") {
        let uuid = ferric_types::ids::parse_uuid(&v)
            .map_err(|_| ApiError::bad_request(format!("Expected UUID for instance_uuid: {v}")))?;
        conds.push(Cond::Eq("instance_uuid", uuid.to_string().into()));
        paginate = false;
    }
    for (name, column) in [
        ("associated", "instance_uuid"),
        ("maintenance", "maintenance"),
    ] {
        if let Some(text) = params.take(name) {
            let b = parse_bool(name, &text)?;
            conds.push(if name == "associated" {
                if b {
                    Cond::NotNull(column)
                } else {
                    Cond::IsNull(column)
                }
            } else {
                Cond::Eq(column, b.into())
            });
            carried.push((name.to_string(), text));
        }
    }
    if let Some(text) = params.take_since("retired", 61, version)? {
        let b = parse_bool("retired", &text)?;
        conds.push(Cond::Eq("retired", b.into()));
        carried.push(("retired".into(), text));
    }
    if let Some(state) = params.take_since("provision_state", 9, version)? {
        state.parse::<ProvisionState>().map_err(|_| {
            ApiError::bad_request(format!("Provision state \"{state}\" is not valid"))
        })?;
        conds.push(Cond::Eq("provision_state", state.clone().into()));
        carried.push(("provision_state".into(), state));
    }
    let simple: [(&str, &'static str, u16); 6] = [
        ("driver", "driver", 16),
        ("resource_class", "resource_class", 21),
        ("conductor_group", "conductor_group", 46),
        ("owner", "owner", 50),
        ("lessee", "lessee", 65),
        ("instance_name", "instance_name", 104),
    ];
    for (name, column, since) in simple {
        if let Some(v) = params.take_since(name, since, version)? {
            let v = if name == "conductor_group" {
                v.to_ascii_lowercase()
            } else {
                v
            };
            if name == "owner" {
                asked_project = Some(v.clone());
            }
            conds.push(Cond::Eq(column, v.clone().into()));
            carried.push((name.to_string(), v));
        }
    }
    if let Some(fault) = params.take_since("fault", 42, version)? {
        if !FAULTS.contains(&fault.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Invalid fault \"{fault}\": must be one of {}",
                FAULTS.join(", ")
            )));
        }
        conds.push(Cond::Eq("fault", fault.clone().into()));
        carried.push(("fault".into(), fault));
    }
    let conductor = params.take_since("conductor", 49, version)?;
    if let Some(host) = &conductor {
        carried.push(("conductor".into(), host.clone()));
    }
    if let Some(text) = params.take_since("description_contains", 51, version)? {
        conds.push(Cond::Contains("description", text.clone()));
        carried.push(("description_contains".into(), text));
    }
    if let Some(csv) = params.take_since("shard", 82, version)? {
        let shards: Vec<DbValue> = csv
            .split(',')
            .map(|s| DbValue::Text(s.trim().to_string()))
            .collect();
        conds.push(Cond::In("shard", shards));
        carried.push(("shard".into(), csv));
    }
    if let Some(text) = params.take_since("sharded", 82, version)? {
        conds.push(if parse_bool("sharded", &text)? {
            Cond::NotNull("shard")
        } else {
            Cond::IsNull("shard")
        });
        carried.push(("sharded".into(), text));
    }
    if let Some(csv) = params.take("traits") {
        conds.extend(trait_conds(&csv)?);
        carried.push(("traits".into(), csv));
    }
    let parent = params.take_since("parent_node", 83, version)?;
    let include_children = match params.take_since("include_children", 83, version)? {
        Some(text) => parse_bool("include_children", &text)?,
        None => false,
    };
    match parent {
        Some(ident) => parents.push(ident),
        // Child nodes stay out of listings unless asked for.
        None if !include_children => conds.push(Cond::IsNull("parent_node")),
        None => carried.push(("include_children".into(), "True".into())),
    }
    if let Some(project) = params.take_since("project", 65, version)? {
        conds.push(Cond::Or(vec![
            Cond::Eq("owner", project.clone().into()),
            Cond::Eq("lessee", project.clone().into()),
        ]));
        asked_project = Some(project.clone());
        carried.push(("project".into(), project));
    }
    Ok(Filters {
        conds,
        carried,
        paginate,
        conductor,
        parent: parents.pop(),
        asked_project,
    })
}

/// The conditions of Ferric's `traits` filter (not in Ironic, which lists
/// nodes by no trait): a comma-separated list of traits the node must all have.
fn trait_conds(csv: &str) -> Result<Vec<Cond>, ApiError> {
    csv.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if ferric_types::traits::is_valid_trait(t) {
                Ok(Cond::JsonArrayHas("traits", t.to_string()))
            } else {
                Err(ApiError::bad_request(format!(
                    "Invalid trait in the traits filter. {}",
                    ferric_types::traits::invalid_trait_message(t)
                )))
            }
        })
        .collect()
}

/// Fills each node's `conductor` from the hash ring of alive conductors.
pub async fn assign_conductors(state: &AppState, nodes: &mut [Node]) -> Result<(), ApiError> {
    assign(&*state.rings.rings().await?, nodes);
    Ok(())
}

/// Fills each node's `conductor` from `rings`.
fn assign(rings: &Rings, nodes: &mut [Node]) {
    for node in nodes {
        node.conductor = rings
            .conductor_for(&node.uuid.to_string(), &node.conductor_group)
            .map(str::to_string);
    }
}

/// The condition "owned by conductor `host`": the ring is not in the database, so the
/// owned UUIDs are computed here.
async fn owned_by(state: &AppState, host: &str) -> Result<Cond, ApiError> {
    let rings = state.rings.rings().await?;
    let all = state.db.node_list(&ferric_db::ListQuery::default()).await?;
    let owned = all
        .iter()
        .filter(|n| rings.conductor_for(&n.uuid.to_string(), &n.conductor_group) == Some(host))
        .map(|n| DbValue::Text(n.uuid.to_string()))
        .collect();
    Ok(Cond::In("uuid", owned))
}

/// The condition "owned by or leased to `project`".
pub fn project_cond(project: &str) -> Cond {
    Cond::Or(vec![
        Cond::Eq("owner", project.into()),
        Cond::Eq("lessee", project.into()),
    ])
}

/// Lists nodes matching `base_conds` (a chassis' nodes, say) and the request's filters,
/// narrowed to what the caller may list.
pub async fn list(
    state: &AppState,
    access: &Access,
    headers: &HeaderMap,
    version: Microversion,
    raw_query: Option<String>,
    base_conds: Vec<Cond>,
    served: Served<'_>,
) -> Result<Response, ApiError> {
    let mut params = params(raw_query)?;
    let Filters {
        mut conds,
        mut carried,
        paginate,
        conductor,
        parent,
        asked_project,
    } = filters(&mut params, version)?;
    if let ListScope::Project(project) = access.list_scope("node", asked_project.as_deref())? {
        conds.push(project_cond(&project));
    }
    if let Some(ident) = parent {
        let p = access
            .node(state, &ident, version, "baremetal:node:get")
            .await?;
        conds.push(Cond::Eq("parent_node", p.uuid.to_string().into()));
        carried.push(("parent_node".into(), ident));
    }
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &NODE_FIELDS,
        node_sort_column,
        NOT_SORTABLE,
        served.detail,
    )?;
    params.finish()?;
    conds.extend(base_conds);
    if let Some(host) = conductor {
        conds.push(owned_by(state, &host).await?);
    }
    let base = base_url(state, headers);
    let link = NextLink {
        base: &base,
        url_path: served.path,
        carried: &carried,
        default_fields: NODE_FIELDS.list_default,
    };
    let listing = paging.listing("nodes", paginate.then_some(&link));
    let query = paging.query(conds);
    let rings = state.rings.rings().await?;
    let (db, access, selection) = (state.db.clone(), access.clone(), paging.selection);
    let source = rows(
        query,
        "Node",
        move |q| {
            let db = db.clone();
            async move { db.node_list(&q).await }
        },
        move |mut nodes: Vec<Node>| {
            assign(&rings, &mut nodes);
            let items = nodes.iter().map(|n| {
                let mut item = shaped(n, &base, version, &selection);
                node_redaction::redact(&access, n, &mut item);
                item
            });
            Chunk::of(items, nodes.last().map(|n| n.uuid.to_string()))
        },
    );
    listing.respond(source).await
}

pub async fn list_nodes(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &state,
        &access,
        &headers,
        version,
        q,
        Vec::new(),
        Served::at("nodes", false),
    )
    .await
}

pub async fn list_nodes_detail(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &state,
        &access,
        &headers,
        version,
        q,
        Vec::new(),
        Served::at("nodes/detail", true),
    )
    .await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let selection = super::common::show_selection(q, &NODE_FIELDS, version)?;
    let mut node = access
        .node(&state, &node_ident, version, "baremetal:node:get")
        .await?;
    assign_conductors(&state, std::slice::from_mut(&mut node)).await?;
    let base = base_url(&state, &headers);
    let mut body = shaped(&node, &base, version, &selection);
    node_redaction::redact(&access, &node, &mut body);
    Ok(Json(&body).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!(
                "{} is not of type 'object'",
                super::values::python_repr(&other)
            )))
        }
    };
    let self_owned = creator_project(&access, &doc)?;
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    if !doc.contains_key("driver") {
        return Err(SCHEMA.error("'driver' is a required property"));
    }
    let mut node = Node::new(
        NodeId::new_v4(),
        String::new(),
        initial_state(version),
        Timestamp::now(),
    );
    // The conductor group first: the driver check names it.
    let mut doc = doc;
    if let Some(group) = doc.remove("conductor_group") {
        apply_field(&mut node, "conductor_group", group, Origin::Create)?;
    }
    for (field, value) in doc {
        let value = if field == "parent_node" {
            resolve_parent(&state, &access, value, version, node.uuid).await?
        } else {
            value
        };
        apply_field(&mut node, &field, value, Origin::Create)?;
    }
    if let Some(project) = self_owned {
        node.owner = Some(project);
    }
    check_consistency(&node)?;
    resolve_interfaces(&mut node, &[])?;
    if let Some(chassis) = node.chassis_uuid {
        ident::chassis(&state, &chassis.to_string())
            .await
            .map_err(ident::as_bad_reference)?;
    }
    state
        .db
        .node_create(&node)
        .await
        .map_err(|e| duplicate_error(e, &node))?;
    assign_conductors(&state, std::slice::from_mut(&mut node)).await?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/nodes/{}", node.uuid),
        render(&node, &base, version, &Selection::Full),
    ))
}

/// Who may create a node: a system admin as asked, or (Ironic's
/// `project_admin_can_manage_own_nodes`) a project admin, whose node its project
/// owns. Returns that project.
fn creator_project(access: &Access, doc: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    if access.allows("baremetal:node:create", &Target::none()) {
        return Ok(None);
    }
    access.require("baremetal:node:create:self_owned_node", &Target::none())?;
    let Some(project) = access.project() else {
        return Ok(None);
    };
    match doc.get("owner") {
        None | Some(Value::Null) => Ok(Some(project.to_string())),
        Some(Value::String(o)) if o == project => Ok(Some(project.to_string())),
        Some(_) => Err(ApiError::bad_request(
            "Cannot create a node as a project scoped admin with an owner other than your own project.",
        )),
    }
}

/// Turns a `parent_node` given by name or UUID into the parent's UUID; the parent
/// must exist and be visible to the caller (400 otherwise) and may not be the node
/// itself.
async fn resolve_parent(
    state: &AppState,
    access: &Access,
    value: Value,
    version: Microversion,
    child: NodeId,
) -> Result<Value, ApiError> {
    let Value::String(ident) = value else {
        return Ok(value);
    };
    let parent = access.referenced_node(state, &ident, version).await?;
    if parent.uuid == child {
        return Err(ApiError::bad_request("A node cannot be its own parent."));
    }
    Ok(Value::String(parent.uuid.to_string()))
}

/// The conflict answer for a write that hit a unique constraint.
fn duplicate_error(err: DbError, node: &Node) -> ApiError {
    match err {
        DbError::Duplicate(col) if col == "name" => ApiError::conflict(format!(
            "A node with name {} already exists.",
            node.name.clone().unwrap_or_default()
        )),
        DbError::Duplicate(col) if col == "uuid" => {
            ApiError::conflict(format!("A node with UUID {} already exists.", node.uuid))
        }
        DbError::Duplicate(col) if col == "instance_uuid" => ApiError::conflict(format!(
            "Instance {} is already associated with a node, it cannot be associated with this other node {}",
            node.instance_uuid.map(|u| u.to_string()).unwrap_or_default(),
            node.uuid
        )),
        DbError::Reference => ApiError::bad_request(format!(
            "Chassis {} could not be found.",
            node.chassis_uuid.map(|c| c.to_string()).unwrap_or_default()
        )),
        other => other.into(),
    }
}

/// 409 when a conductor holds the node's lock.
pub fn check_unlocked(node: &Node) -> Result<(), ApiError> {
    match &node.reservation {
        Some(host) => Err(ApiError::conflict(format!(
            "Node {} is locked by host {host}, please retry after the current operation is completed.",
            node.uuid
        ))),
        None => Ok(()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let mut params = params(q)?;
    let reset_interfaces = match params.take_since("reset_interfaces", 45, version)? {
        Some(v) => Some(parse_bool("reset_interfaces", &v)?),
        None => None,
    };
    params.finish()?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:get")
        .await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    node_patch_rules::check(&access, &node, &ops)?;
    check_unlocked(&node)?;
    let lone_instance_removal = ops.len() == 1
        && ops[0].root() == "instance_uuid"
        && ops[0].is_root_remove()
        && node.maintenance;
    let busy =
        node.target_provision_state.is_some() && !node.provision_state.allows_update_while_busy();
    let inspecting = version.at_least(39) && node.provision_state == ProvisionState::Inspecting;
    if (busy || inspecting) && !lone_instance_removal {
        return Err(ApiError::conflict(format!(
            "Node {} can not be updated while a state transition is in progress.",
            node.uuid
        )));
    }
    let mut doc = super::common::to_object(&node);
    patch::apply(&mut doc, &ops)?;
    let touched: BTreeSet<String> = ops.iter().map(|op| op.root().to_string()).collect();
    let mut updated = node.clone();
    for field in &touched {
        let mut value = doc.get(field).cloned().unwrap_or(Value::Null);
        if field == "parent_node" {
            value = resolve_parent(&state, &access, value, version, node.uuid).await?;
        }
        apply_field(&mut updated, field, value, Origin::Update)?;
    }
    check_update_rules(&node, &mut updated, &touched, reset_interfaces, version)?;
    copy_display_name(&node, &mut updated);
    node_patch_rules::check_owner_change(&access, &state, &node, &updated).await?;
    if updated.chassis_uuid != node.chassis_uuid {
        if let Some(chassis) = updated.chassis_uuid {
            ident::chassis(&state, &chassis.to_string())
                .await
                .map_err(ident::as_bad_reference)?;
        }
    }
    updated.updated_at = Some(next_stamp(node.updated_at));
    let outcome = state
        .db
        .node_update(&updated, node.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Node {}", node.uuid))?;
    if let (Some(allocation), None) = (node.allocation_uuid, updated.instance_uuid) {
        // Removing the instance of an allocated node ends its allocation.
        if let Ok(a) = state
            .db
            .allocation_get(ferric_types::AllocationId(allocation))
            .await
        {
            state.db.allocation_delete(&a).await?;
        }
        updated.allocation_uuid = None;
    }
    assign_conductors(&state, std::slice::from_mut(&mut updated)).await?;
    Ok(Json(render(
        &updated,
        &base_url(&state, &headers),
        version,
        &Selection::Full,
    )))
}

/// Ironic's forward step (1.104): an instance_info change that carries a
/// `display_name` names the instance when nothing else has.
fn copy_display_name(before: &Node, after: &mut Node) {
    if after.instance_info == before.instance_info || after.instance_name.is_some() {
        return;
    }
    if let Some(name) = after
        .instance_info
        .get("display_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        after.instance_name = Some(name.chars().take(255).collect());
    }
}

/// The rules of a node update that compare the node before and after.
fn check_update_rules(
    before: &Node,
    after: &mut Node,
    touched: &BTreeSet<String>,
    reset_interfaces: Option<bool>,
    version: Microversion,
) -> Result<(), ApiError> {
    let uuid = before.uuid;
    let state = before.provision_state;
    let driver_changed = after.driver != before.driver;
    if reset_interfaces.is_some() && !touched.contains("driver") {
        return Err(ApiError::bad_request(
            "The reset_interfaces parameter can be provided only when changing the node's driver.",
        ));
    }
    let touched_kinds: Vec<InterfaceKind> = InterfaceKind::ALL
        .into_iter()
        .filter(|k| touched.contains(k.field()))
        .collect();
    let interfaces_changed = touched_kinds
        .iter()
        .any(|k| after.interface(*k) != before.interface(*k));
    if interfaces_changed && !(state.allows_interface_update() || before.maintenance) {
        return Err(ApiError::conflict(format!(
            "Node {uuid}: interfaces can only be updated in provision states enroll, inspecting, \
             inspect wait, manageable or available, or in maintenance mode; the node is in '{state}'."
        )));
    }
    if driver_changed && before.console_enabled {
        return Err(ApiError::conflict(format!(
            "Node {uuid} can not update the driver while the console is enabled. Please stop the console first."
        )));
    }
    if driver_changed || !touched_kinds.is_empty() {
        let reset: Vec<InterfaceKind> = if driver_changed && reset_interfaces == Some(true) {
            InterfaceKind::ALL
                .into_iter()
                .filter(|k| !touched_kinds.contains(k))
                .collect()
        } else {
            Vec::new()
        };
        resolve_interfaces(after, &reset)?;
    }
    if before.resource_class.is_some()
        && after.resource_class != before.resource_class
        && !state.allows_resource_class_update()
    {
        return Err(ApiError::conflict(format!(
            "Node {uuid}: resource class can only be updated when node is in ENROLL, INSPECTING, \
             INSPECTWAIT, MANAGEABLE, or AVAILABLE state; it is in '{state}'."
        )));
    }
    if let (Some(old), Some(new)) = (before.instance_uuid, after.instance_uuid) {
        if old != new {
            return Err(ApiError::conflict(format!(
                "Node {uuid} is associated with instance {old}."
            )));
        }
    }
    if after.protected && !before.protected && !state.allows_protection() {
        return Err(ApiError::conflict(format!(
            "Node {uuid} can only be made protected in provision states 'active' or 'rescue', the current state is '{state}'"
        )));
    }
    if after.retired && !before.retired && state == ProvisionState::Available {
        return Err(ApiError::conflict(format!(
            "Node {uuid} can not have 'retired' set in provision state 'available'; move it to 'manageable' first."
        )));
    }
    if before.chassis_uuid.is_some() && after.chassis_uuid.is_none() && !version.at_least(25) {
        return Err(ApiError::bad_request(format!(
            "Node {uuid}: the chassis_uuid can be removed only from API version 1.25 on."
        )));
    }
    check_consistency(after)
}

pub async fn delete(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:get")
        .await?;
    if !access.allows("baremetal:node:delete", &node_target(&node)) {
        access.require("baremetal:node:delete:self_owned_node", &node_target(&node))?;
    }
    if node.protected {
        return Err(ApiError::forbidden(format!(
            "Node {} is protected and cannot be undeployed, rebuilt or deleted",
            node.uuid
        )));
    }
    check_unlocked(&node)?;
    if !node.maintenance {
        if !node.provision_state.allows_delete() {
            return Err(ApiError::conflict(format!(
                "Can not delete node {} while it is in provision state \"{}\". Valid provision states to \
                 start deletion are: available, enroll, manageable, adopt failed (or put the node in maintenance).",
                node.uuid, node.provision_state
            )));
        }
        if let Some(instance) = node.instance_uuid {
            return Err(ApiError::conflict(format!(
                "Node {} is associated with instance {instance}.",
                node.uuid
            )));
        }
    }
    state.db.node_delete(node.uuid).await.map_err(|e| match e {
        DbError::NotFound => ident::node_not_found(&node_ident),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/nodes/{node}/children` (API 1.83): the UUIDs of the node's children.
pub async fn children(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 83)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:get")
        .await?;
    let mut conds = vec![Cond::Eq("parent_node", node.uuid.to_string().into())];
    if let ListScope::Project(project) = access.list_scope("node", None)? {
        conds.push(project_cond(&project));
    }
    let query = ferric_db::ListQuery {
        conds,
        ..ferric_db::ListQuery::default()
    };
    let children: Vec<String> = state
        .db
        .node_list(&query)
        .await?
        .iter()
        .map(|n| n.uuid.to_string())
        .collect();
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "children": children,
        "links": {"href": format!("{base}/v1/nodes?parent_node={}", node.uuid), "rel": "children"},
    })))
}

pub async fn states(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:get_states")
        .await?;
    let rendered = render(&node, "", version, &Selection::Full);
    let mut body = json!({
        "console_enabled": node.console_enabled,
        "last_error": node.last_error,
        "power_state": node.power_state,
        "provision_state": rendered["provision_state"],
        "target_power_state": node.target_power_state,
        "target_provision_state": rendered["target_provision_state"],
        "provision_updated_at": node.provision_updated_at,
    });
    if version.at_least(12) {
        body["raid_config"] = Value::Object(node.raid_config.clone());
        body["target_raid_config"] = Value::Object(node.target_raid_config.clone());
    }
    if version.at_least(75) {
        body["boot_mode"] = json!(node.boot_mode);
        body["secure_boot"] = json!(node.secure_boot);
    }
    Ok(Json(body))
}

/// `PUT /maintenance`: sets maintenance with an optional reason (body or query).
pub async fn maintenance_set(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let mut params = params(q)?;
    let mut reason = params.take("reason");
    params.finish()?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let doc = object(crate::body::parse(&body)?, "request body")?;
        for (key, value) in doc {
            match (key.as_str(), value) {
                ("reason", Value::String(r)) => reason = Some(r),
                ("reason", Value::Null) => reason = None,
                ("reason", other) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid reason: {other} is not a string"
                    )))
                }
                (other, _) => {
                    return Err(ApiError::bad_request(format!(
                        "Unknown argument: \"{other}\""
                    )))
                }
            }
        }
    }
    set_maintenance(&state, &access, &node_ident, version, true, reason).await
}

/// `DELETE /maintenance`: leaves maintenance, clearing the reason and any fault.
pub async fn maintenance_unset(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Response, ApiError> {
    set_maintenance(&state, &access, &node_ident, version, false, None).await
}

async fn set_maintenance(
    state: &AppState,
    access: &Access,
    node_ident: &str,
    version: Microversion,
    on: bool,
    reason: Option<String>,
) -> Result<Response, ApiError> {
    let rule = if on {
        "baremetal:node:set_maintenance"
    } else {
        "baremetal:node:clear_maintenance"
    };
    let node = access.node(state, node_ident, version, rule).await?;
    check_unlocked(&node)?;
    let mut updated = node.clone();
    updated.maintenance = on;
    updated.maintenance_reason = reason;
    if !on {
        updated.fault = None;
    }
    updated.updated_at = Some(next_stamp(node.updated_at));
    let outcome = state.db.node_update(&updated, node.updated_at).await?;
    check_outcome(outcome, &format!("Node {}", node.uuid))?;
    tracing::info!(node = %node.uuid, maintenance = on, "maintenance changed");
    let event = match (on, &updated.maintenance_reason) {
        (true, Some(reason)) => format!("Maintenance set: {reason}"),
        (true, None) => "Maintenance set".to_string(),
        (false, _) => "Maintenance unset".to_string(),
    };
    let entry = ferric_types::history::HistoryEvent::new(
        node.uuid,
        ferric_types::history::INFO,
        "maintenance",
        event,
        None,
    )
    .by(&access.requester());
    if let Err(e) = state.db.history_record(&entry).await {
        tracing::warn!(node = %node.uuid, error = %e, "could not record node history");
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Guards a condition on a node column the DB layer knows by name.
pub fn node_uuid_cond(uuid: NodeId) -> Cond {
    Cond::Eq("node_uuid", DbValue::Text(uuid.to_string()))
}
