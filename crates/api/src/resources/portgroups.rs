//! `/v1/portgroups` (API 1.23): bonds of a node's ports. List (filters `node`,
//! `address`), show by UUID or name, create, JSON patch update, delete (refused while
//! ports belong to the group), and the listing under a node.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{portgroup_sort_column, Cond, DbError};
use ferric_types::name::is_valid_logical_name;
use ferric_types::portgroup::DEFAULT_PORTGROUP_MODE;
use ferric_types::{Microversion, NodeId, PortGroup, PortGroupId, Timestamp};
use serde_json::Value;

use super::common::{check_outcome, created, csv_items, next_stamp, nodes_cond, params};
use super::ident;
use super::nodes::{check_unlocked, node_uuid_cond, project_cond};
use super::values::{check_create_keys, mac_field, python_repr, uuid_field, Schema};
use crate::access::{Access, ListScope};
use crate::body::JsonBody;
use crate::chunked::{rows, Chunk};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::base_url;
use crate::listing::NextLink;
use crate::listing::Paging;
use crate::listing::Served;
use crate::patch;
use crate::shaped::Shaped;
use crate::AppState;

const SCHEMA: Schema = Schema("portgroup");

pub static PORTGROUP_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 23),
        ("name", 23),
        ("address", 23),
        ("node_uuid", 23),
        ("extra", 23),
        ("internal_info", 23),
        ("standalone_ports_supported", 23),
        ("created_at", 23),
        ("updated_at", 23),
        ("mode", 26),
        ("properties", 26),
        ("physical_network", 102),
        ("category", 103),
        ("dynamic_portgroup", 111),
    ],
    &["uuid", "address", "name"],
);

const CREATABLE: &[(&str, u16)] = &[
    ("uuid", 23),
    ("name", 23),
    ("address", 23),
    ("node_uuid", 23),
    ("extra", 23),
    ("standalone_ports_supported", 23),
    ("mode", 26),
    ("properties", 26),
    ("physical_network", 102),
    ("category", 103),
];

const PATCHABLE: &[(&str, u16)] = &[
    ("address", 23),
    ("name", 23),
    ("node_uuid", 23),
    ("extra", 23),
    ("standalone_ports_supported", 23),
    ("mode", 26),
    ("properties", 26),
    ("physical_network", 102),
    ("category", 103),
];

const NOT_SORTABLE: &[&str] = &["extra", "internal_info", "properties"];

/// The port group as `version` shows it, with links to itself and its ports.
fn shaped<'a>(
    pg: &'a PortGroup,
    base: &'a str,
    version: Microversion,
    selection: &'a Selection,
) -> Shaped<'a, PortGroup> {
    let mut shaped = Shaped::new(
        pg,
        &PORTGROUP_FIELDS,
        version,
        selection,
        base,
        format!("portgroups/{}", pg.uuid),
    );
    if version.at_least(24) {
        shaped.sub_resource("ports");
    }
    shaped
}

/// [`shaped`] as a JSON value, for single answers.
fn render(pg: &PortGroup, base: &str, version: Microversion, selection: &Selection) -> Value {
    shaped(pg, base, version, selection).to_value()
}

fn apply_field(pg: &mut PortGroup, field: &str, value: Value) -> Result<(), ApiError> {
    let s = SCHEMA;
    match field {
        "uuid" => pg.uuid = uuid_field("uuid", &value)?,
        "name" => {
            let name = s.opt_string(value, 255)?;
            if let Some(n) = &name {
                if !is_valid_logical_name(n) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid portgroup name '{n}'"
                    )));
                }
            }
            pg.name = name;
        }
        "address" => {
            pg.address = match value {
                Value::Null => None,
                other => Some(mac_field("address", &other)?),
            }
        }
        "node_uuid" => pg.node_uuid = uuid_field("node_uuid", &value)?,
        "extra" => pg.extra = s.object(value)?,
        "standalone_ports_supported" => {
            pg.standalone_ports_supported = if value.is_null() {
                true
            } else {
                s.boolean(value)?
            }
        }
        "mode" => match value {
            Value::Null => {
                return Err(ApiError::bad_request(
                    "The mode of a port group cannot be removed.",
                ))
            }
            other => pg.mode = Some(s.string(other, 255)?),
        },
        "properties" => pg.properties = s.object(value)?,
        "physical_network" => pg.physical_network = s.opt_string(value, 64)?,
        "category" => pg.category = s.opt_string(value, 80)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

