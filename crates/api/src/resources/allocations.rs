//! `/v1/allocations` (API 1.52): ask for a node by resource class, traits, candidate
//! nodes and owner; the conductor picks and reserves one. Backfill (1.58) records an
//! allocation for a node already in use; PATCH (1.57) renames or annotates; DELETE
//! frees the node. Also `/v1/nodes/{node}/allocation`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{allocation_sort_column, Cond, DbError};
use ferric_types::allocation::{ACTIVE, ALLOCATING, ERROR};
use ferric_types::ids::parse_uuid;
use ferric_types::name::is_valid_logical_name;
use ferric_types::provision::ProvisionState;
use ferric_types::traits::{invalid_trait_message, is_valid_trait};
use ferric_types::{Allocation, AllocationId, Microversion, Node, Timestamp};
use serde_json::Value;

use super::common::{check_outcome, created, next_stamp, params, show_selection};
use super::ident;
use super::nodes::node_uuid_cond;
use super::values::{check_create_keys, python_repr, uuid_field, Schema};
use crate::access::{Access, ListScope};
use crate::body::JsonBody;
use crate::chunked::{rows, Chunk};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::base_url;
use crate::listing::{NextLink, Paging};
use crate::patch;
use crate::shaped::Shaped;
use crate::AppState;
use ferric_authz::Target;

const SCHEMA: Schema = Schema("allocation");

static ALLOCATION_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 52),
        ("name", 52),
        ("node_uuid", 52),
        ("candidate_nodes", 52),
        ("resource_class", 52),
        ("traits", 52),
        ("extra", 52),
        ("state", 52),
        ("last_error", 52),
        ("created_at", 52),
        ("updated_at", 52),
        ("owner", 60),
    ],
    &[
        "uuid",
        "name",
        "node_uuid",
        "candidate_nodes",
        "resource_class",
        "traits",
        "extra",
        "state",
        "last_error",
        "created_at",
        "updated_at",
        "owner",
    ],
);

const CREATABLE: &[(&str, u16)] = &[
    ("uuid", 52),
    ("name", 52),
    ("candidate_nodes", 52),
    ("resource_class", 52),
    ("traits", 52),
    ("extra", 52),
    ("node", 58),
    ("owner", 60),
];

const NOT_SORTABLE: &[&str] = &["candidate_nodes", "traits", "extra"];

/// The allocation as `version` shows it, with its links.
fn shaped<'a>(
    a: &'a Allocation,
    base: &'a str,
    version: Microversion,
    selection: &'a Selection,
) -> Shaped<'a, Allocation> {
    Shaped::new(
        a,
        &ALLOCATION_FIELDS,
        version,
        selection,
        base,
        format!("allocations/{}", a.uuid),
    )
}

/// [`shaped`] as a JSON value, for single answers.
fn render(a: &Allocation, base: &str, version: Microversion, selection: &Selection) -> Value {
    shaped(a, base, version, selection).to_value()
}

fn not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Allocation {ident} could not be found."))
}

async fn find(state: &AppState, ident: &str) -> Result<Allocation, ApiError> {
    let result = if let Ok(uuid) = parse_uuid(ident) {
        state.db.allocation_get(AllocationId(uuid)).await
    } else if is_valid_logical_name(ident) {
        state.db.allocation_get_by_name(ident).await
    } else {
        return Err(ApiError::bad_request(format!(
            "Expected UUID or name for allocation: {ident}"
        )));
    };
    result.map_err(|e| match e {
        DbError::NotFound => not_found(ident),
        other => other.into(),
    })
}

/// The allocation named `ident` if the caller may see it (404 otherwise) and passes
/// `rule` on it (403 otherwise).
async fn find_for(
    state: &AppState,
    access: &Access,
    ident: &str,
    rule: &str,
) -> Result<Allocation, ApiError> {
    let a = find(state, ident).await?;
    check_allocation(access, &a, rule, || not_found(ident))?;
    Ok(a)
}

