//! `/v1/deploy_templates` (API 1.55): named by a trait, a template's steps join the
//! deploy of every node carrying that trait. Step arguments that look like secrets
//! are masked in responses.

use std::collections::BTreeSet;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{deploy_template_sort_column, DbError};
use ferric_types::deploy_template::{DeployTemplate, TemplateStep};
use ferric_types::ids::parse_uuid;
use ferric_types::secrets::mask_secrets;
use ferric_types::traits::{invalid_trait_message, is_valid_trait};
use ferric_types::{DeployTemplateId, Microversion, Timestamp};
use serde_json::Value;

use super::common::{check_outcome, created, next_stamp, params, show_selection, to_object};
use super::values::{check_create_keys, python_repr, uuid_field, Schema};
use crate::access::Access;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::{NextLink, Paging};
use crate::patch;
use crate::AppState;

const SCHEMA: Schema = Schema("deploy_template");

static TEMPLATE_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 55),
        ("name", 55),
        ("steps", 55),
        ("extra", 55),
        ("created_at", 55),
        ("updated_at", 55),
    ],
    &["uuid", "name"],
);

/// Interfaces whose steps a template may name.
const STEP_INTERFACES: &[&str] = &["bios", "deploy", "firmware", "management", "power", "raid"];

fn require_version(version: Microversion, method: &Method) -> Result<(), ApiError> {
    match (version.at_least(55), method == Method::GET) {
        (true, _) => Ok(()),
        (false, true) => Err(ApiError::not_found(
            "The API is not supported for this version",
        )),
        (false, false) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Deploy templates need API 1.55.",
        )),
    }
}

fn render(t: &DeployTemplate, base: &str, version: Microversion, selection: &Selection) -> Value {
    let mut obj = to_object(t);
    if let Some(Value::Array(steps)) = obj.get_mut("steps") {
        for step in steps {
            if let Some(Value::Object(args)) = step.get_mut("args") {
                mask_secrets(args);
            }
        }
    }
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("deploy_templates/{}", t.uuid)),
    );
    Value::Object(TEMPLATE_FIELDS.shape(obj, version, selection))
}

async fn find(state: &AppState, ident: &str) -> Result<DeployTemplate, ApiError> {
    let result = match parse_uuid(ident) {
        Ok(uuid) => state.db.deploy_template_get(DeployTemplateId(uuid)).await,
        Err(_) => state.db.deploy_template_get_by_name(ident).await,
    };
    result.map_err(|e| match e {
        DbError::NotFound => {
            ApiError::not_found(format!("Deploy template {ident} could not be found."))
        }
        other => other.into(),
    })
}

fn name(v: Value) -> Result<String, ApiError> {
    let name = SCHEMA.string(v, 255)?;
    if !is_valid_trait(&name) {
        return Err(ApiError::bad_request(invalid_trait_message(&name)));
    }
    Ok(name)
}

