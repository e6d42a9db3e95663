//! `/v3/projects`: system admins create, rename, disable and delete projects;
//! system readers list them; a user sees the projects it has a role in.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::{Cond, DbError};
use ferric_types::identity::Project;
use ferric_types::Timestamp;
use serde_json::{json, Map, Value};

use crate::error::KsError;
use crate::validate::{require_system_admin, require_system_reader};
use crate::{base_url, render, Identity};

/// The members of a request's `{"<key>": {...}}` body.
pub(crate) fn member(body: &Bytes, key: &str) -> Result<Map<String, Value>, KsError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| KsError::bad_request(format!("The request body is not JSON: {e}")))?;
    match doc.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(KsError::bad_request(format!(
            "'{key}' is a required property"
        ))),
    }
}

/// A string member, if present and not null.
pub(crate) fn text(m: &Map<String, Value>, key: &str) -> Result<Option<String>, KsError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(KsError::bad_request(format!(
            "Invalid input for field '{key}': {other} is not of type 'string'"
        ))),
    }
}

/// A name: 1–64 characters.
pub(crate) fn name(m: &Map<String, Value>, what: &str) -> Result<String, KsError> {
    let n = text(m, "name")?.unwrap_or_default();
    if n.trim().is_empty() || n.chars().count() > 64 {
        return Err(KsError::bad_request(format!(
            "Invalid input for field 'name': a {what} name is 1 to 64 characters"
        )));
    }
    Ok(n)
}

/// The `name=` filter of a list query.
pub(crate) fn name_filter(query: Option<String>) -> Option<String> {
    query_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v)
}

pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The record `by_id` finds, or else the one `by_name` finds (the `openstack`
/// client names projects and users either way); 404 naming `what` otherwise.
pub(crate) async fn by_id_or_name<T>(
    what: &str,
    ident: &str,
    by_id: impl std::future::Future<Output = Result<T, DbError>>,
    by_name: impl std::future::Future<Output = Result<T, DbError>>,
) -> Result<T, KsError> {
    match by_id.await {
        Ok(found) => return Ok(found),
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    match by_name.await {
        Ok(found) => Ok(found),
        Err(DbError::NotFound) => Err(KsError::not_found(what, ident)),
        Err(e) => Err(e.into()),
    }
}

impl Identity {
    /// A project by id or, failing that, by name.
    pub(crate) async fn project(&self, ident: &str) -> Result<Project, KsError> {
        let db = self.db();
        by_id_or_name(
            "project",
            ident,
            db.project_get(ident),
            db.project_get_by_name(ident),
        )
        .await
    }
}

pub async fn list(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_reader(&caller, "identity:list_projects")?;
    let conds = name_filter(q)
        .map(|n| vec![Cond::Eq("name", n.into())])
        .unwrap_or_default();
    let base = base_url(&headers);
    let projects: Vec<Value> = id
        .db()
        .project_list(conds)
        .await?
        .iter()
        .map(|p| render::project(p, &base))
        .collect();
    Ok(Json(
        json!({"projects": projects, "links": {"self": format!("{base}/v3/projects"), "next": null, "previous": null}}),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let p = id.project(&ident).await?;
    if caller.project_id() != Some(p.uuid.as_str()) {
        require_system_reader(&caller, "identity:get_project")?;
    }
    Ok(Json(
        json!({"project": render::project(&p, &base_url(&headers))}),
    ))
}

pub async fn create(
    State(id): State<Identity>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:create_project")?;
    let m = member(&body, "project")?;
    let p = Project {
        uuid: uuid::Uuid::new_v4().simple().to_string(),
        name: name(&m, "project")?,
        description: text(&m, "description")?.unwrap_or_default(),
        enabled: m.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        created_at: Timestamp::now(),
        updated_at: None,
    };
    match id.db().project_create(&p).await {
        Err(DbError::Duplicate(_)) => return Err(KsError::conflict("project", &p.name)),
        other => other?,
    }
    tracing::info!(user = %caller.user_name, project = %p.name, "project created");
    Ok((
        StatusCode::CREATED,
        Json(json!({"project": render::project(&p, &base_url(&headers))})),
    )
        .into_response())
}

pub async fn update(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:update_project")?;
    let m = member(&body, "project")?;
    let before = id.project(&ident).await?;
    let mut p = before.clone();
    if m.contains_key("name") {
        p.name = name(&m, "project")?;
    }
    if let Some(d) = text(&m, "description")? {
        p.description = d;
    }
    if let Some(e) = m.get("enabled").and_then(Value::as_bool) {
        p.enabled = e;
    }
    p.updated_at = Some(Timestamp::now());
    match id.db().project_update(&p, before.updated_at).await {
        Err(DbError::Duplicate(_)) => return Err(KsError::conflict("project", &p.name)),
        Ok(ferric_db::UpdateOutcome::Updated) => {}
        Ok(_) => {
            return Err(KsError::new(
                StatusCode::CONFLICT,
                "The project changed while it was being updated; try again.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(
        json!({"project": render::project(&p, &base_url(&headers))}),
    ))
}

pub async fn delete(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:delete_project")?;
    let p = id.project(&ident).await?;
    id.db().project_delete(&p.uuid).await?;
    tracing::info!(user = %caller.user_name, project = %p.name, "project deleted");
    Ok(StatusCode::NO_CONTENT)
}