fn duplicate_error(err: DbError, pg: &PortGroup) -> ApiError {
    match err {
        DbError::Duplicate(col) if col == "name" => ApiError::conflict(format!(
            "A portgroup with name {} already exists.",
            pg.name.clone().unwrap_or_default()
        )),
        DbError::Duplicate(col) if col == "address" => ApiError::conflict(format!(
            "A portgroup with MAC address {} already exists.",
            pg.address
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default()
        )),
        DbError::Duplicate(col) if col == "uuid" => {
            ApiError::conflict(format!("A portgroup with UUID {} already exists.", pg.uuid))
        }
        DbError::Reference => ApiError::conflict(format!(
            "Cannot complete the requested action because portgroup {} contains ports.",
            pg.uuid
        )),
        other => other.into(),
    }
}

async fn list(
    state: &AppState,
    access: &Access,
    headers: &HeaderMap,
    version: Microversion,
    raw_query: Option<String>,
    scope_node: Option<String>,
    served: Served<'_>,
) -> Result<Response, ApiError> {
    super::common::require(version, 23)?;
    let mut params = params(raw_query)?;
    let mut conds = Vec::new();
    // Filters on the groups' nodes, read once at the end.
    let mut node_conds = Vec::new();
    let mut carried = Vec::new();
    match scope_node {
        Some(n) => {
            let node = access
                .node(state, &n, version, "baremetal:portgroup:get")
                .await?;
            conds.push(node_uuid_cond(node.uuid));
        }
        None => {
            if let ListScope::Project(p) = access.list_scope("portgroup", None)? {
                node_conds.push(project_cond(&p));
            }
        }
    }
    let node = params.take("node");
    let address = params.take("address");
    let shard = params.take_since("shard", 106, version)?;
    let groups = params.take_since("conductor_groups", 99, version)?;
    let exclusive = [&node, &address, &shard, &groups];
    if exclusive.iter().filter(|f| f.is_some()).count() > 1 {
        return Err(ApiError::bad_request(
            "Filtering by node, address, or shard simultaneously is not supported.",
        ));
    }
    if let Some(n) = node {
        let node = access
            .node(state, &n, version, "baremetal:portgroup:get")
            .await?;
        conds.push(node_uuid_cond(node.uuid));
        carried.push(("node".to_string(), n));
    }
    if let Some(csv) = shard {
        node_conds.push(Cond::In("shard", csv_items(&csv)));
        carried.push(("shard".to_string(), csv));
    }
    if let Some(csv) = groups {
        let names = csv_items(&csv.to_ascii_lowercase());
        node_conds.push(Cond::In("conductor_group", names));
        carried.push(("conductor_groups".to_string(), csv));
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
        &PORTGROUP_FIELDS,
        portgroup_sort_column,
        NOT_SORTABLE,
        served.detail,
    )?;
    params.finish()?;
    let base = base_url(state, headers);
    let link = NextLink {
        base: &base,
        url_path: served.path,
        carried: &carried,
        default_fields: PORTGROUP_FIELDS.list_default,
    };
    let listing = paging.listing("portgroups", Some(&link));
    let query = paging.query(conds);
    let (db, selection) = (state.db.clone(), paging.selection);
    let source = rows(
        query,
        "Portgroup",
        move |q| {
            let db = db.clone();
            async move { db.portgroup_list(&q).await }
        },
        move |groups: Vec<PortGroup>| {
            Chunk::of(
                groups.iter().map(|g| shaped(g, &base, version, &selection)),
                groups.last().map(|g| g.uuid.to_string()),
            )
        },
    );
    listing.respond(source).await
}

pub async fn list_portgroups(
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
        None,
        Served::at("portgroups", false),
    )
    .await
}

pub async fn list_portgroups_detail(
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
        None,
        Served::at("portgroups/detail", true),
    )
    .await
}

pub async fn list_node_portgroups(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(node): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(v, 24)?;
    let path = format!("nodes/{node}/portgroups");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Some(node),
        Served::at(&path, false),
    )
    .await
}

