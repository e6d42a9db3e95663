//! `/v1/runbooks` (API 1.92; `description`, `traits` and the `traits` sub-resource
//! 1.112): named lists of steps a manual clean or a service runs. A runbook belongs
//! to the system or to one project (its `owner`), or is `public`. Step arguments
//! that look like secrets are masked in responses.

use std::collections::BTreeSet;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_authz::Target;
use ferric_db::{runbook_project_cond, runbook_sort_column, DbError};
use ferric_types::ids::parse_uuid;
use ferric_types::runbook::{Runbook, RunbookStep, RUNBOOK_STEP_INTERFACES};
use ferric_types::secrets::mask_secrets;
use ferric_types::traits::{invalid_trait_message, is_valid_trait};
use ferric_types::{Microversion, RunbookId, Timestamp};
use serde_json::{Map, Value};

use super::common::{check_outcome, created, next_stamp, params, show_selection, to_object};
use super::values::{check_create_keys, python_repr, uuid_field, Schema};
use crate::access::{Access, ListScope};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::{NextLink, Paging};
use crate::patch::{self, PatchOp};
use crate::AppState;

const SCHEMA: Schema = Schema("runbook");

/// The version runbooks came with, and the one that gave them traits.
const RUNBOOKS: u16 = 92;
const TRAITS: u16 = 112;

static RUNBOOK_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", RUNBOOKS),
        ("name", RUNBOOKS),
        ("steps", RUNBOOKS),
        ("disable_ramdisk", RUNBOOKS),
        ("extra", RUNBOOKS),
        ("public", RUNBOOKS),
        ("owner", RUNBOOKS),
        ("created_at", RUNBOOKS),
        ("updated_at", RUNBOOKS),
        ("description", TRAITS),
        ("traits", TRAITS),
    ],
    &["uuid", "name"],
);

const CREATABLE: &[(&str, u16)] = &[
    ("uuid", RUNBOOKS),
    ("name", RUNBOOKS),
    ("steps", RUNBOOKS),
    ("disable_ramdisk", RUNBOOKS),
    ("extra", RUNBOOKS),
    ("public", RUNBOOKS),
    ("owner", RUNBOOKS),
    ("description", TRAITS),
];

const PATCHABLE: &[(&str, u16)] = &[
    ("name", RUNBOOKS),
    ("steps", RUNBOOKS),
    ("disable_ramdisk", RUNBOOKS),
    ("extra", RUNBOOKS),
    ("public", RUNBOOKS),
    ("owner", RUNBOOKS),
    ("description", TRAITS),
];

/// 404 for a GET and 405 for anything else below `minor`, as Ironic routes.
fn require_version(version: Microversion, method: &Method, minor: u16) -> Result<(), ApiError> {
    match (version.at_least(minor), method == Method::GET) {
        (true, _) => Ok(()),
        (false, true) => Err(ApiError::not_found(
            "The API version does not allow runbooks",
        )),
        (false, false) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The API version does not allow runbooks",
        )),
    }
}

fn render(r: &Runbook, base: &str, version: Microversion, selection: &Selection) -> Value {
    let mut obj = to_object(r);
    if let Some(Value::Array(steps)) = obj.get_mut("steps") {
        for step in steps {
            if let Some(Value::Object(args)) = step.get_mut("args") {
                mask_secrets(args);
            }
        }
    }
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("runbooks/{}", r.uuid)),
    );
    Value::Object(RUNBOOK_FIELDS.shape(obj, version, selection))
}

/// The runbook named by UUID or name.
pub(super) async fn find(state: &AppState, ident: &str) -> Result<Runbook, ApiError> {
    let result = match parse_uuid(ident) {
        Ok(uuid) => state.db.runbook_get(RunbookId(uuid)).await,
        Err(_) => state.db.runbook_get_by_name(ident).await,
    };
    result.map_err(|e| match e {
        DbError::NotFound => ApiError::not_found(format!("Runbook {ident} could not be found.")),
        other => other.into(),
    })
}

/// The runbook if the caller passes `rule` on it (judged on its owner), else 403.
pub(super) async fn find_for(
    state: &AppState,
    access: &Access,
    ident: &str,
    rule: &str,
) -> Result<Runbook, ApiError> {
    let r = find(state, ident).await?;
    access.require(rule, &Target::runbook(r.owner.as_deref()))?;
    Ok(r)
}