/// The allocation rules, judged on the allocation's own owner.
fn check_allocation(
    access: &Access,
    a: &Allocation,
    rule: &str,
    not_found: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    let target = Target::allocation(a.owner.as_deref());
    if !access.allows("baremetal:allocation:get", &target) {
        return Err(not_found());
    }
    access.require(rule, &target)
}

pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(version, 52)?;
    let mut params = params(q)?;
    let mut conds = Vec::new();
    let mut carried = Vec::new();
    if let Some(n) = params.take("node") {
        let node = access
            .node(&state, &n, version, "baremetal:node:get")
            .await?;
        conds.push(node_uuid_cond(node.uuid));
        carried.push(("node".to_string(), n));
    }
    let mut asked_owner = None;
    for (name, since) in [("resource_class", 52), ("state", 52), ("owner", 60)] {
        if let Some(v) = params.take_since(name, since, version)? {
            if name == "state" && ![ALLOCATING, ACTIVE, ERROR].contains(&v.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid allocation state \"{v}\": use allocating, active or error"
                )));
            }
            let column = match name {
                "resource_class" => "resource_class",
                "state" => "state",
                _ => "owner",
            };
            if name == "owner" {
                asked_owner = Some(v.clone());
            }
            conds.push(Cond::Eq(column, v.clone().into()));
            carried.push((name.to_string(), v));
        }
    }
    let mut paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &ALLOCATION_FIELDS,
        allocation_sort_column,
        NOT_SORTABLE,
        false,
    )?;
    params.finish()?;
    if let ListScope::Project(p) = access.list_scope("allocation", asked_owner.as_deref())? {
        conds.push(Cond::Eq("owner", p.into()));
    }
    if matches!(paging.selection, Selection::Short) {
        // Allocation lists show whole allocations.
        paging.selection = Selection::Full;
    }
    let base = base_url(&state, &headers);
    let link = NextLink {
        base: &base,
        url_path: "allocations",
        carried: &carried,
        default_fields: &[],
    };
    let listing = paging.listing("allocations", Some(&link));
    let query = paging.query(conds);
    let (db, selection) = (state.db.clone(), paging.selection);
    let source = rows(
        query,
        "Allocation",
        move |q| {
            let db = db.clone();
            async move { db.allocation_list(&q).await }
        },
        move |all: Vec<Allocation>| {
            Chunk::of(
                all.iter().map(|a| shaped(a, &base, version, &selection)),
                all.last().map(|a| a.uuid.to_string()),
            )
        },
    );
    listing.respond(source).await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 52)?;
    let selection = show_selection(q, &ALLOCATION_FIELDS, version)?;
    let a = find_for(&state, &access, &ident, "baremetal:allocation:get").await?;
    Ok(Json(render(
        &a,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

fn string_list(field: &str, v: Value) -> Result<Vec<String>, ApiError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                other => Err(SCHEMA.error(format!(
                    "{} is not of type 'string' in {field}",
                    python_repr(&other)
                ))),
            })
            .collect(),
        other => Err(SCHEMA.error(format!("{} is not of type 'array'", python_repr(&other)))),
    }
}

