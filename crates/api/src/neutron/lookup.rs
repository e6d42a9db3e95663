//! What the three resources share: finding one by id (404 with Neutron's
//! `<Kind>NotFound` otherwise), answering a filtered list, and the attributes every
//! resource has (name, description, project).

use std::future::Future;
use std::str::FromStr;

use axum::Json;
use ferric_db::DbError;
use serde_json::{json, Map, Value};

use super::error::NetError;
use super::{filter, request};

/// The parameters of a raw query string.
pub fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default()
}

/// Loads the resource `id` names with `get`; `kind` and `noun` word the 404.
pub async fn by_id<I, T, Fut>(
    id: &str,
    kind: &'static str,
    noun: &str,
    get: impl FnOnce(I) -> Fut,
) -> Result<T, NetError>
where
    I: FromStr,
    Fut: Future<Output = Result<T, DbError>>,
{
    let missing = || NetError::not_found(kind, format!("{noun} {id} could not be found."));
    let uuid = id.parse::<I>().map_err(|_| missing())?;
    get(uuid).await.map_err(|e| match e {
        DbError::NotFound => missing(),
        other => other.into(),
    })
}

/// `{"<key>": [items matching the query, with the asked fields]}`.
pub fn listing(key: &str, items: Vec<Value>, raw: Option<String>) -> Json<Value> {
    Json(json!({ key: filter::apply(items, &query_pairs(raw)) }))
}

/// Applies `name`, `description` and `project_id` (or the older `tenant_id`).
pub fn common(
    m: &Map<String, Value>,
    name: &mut String,
    description: &mut String,
    project: &mut String,
) -> Result<(), NetError> {
    if let Some(v) = request::string(m, "name")? {
        *name = v;
    }
    if let Some(v) = request::string(m, "description")? {
        *description = v;
    }
    if let Some(v) = request::string(m, "project_id")?.or(request::string(m, "tenant_id")?) {
        *project = v;
    }
    Ok(())
}
