//! `/v1/volume/connectors` (API 1.32): a node's ways to reach storage — an iSCSI
//! initiator name, a WWPN… — unique by type and id across all nodes, changed only
//! while the node is powered off.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{volume_connector_sort_column, DbError};
use ferric_types::ids::parse_uuid;
use ferric_types::volume::{VolumeConnector, CONNECTOR_TYPES};
use ferric_types::{Microversion, NodeId, Timestamp, VolumeConnectorId};
use serde_json::Value;

use super::common::{check_outcome, created, next_stamp, show_selection, to_object};
use super::values::{check_create_keys, python_repr, uuid_field, Schema};
use super::volume::{self, Listed, VOLUME};
use crate::access::Access;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::patch;
use crate::AppState;

const SCHEMA: Schema = Schema("volume_connector");

static CONNECTOR_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", VOLUME),
        ("node_uuid", VOLUME),
        ("type", VOLUME),
        ("connector_id", VOLUME),
        ("extra", VOLUME),
        ("created_at", VOLUME),
        ("updated_at", VOLUME),
    ],
    &["uuid", "node_uuid", "type", "connector_id"],
);

const CREATABLE: &[(&str, u16)] = &[
    ("uuid", VOLUME),
    ("node_uuid", VOLUME),
    ("type", VOLUME),
    ("connector_id", VOLUME),
    ("extra", VOLUME),
];

const PATCHABLE: &[(&str, u16)] = &[
    ("node_uuid", VOLUME),
    ("type", VOLUME),
    ("connector_id", VOLUME),
    ("extra", VOLUME),
];

fn render(c: &VolumeConnector, base: &str, version: Microversion, selection: &Selection) -> Value {
    let mut obj = to_object(c);
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("volume/connectors/{}", c.uuid)),
    );
    Value::Object(CONNECTOR_FIELDS.shape(obj, version, selection))
}

fn not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Volume connector {ident} could not be found."))
}

async fn find(state: &AppState, ident: &str) -> Result<VolumeConnector, ApiError> {
    let uuid = parse_uuid(ident).map_err(|_| {
        ApiError::bad_request(format!("Expected a UUID for volume connector: {ident}"))
    })?;
    state
        .db
        .volume_connector_get(VolumeConnectorId(uuid))
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(ident),
            other => other.into(),
        })
}

fn apply_field(c: &mut VolumeConnector, field: &str, value: Value) -> Result<(), ApiError> {
    match field {
        "uuid" => c.uuid = uuid_field("uuid", &value)?,
        "node_uuid" => c.node_uuid = uuid_field("node_uuid", &value)?,
        "type" => {
            let kind = SCHEMA.string(value, 32)?;
            if !CONNECTOR_TYPES.contains(&kind.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid volume connector type '{kind}': use one of {}",
                    CONNECTOR_TYPES.join(", ")
                )));
            }
            c.kind = kind;
        }
        "connector_id" => {
            let id = SCHEMA.string(value, 255)?;
            if id.is_empty() {
                return Err(SCHEMA.error("'' is too short"));
            }
            c.connector_id = id;
        }
        "extra" => c.extra = SCHEMA.object(value)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

fn duplicate_error(err: DbError, c: &VolumeConnector) -> ApiError {
    match err {
        DbError::Duplicate(col) if col.starts_with("type") => ApiError::conflict(format!(
            "A volume connector with type {} and connector ID {} already exists.",
            c.kind, c.connector_id
        )),
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "A volume connector with UUID {} already exists.",
            c.uuid
        )),
        DbError::Reference => ApiError::bad_request(format!(
            "Invalid value '{}' for node_uuid: the node does not exist",
            c.node_uuid
        )),
        other => other.into(),
    }
}

async fn list(
    state: AppState,
    access: Access,
    version: Microversion,
    headers: HeaderMap,
    q: Option<String>,
    path_node: Option<String>,
) -> Result<Response, ApiError> {
    let render = |c: &VolumeConnector, base: &str, sel: &Selection| render(c, base, version, sel);
    let listed = Listed {
        name: "connectors",
        what: "Volume connector",
        fields: &CONNECTOR_FIELDS,
        sort_column: volume_connector_sort_column,
        not_sortable: &["extra"],
        render: &render,
        uuid: |c| c.uuid.to_string(),
    };
    let db = state.db.clone();
    volume::list(
        &state,
        &access,
        version,
        &headers,
        q,
        path_node,
        listed,
        |q| async move { db.volume_connector_list(&q).await },
    )
    .await
}

pub async fn list_all(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(state, access, version, headers, q, None).await
}

pub async fn list_of_node(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    list(state, access, version, headers, q, Some(node)).await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, VOLUME)?;
    let selection = show_selection(q, &CONNECTOR_FIELDS, version)?;
    let c = find(&state, &ident).await?;
    access
        .check_child(&state, c.node_uuid, "baremetal:volume:get", || {
            not_found(&ident)
        })
        .await?;
    Ok(Json(render(
        &c,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

pub async fn create(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    super::common::require(version, VOLUME)?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    for required in ["connector_id", "node_uuid", "type"] {
        if !doc.contains_key(required) {
            return Err(SCHEMA.error(format!("'{required}' is a required property")));
        }
    }
    let mut c = VolumeConnector {
        uuid: VolumeConnectorId::new_v4(),
        node_uuid: NodeId::new_v4(),
        kind: String::new(),
        connector_id: String::new(),
        extra: Default::default(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut c, &field, value)?;
    }
    volume::node_for_create(&state, &access, c.node_uuid, version).await?;
    state
        .db
        .volume_connector_create(&c)
        .await
        .map_err(|e| duplicate_error(e, &c))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/volume/connectors/{}", c.uuid),
        render(&c, &base, version, &Selection::Full),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, VOLUME)?;
    let c = find(&state, &ident).await?;
    let node = volume::node_for_update(&state, &access, version, c.node_uuid, || not_found(&ident))
        .await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut updated = super::common::patched(&c, &ops, |c, field, value| {
        if value.is_null() {
            return Err(SCHEMA.error(format!("'{field}' is a required property")));
        }
        apply_field(c, field, value)
    })?;
    volume::check_update(
        &state,
        &access,
        version,
        &node,
        updated.node_uuid,
        "volume connector update",
    )
    .await?;
    updated.updated_at = Some(next_stamp(c.updated_at));
    let outcome = state
        .db
        .volume_connector_update(&updated, c.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Volume connector {}", c.uuid))?;
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
    Path(ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, VOLUME)?;
    let c = find(&state, &ident).await?;
    volume::check_delete(
        &state,
        &access,
        version,
        c.node_uuid,
        "volume connector deletion",
        || not_found(&ident),
    )
    .await?;
    state
        .db
        .volume_connector_delete(c.uuid)
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(&ident),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