pub async fn list_node_portgroups_detail(
    State(state): State<AppState>,
    access: Access,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(node): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(v, 24)?;
    let path = format!("nodes/{node}/portgroups/detail");
    list(
        &state,
        &access,
        &headers,
        v,
        q,
        Some(node),
        Served::at(&path, true),
    )
    .await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(pg_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 23)?;
    let selection = super::common::show_selection(q, &PORTGROUP_FIELDS, version)?;
    let pg = ident::portgroup(&state, &pg_ident).await?;
    access
        .check_child(&state, pg.node_uuid, "baremetal:portgroup:get", || {
            ident::portgroup_not_found(&pg_ident)
        })
        .await?;
    Ok(Json(render(
        &pg,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

/// The group's node must exist and be unlocked; a group that refuses standalone
/// ports cannot hold PXE-enabled ones.
async fn check_references(
    state: &AppState,
    access: &Access,
    pg: &PortGroup,
    version: Microversion,
) -> Result<(), ApiError> {
    let node = access
        .referenced_node(state, &pg.node_uuid.to_string(), version)
        .await?;
    check_unlocked(&node)?;
    if !pg.standalone_ports_supported {
        let pxe_ports = state
            .db
            .port_count(&[
                Cond::Eq("portgroup_uuid", pg.uuid.to_string().into()),
                Cond::Eq("pxe_enabled", true.into()),
            ])
            .await?;
        if pxe_ports > 0 {
            return Err(ApiError::conflict(format!(
                "Port group {} has PXE-enabled ports, so it must support standalone ports.",
                pg.uuid
            )));
        }
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    super::common::require(version, 23)?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    if !doc.contains_key("node_uuid") {
        return Err(SCHEMA.error("'node_uuid' is a required property"));
    }
    let mut pg = PortGroup {
        uuid: PortGroupId::new_v4(),
        name: None,
        address: None,
        node_uuid: NodeId::new_v4(),
        extra: Default::default(),
        internal_info: Default::default(),
        standalone_ports_supported: true,
        mode: Some(DEFAULT_PORTGROUP_MODE.to_string()),
        properties: Default::default(),
        physical_network: None,
        category: None,
        dynamic_portgroup: false,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut pg, &field, value)?;
    }
    access
        .require_on_node_of_body(&state, pg.node_uuid, "baremetal:portgroup:create")
        .await?;
    check_references(&state, &access, &pg, version).await?;
    state
        .db
        .portgroup_create(&pg)
        .await
        .map_err(|e| duplicate_error(e, &pg))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/portgroups/{}", pg.uuid),
        render(&pg, &base, version, &Selection::Full),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(pg_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 23)?;
    let pg = ident::portgroup(&state, &pg_ident).await?;
    access
        .check_child(&state, pg.node_uuid, "baremetal:portgroup:update", || {
            ident::portgroup_not_found(&pg_ident)
        })
        .await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut updated = super::common::patched(&pg, &ops, |pg, field, value| {
        if field == "node_uuid" && value.is_null() {
            return Err(SCHEMA.error("'node_uuid' is a required property"));
        }
        apply_field(pg, field, value)
    })?;
    if updated.node_uuid != pg.node_uuid {
        let members = state
            .db
            .port_count(&[Cond::Eq("portgroup_uuid", pg.uuid.to_string().into())])
            .await?;
        if members > 0 {
            return Err(ApiError::conflict(format!(
                "Port group {} still has ports; it cannot move to another node.",
                pg.uuid
            )));
        }
    }
    check_references(&state, &access, &updated, version).await?;
    updated.updated_at = Some(next_stamp(pg.updated_at));
    let outcome = state
        .db
        .portgroup_update(&updated, pg.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Portgroup {}", pg.uuid))?;
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
    Path(pg_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 23)?;
    let pg = ident::portgroup(&state, &pg_ident).await?;
    let node = ident::node(&state, &pg.node_uuid.to_string(), version).await?;
    access.check_child_of(&node, "baremetal:portgroup:delete", || {
        ident::portgroup_not_found(&pg_ident)
    })?;
    check_unlocked(&node)?;
    let members = state
        .db
        .port_count(&[Cond::Eq("portgroup_uuid", pg.uuid.to_string().into())])
        .await?;
    if members > 0 {
        return Err(ApiError::bad_request(format!(
            "Cannot complete the requested action because portgroup {} contains ports.",
            pg.uuid
        )));
    }
    state
        .db
        .portgroup_delete(pg.uuid)
        .await
        .map_err(|e| duplicate_error(e, &pg))?;
    Ok(StatusCode::NO_CONTENT)
}