pub async fn create(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    super::common::require(version, 52)?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    access.require("baremetal:allocation:create", &Target::none())?;
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    let mut a = Allocation {
        uuid: AllocationId::new_v4(),
        name: None,
        node_uuid: None,
        candidate_nodes: Vec::new(),
        resource_class: None,
        traits: Vec::new(),
        extra: Default::default(),
        owner: None,
        state: ALLOCATING.into(),
        last_error: None,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    let mut backfill: Option<Node> = None;
    let mut explicit_uuid = false;
    for (field, value) in doc {
        match field.as_str() {
            "uuid" => {
                a.uuid = uuid_field("uuid", &value)?;
                explicit_uuid = true;
            }
            "name" => {
                a.name = SCHEMA.opt_string(value, 255)?;
                if let Some(n) = &a.name {
                    if !is_valid_logical_name(n) {
                        return Err(ApiError::bad_request(format!(
                            "Cannot create allocation with invalid name '{n}'"
                        )));
                    }
                }
            }
            "resource_class" => a.resource_class = SCHEMA.opt_string(value, 80)?,
            "extra" => a.extra = SCHEMA.object(value)?,
            "owner" => a.owner = SCHEMA.opt_string(value, 255)?,
            "traits" => {
                for t in string_list("traits", value)? {
                    if !is_valid_trait(&t) {
                        return Err(ApiError::bad_request(invalid_trait_message(&t)));
                    }
                    if !a.traits.contains(&t) {
                        a.traits.push(t);
                    }
                }
            }
            "candidate_nodes" => {
                for n in string_list("candidate_nodes", value)? {
                    let node = access.referenced_node(&state, &n, version).await?;
                    a.candidate_nodes.push(node.uuid.to_string());
                }
            }
            "node" => {
                let ident = value.as_str().unwrap_or_default().to_string();
                backfill = Some(access.referenced_node(&state, &ident, version).await?);
            }
            _ => {}
        }
    }
    a.owner = allocation_owner(&access, a.owner.take())?;
    if backfill.is_none() && a.resource_class.is_none() {
        return Err(SCHEMA.error("'resource_class' is a required property"));
    }
    if let Some(node) = &backfill {
        check_backfill(&mut a, node, explicit_uuid)?;
    }
    state.db.allocation_create(&a).await.map_err(|e| match e {
        DbError::Duplicate(col) if col == "name" => ApiError::conflict(format!(
            "An allocation with name {} already exists.",
            a.name.clone().unwrap_or_default()
        )),
        DbError::Duplicate(col) if col == "node_uuid" => {
            ApiError::conflict("The node already has an allocation.")
        }
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "An allocation with UUID {} already exists.",
            a.uuid
        )),
        other => other.into(),
    })?;
    if let Some(node) = backfill {
        if !state.db.node_backfill_allocation(node.uuid, a.uuid).await? {
            state.db.allocation_delete(&a).await?;
            return Err(ApiError::conflict(format!(
                "Node {} changed while the allocation was being recorded; retry.",
                node.uuid
            )));
        }
    } else {
        state.conductor.allocate(a.uuid).await?;
    }
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/allocations/{}", a.uuid),
        render(&a, &base, version, &Selection::Full),
    ))
}

/// The owner of a new allocation: a project caller's own project unless it may
/// create allocations for others (`baremetal:allocation:create_restricted`).
fn allocation_owner(access: &Access, asked: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(project) = access.project() else {
        return Ok(asked);
    };
    match asked {
        None => Ok(Some(project.to_string())),
        Some(owner) if owner == project => Ok(Some(owner)),
        Some(owner) => {
            if access.allows("baremetal:allocation:create_restricted", &Target::none()) {
                Ok(Some(owner))
            } else {
                Err(ApiError::forbidden(format!(
                    "Cannot create allocation with an owner Project ID value {owner} not matching \
                     the requester Project ID {project}. Policy \
                     baremetal:allocation:create_restricted is required for this capability."
                )))
            }
        }
    }
}

/// Rules of backfilling an allocation for a node already deployed.
fn check_backfill(a: &mut Allocation, node: &Node, explicit_uuid: bool) -> Result<(), ApiError> {
    if node.allocation_uuid.is_some() {
        return Err(ApiError::conflict(format!(
            "Node {} already has an allocation.",
            node.uuid
        )));
    }
    if !matches!(node.provision_state, ProvisionState::Active) {
        return Err(ApiError::bad_request(format!(
            "Allocation backfill needs an active node; node {} is in state \"{}\".",
            node.uuid, node.provision_state
        )));
    }
    if let Some(instance) = node.instance_uuid {
        if explicit_uuid && a.uuid.0 != instance {
            return Err(ApiError::bad_request(format!(
                "Node {} is associated with instance {instance}; the allocation UUID must match it.",
                node.uuid
            )));
        }
        a.uuid = AllocationId(instance);
    }
    if let Some(class) = &a.resource_class {
        if node.resource_class.as_ref() != Some(class) {
            return Err(ApiError::bad_request(format!(
                "Node {} has resource class {:?}, not {class}.",
                node.uuid, node.resource_class
            )));
        }
    }
    a.node_uuid = Some(node.uuid);
    a.state = ACTIVE.into();
    Ok(())
}