/// Parses a list of `{interface, step, args, priority}` steps (templates and the
/// `deploy_steps` of a deploy share the shape).
pub(super) fn parse_steps(schema: Schema, v: Value) -> Result<Vec<TemplateStep>, ApiError> {
    let Value::Array(items) = v else {
        return Err(schema.error(format!("{} is not of type 'array'", python_repr(&v))));
    };
    if items.is_empty() {
        return Err(schema.error("[] is too short: a template needs at least one step"));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(obj) = &item else {
            return Err(schema.error(format!("{} is not of type 'object'", python_repr(&item))));
        };
        if let Some(extra) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "interface" | "step" | "args" | "priority"))
        {
            return Err(schema.error(format!(
                "Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        for required in ["interface", "step", "args", "priority"] {
            if !obj.contains_key(required) {
                return Err(schema.error(format!("'{required}' is a required property")));
            }
        }
        let step: TemplateStep = serde_json::from_value(item.clone())
            .map_err(|e| schema.error(format!("invalid step {}: {e}", python_repr(&item))))?;
        if !STEP_INTERFACES.contains(&step.interface.as_str()) {
            return Err(schema.error(format!(
                "'{}' is not one of {STEP_INTERFACES:?}",
                step.interface
            )));
        }
        if !seen.insert((step.interface.clone(), step.step.clone())) {
            return Err(ApiError::bad_request(format!(
                "Duplicate deploy steps for {}.{}. Deploy templates cannot contain duplicate steps.",
                step.interface, step.step
            )));
        }
        out.push(step);
    }
    Ok(out)
}

fn apply_field(t: &mut DeployTemplate, field: &str, value: Value) -> Result<(), ApiError> {
    match field {
        "uuid" => t.uuid = uuid_field("uuid", &value)?,
        "name" => t.name = name(value)?,
        "steps" => t.steps = parse_steps(SCHEMA, value)?,
        "extra" => t.extra = SCHEMA.object(value)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

fn duplicate_error(err: DbError, t: &DeployTemplate) -> ApiError {
    match err {
        DbError::Duplicate(col) if col == "name" => ApiError::conflict(format!(
            "A deploy template with name {} already exists.",
            t.name
        )),
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "A deploy template with UUID {} already exists.",
            t.uuid
        )),
        other => other.into(),
    }
}

pub async fn list(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:deploy_template:get")?;
    require_version(version, &Method::GET)?;
    let mut params = params(q)?;
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &TEMPLATE_FIELDS,
        deploy_template_sort_column,
        &["steps", "extra"],
        false,
    )?;
    params.finish()?;
    let all = state
        .db
        .deploy_template_list(&paging.query(Vec::new()))
        .await
        .map_err(paging.list_error("Deploy template"))?;
    let base = base_url(&state, &headers);
    let last = all.last().map(|t| t.uuid.to_string());
    let items = all
        .iter()
        .map(|t| render(t, &base, version, &paging.selection))
        .collect();
    let link = NextLink {
        base: &base,
        url_path: "deploy_templates",
        carried: &[],
        default_fields: TEMPLATE_FIELDS.list_default,
    };
    Ok(paging.collection("deploy_templates", items, last, &link))
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:deploy_template:get")?;
    require_version(version, &Method::GET)?;
    let selection = show_selection(q, &TEMPLATE_FIELDS, version)?;
    let t = find(&state, &ident).await?;
    Ok(Json(render(
        &t,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

pub async fn create(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    access.require_system("baremetal:deploy_template:create")?;
    require_version(version, &Method::POST)?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    check_create_keys(
        SCHEMA,
        &doc,
        &[("uuid", 55), ("name", 55), ("steps", 55), ("extra", 55)],
        version,
    )?;
    for required in ["name", "steps"] {
        if !doc.contains_key(required) {
            return Err(SCHEMA.error(format!("'{required}' is a required property")));
        }
    }
    let mut t = DeployTemplate {
        uuid: DeployTemplateId::new_v4(),
        name: String::new(),
        steps: Vec::new(),
        extra: Default::default(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut t, &field, value)?;
    }
    state
        .db
        .deploy_template_create(&t)
        .await
        .map_err(|e| duplicate_error(e, &t))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/deploy_templates/{}", t.uuid),
        render(&t, &base, version, &Selection::Full),
    ))
}

pub async fn update(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:deploy_template:update")?;
    require_version(version, &Method::PATCH)?;
    let t = find(&state, &ident).await?;
    let ops = patch::parse(body, &[("name", 55), ("steps", 55), ("extra", 55)], version)?;
    let mut updated = super::common::patched(&t, &ops, apply_field)?;
    updated.updated_at = Some(next_stamp(t.updated_at));
    let outcome = state
        .db
        .deploy_template_update(&updated, t.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Deploy template {}", t.uuid))?;
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
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require_system("baremetal:deploy_template:delete")?;
    require_version(version, &Method::DELETE)?;
    let t = find(&state, &ident).await?;
    state.db.deploy_template_delete(t.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
