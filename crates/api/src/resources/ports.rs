//! `/v1/ports`: list (filters `node`, `node_uuid`, `address`, `portgroup`), show,
//! create, JSON patch update, delete; and the scoped listings under a node and under
//! a port group.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{port_sort_column, Cond, DbError};
use ferric_types::provision::ProvisionState;
use ferric_types::{MacAddress, Microversion, NodeId, Port, PortId, Timestamp};
use serde_json::Value;

use super::common::{check_outcome, created, csv_items, next_stamp, nodes_cond, params};
use super::ident;
use super::nodes::{check_unlocked, node_uuid_cond, project_cond};
use super::port_fields::{
    apply_field, check_consistency, render, shaped, CREATABLE, NOT_SORTABLE, PATCHABLE,
    PORT_FIELDS, SCHEMA,
};
use super::values::{check_create_keys, mac_field, python_repr};
use crate::access::{Access, ListScope};
use crate::body::JsonBody;
use crate::chunked::{rows, Chunk};
use crate::error::ApiError;
use crate::fields::Selection;
use crate::links::base_url;
use crate::listing::NextLink;
use crate::listing::Paging;
use crate::listing::Served;
use crate::patch;
use crate::AppState;

/// Where a listing is scoped.
pub enum Scope {
    All,
    Node(String),
    PortGroup(String),
}

async fn list(
    state: &AppState,
    access: &Access,
    headers: &HeaderMap,
    version: Microversion,
    raw_query: Option<String>,
    scope: Scope,
    served: Served<'_>,
) -> Result<Response, ApiError> {
    let mut params = params(raw_query)?;
    let mut conds = Vec::new();
    // Filters on the ports' nodes, read once at the end.
    let mut node_conds = Vec::new();
    let mut carried = Vec::new();
    let node = params.take("node");
    let node_uuid = params.take("node_uuid");
    let portgroup = params.take_since("portgroup", 24, version)?;
    if [&node, &node_uuid, &portgroup]
        .iter()
        .filter(|p| p.is_some())
        .count()
        > 1
    {
        return Err(ApiError::bad_request(
            "Only one of node, node_uuid and portgroup may be given.",
        ));
    }
    match scope {
        Scope::All => {
            if let ListScope::Project(p) = access.list_scope("port", None)? {
                node_conds.push(project_cond(&p));
            }
        }
        Scope::Node(n) => {
            let node = access
                .node(state, &n, version, "baremetal:port:get")
                .await?;
            conds.push(node_uuid_cond(node.uuid));
        }
        Scope::PortGroup(pg) => {
            let pg = visible_portgroup(state, access, &pg).await?;
            conds.push(Cond::Eq("portgroup_uuid", pg.uuid.to_string().into()));
        }
    }
    if let Some(n) = node.or(node_uuid) {
        let node = access
            .node(state, &n, version, "baremetal:port:get")
            .await?;
        conds.push(node_uuid_cond(node.uuid));
        carried.push(("node".to_string(), n));
    }
    if let Some(pg) = portgroup {
        let group = visible_portgroup(state, access, &pg).await?;
        conds.push(Cond::Eq("portgroup_uuid", group.uuid.to_string().into()));
        carried.push(("portgroup".to_string(), pg));
    }
    let narrowed = !carried.is_empty();
    if let Some(csv) = params.take_since("shard", 82, version)? {
        if narrowed {
            return Err(ApiError::bad_request(
                "The shard filter cannot be combined with node or portgroup.",
            ));
        }
        node_conds.push(Cond::In("shard", csv_items(&csv)));
        carried.push(("shard".to_string(), csv));
    }
    let address = params.take("address");
    if let Some(csv) = params.take_since("conductor_groups", 99, version)? {
        if narrowed || address.is_some() {
            return Err(ApiError::bad_request(
                "Filtering by conductor_groups cannot be combined with node_ident, \
                 portgroup_ident, or node address filters.",
            ));
        }
        let groups = csv_items(&csv.to_ascii_lowercase());
        node_conds.push(Cond::In("conductor_group", groups));
        carried.push(("conductor_groups".to_string(), csv));
    }
    if let Some(text) = params.take_since("description_contains", 97, version)? {
        conds.push(Cond::Contains("description", text.clone()));
        carried.push(("description_contains".to_string(), text));
    }
    if let Some(address) = address {
        let mac = mac_field("address", &Value::String(address.clone()))?;
        conds.push(Cond::Eq("address", mac.to_string().into()));
        carried.push(("address".to_string(), address));
    }
    if !node_conds.is_empty() {
        conds.push(nodes_cond(state, node_conds).await?);
    }
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &PORT_FIELDS,
        port_sort_column,
        NOT_SORTABLE,
        served.detail,
    )?;
    params.finish()?;
    let base = base_url(state, headers);
    let link = NextLink {
        base: &base,
        url_path: served.path,
        carried: &carried,
        default_fields: PORT_FIELDS.list_default,
    };
    let listing = paging.listing("ports", Some(&link));
    let query = paging.query(conds);
    let (db, selection) = (state.db.clone(), paging.selection);
    let source = rows(
        query,
        "Port",
        move |q| {
            let db = db.clone();
            async move { db.port_list(&q).await }
        },
        move |ports: Vec<Port>| {
            Chunk::of(
                ports.iter().map(|p| shaped(p, &base, version, &selection)),
                ports.last().map(|p| p.uuid.to_string()),
            )
        },
    );
    listing.respond(source).await
}