/// Runbook names: a trait below 1.112, an RFC 3986 unreserved string from it.
fn name(v: Value, version: Microversion) -> Result<String, ApiError> {
    let name = SCHEMA.string(v, 255)?;
    if version.at_least(TRAITS) {
        let unreserved =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if name.is_empty() || !name.bytes().all(unreserved) {
            return Err(SCHEMA.error(format!("'{name}' does not match '^[A-Za-z0-9\\\\-._~]+$'")));
        }
    } else if !is_valid_trait(&name) {
        return Err(ApiError::bad_request(invalid_trait_message(&name)));
    }
    Ok(name)
}

/// A step's `order`: a whole number, or a string of digits.
fn order(step: &Map<String, Value>) -> Result<u32, ApiError> {
    match step.get("order") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| SCHEMA.error(format!("{n} is less than the minimum of 0"))),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map_err(|_| SCHEMA.error(format!("'{s}' is too large an order"))),
        Some(other) => Err(SCHEMA.error(format!(
            "{} is not valid under any of the given schemas",
            python_repr(other)
        ))),
        None => Err(SCHEMA.error("'order' is a required property")),
    }
}

/// Parses the `steps` of a runbook: `{interface, step, args?, order}` each, at least
/// one, no step twice.
fn steps(v: Value) -> Result<Vec<RunbookStep>, ApiError> {
    let Value::Array(items) = v else {
        return Err(SCHEMA.error(format!("{} is not of type 'array'", python_repr(&v))));
    };
    if items.is_empty() {
        return Err(SCHEMA.error("[] is too short"));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(obj) = &item else {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&item))));
        };
        if let Some(extra) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "interface" | "step" | "args" | "order"))
        {
            return Err(SCHEMA.error(format!(
                "Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        let interface = match obj.get("interface") {
            Some(Value::String(i)) if RUNBOOK_STEP_INTERFACES.contains(&i.as_str()) => i.clone(),
            Some(other) => {
                return Err(SCHEMA.error(format!(
                    "{} is not one of {RUNBOOK_STEP_INTERFACES:?}",
                    python_repr(other)
                )))
            }
            None => return Err(SCHEMA.error("'interface' is a required property")),
        };
        let step = match obj.get("step") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(other) => {
                return Err(SCHEMA.error(format!("{} is not a valid step name", python_repr(other))))
            }
            None => return Err(SCHEMA.error("'step' is a required property")),
        };
        let args = match obj.get("args") {
            None => Map::new(),
            Some(Value::Object(a)) => a.clone(),
            Some(other) => {
                return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(other))))
            }
        };
        if !seen.insert((interface.clone(), step.clone())) {
            return Err(ApiError::bad_request(format!(
                "Duplicate steps for {interface}.{step}: a runbook cannot contain the same step twice."
            )));
        }
        out.push(RunbookStep {
            order: order(obj)?,
            interface,
            step,
            args,
        });
    }
    Ok(out)
}

