//! `/v1/nodes/{node}/traits` (API 1.37): list, replace all, add one, remove one,
//! remove all. Traits are validated against the custom pattern and the standard
//! catalogue, de-duplicated, and capped per node.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferric_types::traits::{invalid_trait_message, is_valid_trait, MAX_TRAITS_PER_NODE};
use ferric_types::{Microversion, Node};
use serde_json::{json, Value};

use super::common::{check_outcome, next_stamp};
use super::nodes::check_unlocked;
use crate::access::Access;
use crate::error::ApiError;
use crate::links::base_url;
use crate::AppState;

fn require_version(version: Microversion) -> Result<(), ApiError> {
    if version.at_least(37) {
        Ok(())
    } else {
        Err(ApiError::not_acceptable("Request not acceptable."))
    }
}

pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_version(version)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:traits:list")
        .await?;
    Ok(Json(json!({ "traits": node.traits })))
}

/// Stores a new trait list on the node if nobody changed it meanwhile.
async fn save(state: &AppState, node: &Node, traits: Vec<String>) -> Result<(), ApiError> {
    check_unlocked(node)?;
    if traits.len() > MAX_TRAITS_PER_NODE {
        return Err(ApiError::bad_request(format!(
            "Could not modify traits for node {} as it would exceed the maximum number of traits per node ({} vs. {MAX_TRAITS_PER_NODE})",
            node.uuid,
            traits.len()
        )));
    }
    let mut updated = node.clone();
    updated.traits = traits;
    updated.updated_at = Some(next_stamp(node.updated_at));
    let outcome = state.db.node_update(&updated, node.updated_at).await?;
    check_outcome(outcome, &format!("Node {}", node.uuid))
}

const PUT_USAGE: &str = "A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> \
    with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the \
    list of traits specified in the request body.";

/// `PUT /traits` with `{"traits": [...]}`: replaces every trait.
pub async fn replace(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    require_version(version)?;
    let doc = crate::body::parse(&body)?;
    let Value::Object(mut obj) = doc else {
        return Err(ApiError::bad_request(format!(
            "Schema error for body: {} is not of type 'object'",
            super::values::python_repr(&doc)
        )));
    };
    if let Some(extra) = obj.keys().find(|k| *k != "traits") {
        return Err(ApiError::bad_request(format!(
            "Schema error for body: Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    let Some(list) = obj.remove("traits") else {
        return Err(ApiError::bad_request(PUT_USAGE));
    };
    let Value::Array(items) = list else {
        return Err(ApiError::bad_request(
            "Schema error for body: 'traits' is not of type 'array'",
        ));
    };
    let mut traits: Vec<String> = Vec::new();
    for item in items {
        let name = item.as_str().unwrap_or_default().to_string();
        if !is_valid_trait(&name) {
            return Err(ApiError::bad_request(
                invalid_trait_message(&name).replacen("for trait", "for body", 1),
            ));
        }
        if !traits.contains(&name) {
            traits.push(name);
        }
    }
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:traits:set")
        .await?;
    save(&state, &node, traits).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /traits/{trait}` (no body): adds one trait; adding a present trait is fine.
pub async fn add(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path((node_ident, trait_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_version(version)?;
    if !body.is_empty() {
        return Err(ApiError::bad_request(PUT_USAGE));
    }
    if !is_valid_trait(&trait_name) {
        return Err(ApiError::bad_request(invalid_trait_message(&trait_name)));
    }
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:traits:set")
        .await?;
    if !node.traits.contains(&trait_name) {
        let mut traits = node.traits.clone();
        traits.push(trait_name.clone());
        save(&state, &node, traits).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let location = format!(
        "{}/v1/nodes/{}/traits",
        base_url(&state, &headers),
        node_ident
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `DELETE /traits/{trait}`: removes one trait (404 when the node lacks it).
pub async fn remove(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path((node_ident, trait_name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_version(version)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:traits:delete")
        .await?;
    if !node.traits.contains(&trait_name) {
        return Err(ApiError::not_found(format!(
            "Node {} doesn't have a trait '{trait_name}'",
            node.uuid
        )));
    }
    let traits = node
        .traits
        .iter()
        .filter(|t| **t != trait_name)
        .cloned()
        .collect();
    save(&state, &node, traits).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /traits`: removes every trait.
pub async fn remove_all(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_version(version)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:traits:delete")
        .await?;
    save(&state, &node, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}