pub async fn list_ports(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::All,
        Served::at("ports", false),
    )
    .await
}

pub async fn list_ports_detail(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::All,
        Served::at("ports/detail", true),
    )
    .await
}

pub async fn list_node_ports(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(node): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let path = format!("nodes/{node}/ports");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::Node(node),
        Served::at(&path, false),
    )
    .await
}

pub async fn list_node_ports_detail(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(node): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let path = format!("nodes/{node}/ports/detail");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::Node(node),
        Served::at(&path, true),
    )
    .await
}

pub async fn list_portgroup_ports(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(pg): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(v, 24)?;
    let path = format!("portgroups/{pg}/ports");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::PortGroup(pg),
        Served::at(&path, false),
    )
    .await
}

pub async fn list_portgroup_ports_detail(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(pg): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(v, 24)?;
    let path = format!("portgroups/{pg}/ports/detail");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Scope::PortGroup(pg),
        Served::at(&path, true),
    )
    .await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(port_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let selection = super::common::show_selection(q, &PORT_FIELDS, version)?;
    let port = ident::port(&state, &port_ident, version).await?;
    access
        .check_child(&state, port.node_uuid, "baremetal:port:get", || {
            ident::port_not_found(&port_ident)
        })
        .await?;
    Ok(Json(render(
        &port,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

/// The port group named `ident`, if the caller may see its node.
async fn visible_portgroup(
    state: &AppState,
    access: &Access,
    ident: &str,
) -> Result<ferric_types::PortGroup, ApiError> {
    let pg = ident::portgroup(state, ident).await?;
    access
        .check_child(state, pg.node_uuid, "baremetal:portgroup:get", || {
            ident::portgroup_not_found(ident)
        })
        .await?;
    Ok(pg)
}

/// Checks the port's references: its node exists and is not locked or being
/// inspected; its port group exists, is on the same node, and accepts it.
async fn check_references(
    state: &AppState,
    access: &Access,
    port: &Port,
    version: Microversion,
) -> Result<(), ApiError> {
    let node = access
        .referenced_node(state, &port.node_uuid.to_string(), version)
        .await?;
    check_unlocked(&node)?;
    if node.provision_state == ProvisionState::Inspecting {
        return Err(ApiError::conflict(format!(
            "Node {} is being inspected; its ports cannot change now.",
            node.uuid
        )));
    }
    if let Some(pg_uuid) = port.portgroup_uuid {
        let pg = ident::portgroup(state, &pg_uuid.to_string())
            .await
            .map_err(ident::as_bad_reference)?;
        if pg.node_uuid != port.node_uuid {
            return Err(ApiError::bad_request(format!(
                "Port group {} belongs to node {}, not to the port's node {}.",
                pg.uuid, pg.node_uuid, port.node_uuid
            )));
        }
        if port.pxe_enabled && !pg.standalone_ports_supported {
            return Err(ApiError::conflict(format!(
                "Port group {} does not support standalone ports, so port {} cannot be PXE enabled in it.",
                pg.uuid, port.uuid
            )));
        }
    }
    Ok(())
}

fn duplicate_error(err: DbError, port: &Port) -> ApiError {
    match err {
        DbError::Duplicate(col) if col == "address" => ApiError::conflict(format!(
            "A port with MAC address {} already exists.",
            port.address
        )),
        DbError::Duplicate(col) if col == "name" => ApiError::conflict(format!(
            "A port with name {} already exists.",
            port.name.clone().unwrap_or_default()
        )),
        DbError::Duplicate(col) if col == "uuid" => {
            ApiError::conflict(format!("A port with UUID {} already exists.", port.uuid))
        }
        DbError::Reference => ApiError::bad_request(format!(
            "Node {} or port group of port {} no longer exists.",
            port.node_uuid, port.uuid
        )),
        other => other.into(),
    }
}

/// API 1.94: the body names its node by `node_ident` (a name or a UUID) or by
/// `node_uuid`, exactly one of them; a `node_ident` becomes the node's UUID.
async fn resolve_node_ident(
    state: &AppState,
    doc: &mut serde_json::Map<String, Value>,
    version: Microversion,
) -> Result<(), ApiError> {
    match (doc.remove("node_ident"), doc.contains_key("node_uuid")) {
        (Some(_), true) => Err(SCHEMA.error("Only one of node_ident and node_uuid may be given")),
        (None, false) if version.at_least(94) => {
            Err(SCHEMA.error("One of node_ident and node_uuid is required"))
        }
        (None, false) => Err(SCHEMA.error("'node_uuid' is a required property")),
        (None, true) => Ok(()),
        (Some(Value::String(ident)), false) => {
            let node = ident::node(state, &ident, version)
                .await
                .map_err(ident::as_bad_reference)?;
            doc.insert("node_uuid".into(), Value::String(node.uuid.to_string()));
            Ok(())
        }
        (Some(other), false) => {
            Err(SCHEMA.error(format!("{} is not of type 'string'", python_repr(&other))))
        }
    }
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
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    let mut doc = doc;
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    if !doc.contains_key("address") {
        return Err(SCHEMA.error("'address' is a required property"));
    }
    resolve_node_ident(&state, &mut doc, version).await?;
    let placeholder: MacAddress = "00:00:00:00:00:00".parse().expect("valid MAC");
    let mut port = Port::new(
        PortId::new_v4(),
        placeholder,
        NodeId::new_v4(),
        Timestamp::now(),
    );
    for (field, value) in doc {
        apply_field(&mut port, &field, value, version)?;
    }
    check_consistency(&port)?;
    access
        .require_on_node_of_body(&state, port.node_uuid, "baremetal:port:create")
        .await?;
    check_references(&state, &access, &port, version).await?;
    state
        .db
        .port_create(&port)
        .await
        .map_err(|e| duplicate_error(e, &port))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/ports/{}", port.uuid),
        render(&port, &base, version, &Selection::Full),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(port_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let port = ident::port(&state, &port_ident, version).await?;
    access
        .check_child(&state, port.node_uuid, "baremetal:port:update", || {
            ident::port_not_found(&port_ident)
        })
        .await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut updated = super::common::patched(&port, &ops, |port, field, value| {
        if matches!(field, "address" | "node_uuid") && value.is_null() {
            return Err(SCHEMA.error(format!("'{field}' is a required property")));
        }
        apply_field(port, field, value, version)
    })?;
    check_consistency(&updated)?;
    check_references(&state, &access, &updated, version).await?;
    if updated.node_uuid != port.node_uuid {
        let old_node = ident::node(&state, &port.node_uuid.to_string(), version).await?;
        check_unlocked(&old_node)?;
    }
    updated.updated_at = Some(next_stamp(port.updated_at));
    let outcome = state
        .db
        .port_update(&updated, port.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Port {}", port.uuid))?;
    Ok(Json(render(
        &updated,
        &base_url(&state, &headers),
        version,
        &Selection::Full,
    )))
}

pub async fn delete(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(port_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    let port = ident::port(&state, &port_ident, version).await?;
    let node = ident::node(&state, &port.node_uuid.to_string(), version).await?;
    access.check_child_of(&node, "baremetal:port:delete", || {
        ident::port_not_found(&port_ident)
    })?;
    check_unlocked(&node)?;
    state.db.port_delete(port.uuid).await.map_err(|e| match e {
        DbError::NotFound => ident::port_not_found(&port_ident),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}
