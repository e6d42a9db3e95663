//! `/v1/nodes/{node}/vifs` (API 1.28): list, attach (`{"id": VIF}`, and from 1.67
//! `port_uuid` or `portgroup_uuid` to choose the NIC) and detach the node's VIFs —
//! ports of Ferric's network service.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ferric_conductor_api::VifTarget;
use ferric_types::Microversion;
use serde_json::{json, Value};

use crate::access::Access;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 28)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vif:list")
        .await?;
    let vifs = state.conductor.vifs(node.uuid).await?;
    Ok(Json(json!({
        "vifs": vifs.into_iter().map(|id| json!({"id": id})).collect::<Vec<_>>()
    })))
}

pub async fn attach(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 28)?;
    let doc = object(body, "VIF")?;
    let mut target = VifTarget::default();
    let mut id = None;
    for (key, value) in &doc {
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| ApiError::bad_request(format!("{key} must be a string")))
        };
        match key.as_str() {
            "id" => id = Some(text()?),
            "port_uuid" if version.at_least(67) => {
                target.port = Some(text()?.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "Expected a UUID for port_uuid but received {value}."
                    ))
                })?)
            }
            "portgroup_uuid" if version.at_least(67) => {
                target.portgroup = Some(text()?.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "Expected a UUID for portgroup_uuid but received {value}."
                    ))
                })?)
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Additional properties are not allowed ('{other}' was unexpected)"
                )))
            }
        }
    }
    if target.port.is_some() && target.portgroup.is_some() {
        return Err(ApiError::bad_request(
            "Cannot specify both port_uuid and portgroup_uuid",
        ));
    }
    let id = id.ok_or_else(|| ApiError::bad_request("'id' is a required property"))?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vif:attach")
        .await?;
    state.conductor.vif_attach(node.uuid, id, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn detach(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path((node_ident, vif)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 28)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vif:detach")
        .await?;
    state.conductor.vif_detach(node.uuid, vif).await?;
    Ok(StatusCode::NO_CONTENT)
}