fn apply_field(
    r: &mut Runbook,
    field: &str,
    value: Value,
    version: Microversion,
) -> Result<(), ApiError> {
    match field {
        "uuid" => r.uuid = uuid_field("uuid", &value)?,
        "name" => r.name = name(value, version)?,
        "steps" => r.steps = steps(value)?,
        "disable_ramdisk" => r.disable_ramdisk = SCHEMA.opt_bool(value)?.unwrap_or(false),
        "extra" => r.extra = SCHEMA.object(value)?,
        "public" => r.public = SCHEMA.opt_bool(value)?.unwrap_or(false),
        "owner" => r.owner = SCHEMA.opt_string(value, 255)?,
        "description" => r.description = SCHEMA.opt_string(value, 255)?,
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

fn duplicate_error(err: DbError, r: &Runbook) -> ApiError {
    match err {
        DbError::Duplicate(col) if col == "name" => {
            ApiError::conflict(format!("A runbook with name {} already exists.", r.name))
        }
        DbError::Duplicate(_) => {
            ApiError::conflict(format!("A runbook with UUID {} already exists.", r.uuid))
        }
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
    require_version(version, &Method::GET, RUNBOOKS)?;
    let mut params = params(q)?;
    let asked = params.take("project");
    let mut conds = Vec::new();
    let mut carried = Vec::new();
    match access.list_scope("runbook", asked.as_deref())? {
        ListScope::Project(p) => conds.push(runbook_project_cond(&p)),
        ListScope::All => {
            if let Some(p) = &asked {
                conds.push(runbook_project_cond(p));
            }
        }
    }
    if let Some(p) = asked {
        carried.push(("project".to_string(), p));
    }
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &RUNBOOK_FIELDS,
        runbook_sort_column,
        &["steps", "extra", "traits"],
        false,
    )?;
    params.finish()?;
    let all = state
        .db
        .runbook_list(&paging.query(conds))
        .await
        .map_err(paging.list_error("Runbook"))?;
    let base = base_url(&state, &headers);
    let last = all.last().map(|r| r.uuid.to_string());
    let items = all
        .iter()
        .map(|r| render(r, &base, version, &paging.selection))
        .collect();
    let link = NextLink {
        base: &base,
        url_path: "runbooks",
        carried: &carried,
        default_fields: RUNBOOK_FIELDS.list_default,
    };
    Ok(paging.collection("runbooks", items, last, &link))
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require_version(version, &Method::GET, RUNBOOKS)?;
    let selection = show_selection(q, &RUNBOOK_FIELDS, version)?;
    let r = find(&state, &ident).await?;
    // A caller without rights on it may still read a public runbook.
    let target = Target::runbook(r.owner.as_deref());
    if !r.public {
        access.require("baremetal:runbook:get", &target)?;
    }
    Ok(Json(render(
        &r,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

/// Ironic's rules for who owns a new runbook: a project-scoped caller creates
/// runbooks of its own project only, and no public ones.
fn creator_owner(access: &Access, r: &mut Runbook) -> Result<(), ApiError> {
    let Some(project) = access.project() else {
        return Ok(());
    };
    if r.owner.as_deref().is_some_and(|o| o != project) {
        return Err(ApiError::bad_request(
            "Cannot create a runbook as a project scoped admin with an owner other than your own project.",
        ));
    }
    if r.public {
        return Err(ApiError::bad_request(
            "Cannot create a public runbook as a project scoped admin.",
        ));
    }
    r.owner = Some(project.to_string());
    Ok(())
}

pub async fn create(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_version(version, &Method::POST, RUNBOOKS)?;
    access.require_system("baremetal:runbook:create")?;
    let doc = match body {
        Value::Object(map) => map,
        other => {
            return Err(SCHEMA.error(format!("{} is not of type 'object'", python_repr(&other))))
        }
    };
    check_create_keys(SCHEMA, &doc, CREATABLE, version)?;
    for required in ["name", "steps"] {
        if !doc.contains_key(required) {
            return Err(SCHEMA.error(format!("'{required}' is a required property")));
        }
    }
    let mut r = Runbook {
        uuid: RunbookId::new_v4(),
        name: String::new(),
        steps: Vec::new(),
        disable_ramdisk: false,
        extra: Map::new(),
        public: false,
        owner: None,
        description: None,
        traits: Vec::new(),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    for (field, value) in doc {
        apply_field(&mut r, &field, value, version)?;
    }
    if r.public && r.owner.is_some() {
        return Err(ApiError::bad_request(
            "There cannot be an owner for a public runbook",
        ));
    }
    creator_owner(&access, &mut r)?;
    state
        .db
        .runbook_create(&r)
        .await
        .map_err(|e| duplicate_error(e, &r))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/runbooks/{}", r.uuid),
        render(&r, &base, version, &Selection::Full),
    ))
}

/// The rules a PATCH needs: `…:update:owner` and `…:update:public` for those
/// paths, `…:update` for anything else.
fn patch_rules(ops: &[PatchOp]) -> BTreeSet<&'static str> {
    ops.iter()
        .map(|op| match op.root() {
            "owner" => "baremetal:runbook:update:owner",
            "public" => "baremetal:runbook:update:public",
            _ => "baremetal:runbook:update",
        })
        .collect()
}

pub async fn update(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_version(version, &Method::PATCH, RUNBOOKS)?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let r = find(&state, &ident).await?;
    let target = Target::runbook(r.owner.as_deref());
    for rule in patch_rules(&ops) {
        access.require(rule, &target)?;
    }
    let mut updated = super::common::patched(&r, &ops, |r, f, v| apply_field(r, f, v, version))?;
    let public_touched = ops.iter().any(|op| op.root() == "public");
    let owner_touched = ops.iter().any(|op| op.root() == "owner");
    if updated.public && public_touched && !owner_touched {
        // Making a runbook public takes it from its owner.
        updated.owner = None;
    }
    if updated.public && updated.owner.is_some() {
        return Err(ApiError::bad_request(
            "There cannot be an owner for a public runbook",
        ));
    }
    updated.updated_at = Some(next_stamp(r.updated_at));
    let outcome = state
        .db
        .runbook_update(&updated, r.updated_at)
        .await
        .map_err(|e| duplicate_error(e, &updated))?;
    check_outcome(outcome, &format!("Runbook {}", r.uuid))?;
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
    require_version(version, &Method::DELETE, RUNBOOKS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:delete").await?;
    state.db.runbook_delete(r.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Saves a runbook's new trait set.
async fn save_traits(state: &AppState, r: &Runbook, traits: Vec<String>) -> Result<(), ApiError> {
    let mut updated = r.clone();
    let mut unique = Vec::with_capacity(traits.len());
    for t in traits {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    updated.traits = unique;
    updated.updated_at = Some(next_stamp(r.updated_at));
    let outcome = state.db.runbook_update(&updated, r.updated_at).await?;
    check_outcome(outcome, &format!("Runbook {}", r.uuid))
}

fn check_trait(t: &str) -> Result<(), ApiError> {
    if t.len() > 255 || !is_valid_trait(t) {
        return Err(ApiError::bad_request(invalid_trait_message(t)));
    }
    Ok(())
}

/// `GET /v1/runbooks/{runbook}/traits` (1.112).
pub async fn traits(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, TRAITS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:get").await?;
    Ok(Json(serde_json::json!({ "traits": r.traits })))
}

/// `PUT /v1/runbooks/{runbook}/traits` with `{"traits": [...]}`: replaces the set.
pub async fn set_traits(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, TRAITS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:update").await?;
    let mut doc = match body {
        Value::Object(map) => map,
        _ => return Err(ApiError::bad_request(
            "All runbook traits are replaced with PUT /v1/runbooks/<runbook>/traits and a body of {\"traits\": [...]}.",
        )),
    };
    let list = match doc.remove("traits") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(SCHEMA.error(format!("{} is not of type 'array'", python_repr(&other))))
        }
        None => return Err(SCHEMA.error("'traits' is a required property")),
    };
    if let Some(extra) = doc.keys().next() {
        return Err(SCHEMA.error(format!(
            "Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    let mut traits = Vec::with_capacity(list.len());
    for item in list {
        let Value::String(t) = item else {
            return Err(SCHEMA.error(format!("{} is not of type 'string'", python_repr(&item))));
        };
        check_trait(&t)?;
        traits.push(t);
    }
    save_traits(&state, &r, traits).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/runbooks/{runbook}/traits/{trait}` with no body: adds one trait.
pub async fn add_trait(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path((ident, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    super::common::require(version, TRAITS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:update").await?;
    if !body.iter().all(u8::is_ascii_whitespace) && body.as_ref() != b"null" {
        return Err(ApiError::bad_request(
            "No body should be provided when adding a trait",
        ));
    }
    check_trait(&name)?;
    let mut traits = r.traits.clone();
    traits.push(name.clone());
    save_traits(&state, &r, traits).await?;
    let location = format!(
        "{}/v1/runbooks/{ident}/traits/{name}",
        base_url(&state, &headers)
    );
    let mut response = axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT);
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, v);
    }
    Ok(response)
}

/// `DELETE /v1/runbooks/{runbook}/traits[/{trait}]`: removes one trait (a missing
/// one is no error) or all of them.
pub async fn delete_trait(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    Path((ident, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, TRAITS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:update").await?;
    let traits = r.traits.iter().filter(|t| **t != name).cloned().collect();
    save_traits(&state, &r, traits).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_traits(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    Path(ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, TRAITS)?;
    let r = find_for(&state, &access, &ident, "baremetal:runbook:update").await?;
    save_traits(&state, &r, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}