pub async fn update(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 52)?;
    if !version.at_least(57) {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PATCH of allocations needs API 1.57.",
        ));
    }
    let a = find_for(&state, &access, &ident, "baremetal:allocation:update").await?;
    let ops = patch::parse(body, &[("name", 57), ("extra", 57)], version)?;
    let mut updated = super::common::patched(&a, &ops, |a, field, value| {
        if field == "extra" {
            a.extra = SCHEMA.object(value)?;
            return Ok(());
        }
        a.name = SCHEMA.opt_string(value, 255)?;
        match &a.name {
            Some(n) if !is_valid_logical_name(n) => Err(ApiError::bad_request(format!(
                "Invalid allocation name '{n}'"
            ))),
            _ => Ok(()),
        }
    })?;
    updated.updated_at = Some(next_stamp(a.updated_at));
    let outcome = state
        .db
        .allocation_update(&updated, a.updated_at)
        .await
        .map_err(|e| match e {
            DbError::Duplicate(_) => ApiError::conflict(format!(
                "An allocation with name {} already exists.",
                updated.name.clone().unwrap_or_default()
            )),
            other => other.into(),
        })?;
    check_outcome(outcome, &format!("Allocation {}", a.uuid))?;
    Ok(Json(render(
        &updated,
        &base_url(&state, &headers),
        version,
        &Selection::Full,
    )))
}

/// Deletes an allocation, refusing while its node is deployed (unless in maintenance).
async fn remove(
    state: &AppState,
    a: &Allocation,
    version: Microversion,
) -> Result<StatusCode, ApiError> {
    if let Some(node_uuid) = a.node_uuid {
        if let Ok(node) = ident::node(state, &node_uuid.to_string(), version).await {
            let busy = node.provision_state == ProvisionState::Active
                || node.target_provision_state.is_some();
            if busy && !node.maintenance {
                return Err(ApiError::conflict(format!(
                    "Cannot delete allocation {} because node {} is in state \"{}\"",
                    a.uuid, node.uuid, node.provision_state
                )));
            }
            super::nodes::check_unlocked(&node)?;
        }
    }
    state.db.allocation_delete(a).await.map_err(|e| match e {
        DbError::NotFound => not_found(&a.uuid.to_string()),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 52)?;
    let a = find_for(&state, &access, &ident, "baremetal:allocation:delete").await?;
    remove(&state, &a, version).await
}

async fn of_node(
    state: &AppState,
    access: &Access,
    node_ident: &str,
    version: Microversion,
    rule: &str,
) -> Result<Allocation, ApiError> {
    super::common::require(version, 52)?;
    let node = access
        .node(state, node_ident, version, "baremetal:node:get")
        .await?;
    let none = || {
        ApiError::not_found(format!(
            "Allocation for node {node_ident} could not be found."
        ))
    };
    let a = state
        .db
        .allocation_get_by_node(node.uuid)
        .await
        .map_err(|e| match e {
            DbError::NotFound => none(),
            other => other.into(),
        })?;
    check_allocation(access, &a, rule, none)?;
    Ok(a)
}

pub async fn show_for_node(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let selection = show_selection(q, &ALLOCATION_FIELDS, version)?;
    let a = of_node(
        &state,
        &access,
        &node_ident,
        version,
        "baremetal:allocation:get",
    )
    .await?;
    Ok(Json(render(
        &a,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

pub async fn delete_for_node(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    let a = of_node(
        &state,
        &access,
        &node_ident,
        version,
        "baremetal:allocation:delete",
    )
    .await?;
    remove(&state, &a, version).await
}
