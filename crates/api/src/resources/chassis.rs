//! `/v1/chassis`: list, show, create, JSON patch update, delete (refused while nodes
//! belong to it), and the listing of a chassis' nodes.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{chassis_sort_column, Cond, DbError};
use ferric_types::{Chassis, ChassisId, Microversion, Timestamp};
use serde_json::{json, Value};

use super::common::{check_outcome, created, next_stamp, params};
use super::ident;
use super::values::{check_create_keys, python_repr, uuid_field, Schema};
use crate::access::Access;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::NextLink;
use crate::listing::Paging;
use crate::listing::Served;
use crate::patch;
use crate::AppState;

const SCHEMA: Schema = Schema("chassis");

static CHASSIS_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 1),
        ("description", 1),
        ("extra", 1),
        ("created_at", 1),
        ("updated_at", 1),
    ],
    &["uuid", "description"],
);

const CREATABLE: &[(&str, u16)] = &[("uuid", 1), ("description", 1), ("extra", 1)];
const PATCHABLE: &[(&str, u16)] = &[("description", 1), ("extra", 1)];

fn render(chassis: &Chassis, base: &str, version: Microversion, selection: &Selection) -> Value {
    let mut obj = super::common::to_object(chassis);
    let path = format!("chassis/{}", chassis.uuid);
    obj.insert("links".into(), self_and_bookmark(base, &path));
    if matches!(selection, Selection::Full) {
        // Ironic nests the nodes link pair one list deeper than other links.
        obj.insert(
            "nodes".into(),
            json!([self_and_bookmark(base, &format!("{path}/nodes"))]),
        );
    }
    Value::Object(CHASSIS_FIELDS.shape(obj, version, selection))
}

fn apply_field(chassis: &mut Chassis, field: &str, value: Value) -> Result<(), ApiError> {
    match field {
        "uuid" => chassis.uuid = uuid_field("uuid", &value)?,
        "description" => chassis.description = SCHEMA.opt_string(value, 255)?,
        "extra" => chassis.extra = SCHEMA.object(value)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

async fn list(
    state: &AppState,
    headers: &HeaderMap,
    version: Microversion,
    raw_query: Option<String>,
    served: Served<'_>,
) -> Result<Response, ApiError> {
    let mut params = params(raw_query)?;
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &CHASSIS_FIELDS,
        chassis_sort_column,
        &["extra"],
        served.detail,
    )?;
    params.finish()?;
    let all = state
        .db
        .chassis_list(&paging.query(Vec::new()))
        .await
        .map_err(paging.list_error("Chassis"))?;
    let base = base_url(state, headers);
    let last = all.last().map(|c| c.uuid.to_string());
    let items = all
        .iter()
        .map(|c| render(c, &base, version, &paging.selection))
        .collect();
    Ok(paging.collection(
        "chassis",
        items,
        last,
        &NextLink {
            base: &base,
            url_path: served.path,
            carried: &[],
            default_fields: CHASSIS_FIELDS.list_default,
        },
    ))
}

pub async fn list_chassis(
    access: Access,
    State(state): State<AppState>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:chassis:get")?;
    list(&state, &headers, v, q, Served::at("chassis", false)).await
}

pub async fn list_chassis_detail(
    access: Access,
    State(state): State<AppState>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:chassis:get")?;
    list(&state, &headers, v, q, Served::at("chassis/detail", true)).await
}

async fn chassis_nodes(
    state: AppState,
    access: Access,
    version: Microversion,
    headers: HeaderMap,
    chassis_ident: String,
    q: Option<String>,
    detail: bool,
) -> Result<Response, ApiError> {
    let chassis = ident::chassis(&state, &chassis_ident).await?;
    let suffix = if detail { "/detail" } else { "" };
    let path = format!("chassis/{}/nodes{suffix}", chassis.uuid);
    let cond = Cond::Eq("chassis_uuid", chassis.uuid.to_string().into());
    super::nodes::list(
        &state,
        &access,
        &headers,
        version,
        q,
        vec![cond],
        Served::at(&path, detail),
    )
    .await
}

pub async fn list_nodes(
    access: Access,
    State(state): State<AppState>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:chassis:get")?;
    chassis_nodes(state, access, v, headers, c, q, false).await
}

pub async fn list_nodes_detail(
    access: Access,
    State(state): State<AppState>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:chassis:get")?;
    chassis_nodes(state, access, v, headers, c, q, true).await
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(chassis_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:chassis:get")?;
    let selection = super::common::show_selection(q, &CHASSIS_FIELDS, version)?;
    let chassis = ident::chassis(&state, &chassis_ident).await?;
    Ok(Json(render(
        &chassis,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

fn duplicate_error(err: DbError, chassis: &Chassis) -> ApiError {
    match err {
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "A chassis with UUID {} already exists.",
            chassis.uuid
        )),
        DbError::Reference => ApiError::bad_request(format!(
            "Cannot complete the requested action because chassis {} contains nodes.",
            chassis.uuid
        )),
        other => other.into(),
    }
}

pub async fn create(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:chassis:create")?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    let mut chassis = Chassis {
        uuid: ChassisId::new_v4(),
        description: None,
        extra: Default::default(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut chassis, &field, value)?;
    }
    state
        .db
        .chassis_create(&chassis)
        .await
        .map_err(|e| duplicate_error(e, &chassis))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/chassis/{}", chassis.uuid),
        render(&chassis, &base, version, &Selection::Full),
    ))
}

pub async fn update(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(chassis_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:chassis:update")?;
    let chassis = ident::chassis(&state, &chassis_ident).await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut updated = super::common::patched(&chassis, &ops, apply_field)?;
    updated.updated_at = Some(next_stamp(chassis.updated_at));
    let outcome = state
        .db
        .chassis_update(&updated, chassis.updated_at)
        .await?;
    check_outcome(outcome, &format!("Chassis {}", chassis.uuid))?;
    Ok(Json(render(
        &updated,
        &base_url(&state, &headers),
        version,
        &Selection::Full,
    )))
}

pub async fn delete(
    access: Access,
    State(state): State<AppState>,
    Path(chassis_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require_system("baremetal:chassis:delete")?;
    let chassis = ident::chassis(&state, &chassis_ident).await?;
    let nodes = state
        .db
        .node_count(&[Cond::Eq("chassis_uuid", chassis.uuid.to_string().into())])
        .await?;
    if nodes > 0 {
        return Err(duplicate_error(DbError::Reference, &chassis));
    }
    state
        .db
        .chassis_delete(chassis.uuid)
        .await
        .map_err(|e| duplicate_error(e, &chassis))?;
    Ok(StatusCode::NO_CONTENT)
}
