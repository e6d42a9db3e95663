//! `/v1/volume/targets` (API 1.32): the volumes a node uses, each with a boot
//! index unique on its node (0 is the one it boots from). Their `properties` may
//! hold connection secrets: masked always, and replaced by a notice for callers
//! without `baremetal:volume:view_target_properties`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_authz::Target;
use ferric_db::{volume_target_sort_column, DbError};
use ferric_types::ids::parse_uuid;
use ferric_types::secrets::mask_secrets;
use ferric_types::volume::VolumeTarget;
use ferric_types::{Microversion, NodeId, Timestamp, VolumeTargetId};
use serde_json::{json, Value};

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

const SCHEMA: Schema = Schema("volume_target");

static TARGET_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", VOLUME),
        ("node_uuid", VOLUME),
        ("volume_type", VOLUME),
        ("properties", VOLUME),
        ("boot_index", VOLUME),
        ("volume_id", VOLUME),
        ("extra", VOLUME),
        ("created_at", VOLUME),
        ("updated_at", VOLUME),
    ],
    &[
        "uuid",
        "node_uuid",
        "volume_type",
        "boot_index",
        "volume_id",
    ],
);

const CREATABLE: &[(&str, u16)] = &[
    ("uuid", VOLUME),
    ("node_uuid", VOLUME),
    ("volume_type", VOLUME),
    ("properties", VOLUME),
    ("boot_index", VOLUME),
    ("volume_id", VOLUME),
    ("extra", VOLUME),
];

const PATCHABLE: &[(&str, u16)] = &[
    ("node_uuid", VOLUME),
    ("volume_type", VOLUME),
    ("properties", VOLUME),
    ("boot_index", VOLUME),
    ("volume_id", VOLUME),
    ("extra", VOLUME),
];

const REDACTED: &str = "** Value redacted: Requires permission \
    baremetal:volume:view_target_properties access. Permission denied. **";

fn render(
    t: &VolumeTarget,
    base: &str,
    version: Microversion,
    selection: &Selection,
    may_see_properties: bool,
) -> Value {
    let mut obj = to_object(t);
    match obj.get_mut("properties") {
        Some(props) if !may_see_properties => *props = json!({"redacted_contents": REDACTED}),
        Some(Value::Object(props)) => mask_secrets(props),
        _ => {}
    }
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("volume/targets/{}", t.uuid)),
    );
    Value::Object(TARGET_FIELDS.shape(obj, version, selection))
}

fn sees_properties(access: &Access) -> bool {
    access.allows("baremetal:volume:view_target_properties", &Target::none())
}

fn not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Volume target {ident} could not be found."))
}

async fn find(state: &AppState, ident: &str) -> Result<VolumeTarget, ApiError> {
    let uuid = parse_uuid(ident).map_err(|_| {
        ApiError::bad_request(format!("Expected a UUID for volume target: {ident}"))
    })?;
    state
        .db
        .volume_target_get(VolumeTargetId(uuid))
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(ident),
            other => other.into(),
        })
}

fn apply_field(t: &mut VolumeTarget, field: &str, value: Value) -> Result<(), ApiError> {
    match field {
        "uuid" => t.uuid = uuid_field("uuid", &value)?,
        "node_uuid" => t.node_uuid = uuid_field("node_uuid", &value)?,
        "volume_type" => {
            let kind = SCHEMA.string(value, 64)?;
            if kind.is_empty() {
                return Err(SCHEMA.error("'' is too short"));
            }
            t.volume_type = kind;
        }
        "properties" => t.properties = SCHEMA.object(value)?,
        "boot_index" => {
            t.boot_index = match &value {
                Value::Number(n) if n.is_i64() => n.as_i64().unwrap_or_default(),
                other => {
                    return Err(
                        SCHEMA.error(format!("{} is not of type 'integer'", python_repr(other)))
                    )
                }
            }
        }
        "volume_id" => {
            let id = SCHEMA.string(value, 36)?;
            if id.is_empty() {
                return Err(SCHEMA.error("'' is too short"));
            }
            t.volume_id = id;
        }
        "extra" => t.extra = SCHEMA.object(value)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

fn duplicate_error(err: DbError, t: &VolumeTarget) -> ApiError {
    match err {
        DbError::Duplicate(col) if col.starts_with("node_uuid") || col == "boot_index" => {
            ApiError::conflict(format!(
                "A volume target with boot index '{}' for the same node already exists.",
                t.boot_index
            ))
        }
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "A volume target with UUID {} already exists.",
            t.uuid
        )),
        DbError::Reference => ApiError::bad_request(format!(
            "Invalid value '{}' for node_uuid: the node does not exist",
            t.node_uuid
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
    let visible = sees_properties(&access);
    let render =
        |c: &VolumeTarget, base: &str, sel: &Selection| render(c, base, version, sel, visible);
    let listed = Listed {
        name: "targets",
        what: "Volume target",
        fields: &TARGET_FIELDS,
        sort_column: volume_target_sort_column,
        not_sortable: &["extra", "properties"],
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
        |q| async move { db.volume_target_list(&q).await },
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
    let selection = show_selection(q, &TARGET_FIELDS, version)?;
    let t = find(&state, &ident).await?;
    access
        .check_child(&state, t.node_uuid, "baremetal:volume:get", || {
            not_found(&ident)
        })
        .await?;
    Ok(Json(render(
        &t,
        &base_url(&state, &headers),
        version,
        &selection,
        sees_properties(&access),
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
    for required in ["boot_index", "node_uuid", "volume_id", "volume_type"] {
        if !doc.contains_key(required) {
            return Err(SCHEMA.error(format!("'{required}' is a required property")));
        }
    }
    let mut t = VolumeTarget {
        uuid: VolumeTargetId::new_v4(),
        node_uuid: NodeId::new_v4(),
        volume_type: String::new(),
        properties: Default::default(),
        boot_index: 0,
        volume_id: String::new(),
        extra: Default::default(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut t, &field, value)?;
    }
    volume::node_for_create(&state, &access, t.node_uuid, version).await?;
    state
        .db
        .volume_target_create(&t)
        .await
        .map_err(|e| duplicate_error(e, &t))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/volume/targets/{}", t.uuid),
        render(
            &t,
            &base,
            version,
            &Selection::Full,
            sees_properties(&access),
        ),
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
    let t = find(&state, &ident).await?;
    let node = volume::node_for_update(&state, &access, version, t.node_uuid, || not_found(&ident))
        .await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut updated = super::common::patched(&t, &ops, |t, field, value| {
        if value.is_null() && field != "properties" && field != "extra" {
            return Err(SCHEMA.error(format!("'{field}' is a required property")));
        }
        apply_field(t, field, value)
    })?;
    volume::check_update(
        &state,
        &access,
        version,
        &node,
        updated.node_uuid,
        "volume target update",
    )
    .await?;
    updated.updated_at = Some(next_stamp(t.updated_at));
    let outcome = state
        .db
        .volume_target_update(&updated, t.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Volume target {}", t.uuid))?;
    Ok(Json(render(
        &updated,
        &base_url(&state, &headers),
        version,
        &Selection::Full,
        sees_properties(&access),
    )))
}

pub async fn delete(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, VOLUME)?;
    let t = find(&state, &ident).await?;
    volume::check_delete(
        &state,
        &access,
        version,
        t.node_uuid,
        "volume target deletion",
        || not_found(&ident),
    )
    .await?;
    state
        .db
        .volume_target_delete(t.uuid)
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(&ident),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
