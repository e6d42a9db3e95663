//! `/v1/inspection_rules` (API 1.96): the system's rules run at the end of every
//! inspection. Bodies are validated by the rule engine's own checks, whose errors
//! name the condition or action at fault; a sensitive rule's conditions and
//! actions are never shown. The operator's built-in rules (a file) are not listed.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{inspection_rule_sort_column, Cond, DbError};
use ferric_types::inspection_rules::{
    validate_create, validate_patched, InspectionRule, InspectionRuleId,
};
use ferric_types::{Microversion, Timestamp};
use serde_json::Value;

use super::common::{check_outcome, created, next_stamp, params, show_selection};
use crate::access::Access;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::{NextLink, Paging};
use crate::patch;
use crate::AppState;

/// The version inspection rules came with.
const RULES: u16 = 96;

static RULE_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", RULES),
        ("description", RULES),
        ("phase", RULES),
        ("priority", RULES),
        ("sensitive", RULES),
        ("conditions", RULES),
        ("actions", RULES),
        ("created_at", RULES),
        ("updated_at", RULES),
    ],
    &["uuid", "priority", "phase", "description"],
);

/// Every field may be patched; the engine's checks decide what may change.
const PATCHABLE: &[(&str, u16)] = &[
    ("description", RULES),
    ("phase", RULES),
    ("priority", RULES),
    ("sensitive", RULES),
    ("conditions", RULES),
    ("actions", RULES),
];

fn require_version(version: Microversion) -> Result<(), ApiError> {
    if version.at_least(RULES) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "The API version does not allow inspection rules",
        ))
    }
}

fn render(r: &InspectionRule, base: &str, version: Microversion, selection: &Selection) -> Value {
    let mut obj = match r.api_json() {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("inspection_rules/{}", r.uuid)),
    );
    Value::Object(RULE_FIELDS.shape(obj, version, selection))
}

/// `openstack baremetal inspection rule create --priority 10` sends the priority
/// as the string `"10"` (Ironic refuses it); a string of digits is taken as the
/// number it spells.
fn numeric_priority(body: &mut Value) {
    if let Some(p) = body.get_mut("priority") {
        if let Some(n) = p.as_str().and_then(|s| s.trim().parse::<i64>().ok()) {
            *p = Value::from(n);
        }
    }
}

fn not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Inspection rule {ident} could not be found."))
}

async fn find(state: &AppState, ident: &str) -> Result<InspectionRule, ApiError> {
    let uuid: InspectionRuleId = ident.parse().map_err(|_| {
        ApiError::bad_request(format!("Expected a UUID for an inspection rule: {ident}"))
    })?;
    state
        .db
        .inspection_rule_get(uuid)
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(ident),
            other => other.into(),
        })
}

fn duplicate_error(err: DbError, r: &InspectionRule) -> ApiError {
    match err {
        DbError::Duplicate(_) => ApiError::conflict(format!(
            "An inspection rule with UUID {} already exists.",
            r.uuid
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
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:list_all")?;
    let mut params = params(q)?;
    let mut conds = Vec::new();
    let mut carried = Vec::new();
    if let Some(phase) = params.take("phase") {
        conds.push(Cond::Eq("phase", phase.clone().into()));
        carried.push(("phase".to_string(), phase));
    }
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &RULE_FIELDS,
        inspection_rule_sort_column,
        &["conditions", "actions"],
        false,
    )?;
    params.finish()?;
    let all = state
        .db
        .inspection_rule_list(&paging.query(conds))
        .await
        .map_err(paging.list_error("Inspection rule"))?;
    let base = base_url(&state, &headers);
    let last = all.last().map(|r| r.uuid.to_string());
    let items = all
        .iter()
        .map(|r| render(r, &base, version, &paging.selection))
        .collect();
    let link = NextLink {
        base: &base,
        url_path: "inspection_rules",
        carried: &carried,
        default_fields: RULE_FIELDS.list_default,
    };
    Ok(paging.collection("inspection_rules", items, last, &link))
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:get")?;
    let selection = show_selection(q, &RULE_FIELDS, version)?;
    let r = find(&state, &ident).await?;
    Ok(Json(render(
        &r,
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
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:create")?;
    let mut body = body;
    numeric_priority(&mut body);
    let draft = validate_create(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let rule = draft.into_rule(Timestamp::now());
    state
        .db
        .inspection_rule_create(&rule)
        .await
        .map_err(|e| duplicate_error(e, &rule))?;
    let base = base_url(&state, &headers);
    Ok(created(
        format!("{base}/v1/inspection_rules/{}", rule.uuid),
        render(&rule, &base, version, &Selection::Full),
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
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:update")?;
    let current = find(&state, &ident).await?;
    let ops = patch::parse(body, PATCHABLE, version)?;
    let mut doc = match current.patch_base() {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    patch::apply(&mut doc, &ops)?;
    let mut doc = Value::Object(doc);
    numeric_priority(&mut doc);
    let mut updated = validate_patched(&current, &doc, Timestamp::now())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    updated.updated_at = Some(next_stamp(current.updated_at));
    let outcome = state
        .db
        .inspection_rule_update(&updated, current.updated_at)
        .await?;
    check_outcome(outcome, &format!("Inspection rule {}", current.uuid))?;
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
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:delete")?;
    let r = find(&state, &ident).await?;
    state
        .db
        .inspection_rule_delete(r.uuid)
        .await
        .map_err(|e| match e {
            DbError::NotFound => not_found(&ident),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/inspection_rules`: every stored rule, as the api-ref documents (the
/// built-in ones are in a file and stay).
pub async fn delete_all(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
) -> Result<StatusCode, ApiError> {
    require_version(version)?;
    access.require_system("baremetal:inspection_rule:delete")?;
    state.db.inspection_rules_delete_all().await?;
    Ok(StatusCode::NO_CONTENT)
}
