//! `GET /v1/nodes/{node}/validate` (and `/v1/nodes/validate?node=`): each interface's
//! validation result, as the conductor's driver reports it.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ferric_types::hardware::InterfaceKind;
use ferric_types::Microversion;
use serde_json::{json, Map, Value};

use super::common::params;
use crate::access::Access;
use crate::error::ApiError;
use crate::AppState;

/// The version from which each interface appears in the result.
fn since(kind: InterfaceKind) -> u16 {
    match kind {
        InterfaceKind::Storage => 33,
        InterfaceKind::Rescue => 38,
        InterfaceKind::Bios => 40,
        InterfaceKind::Firmware => 86,
        InterfaceKind::Vendor => u16::MAX,
        _ => 1,
    }
}

async fn validate(
    state: &AppState,
    access: &Access,
    node_ident: &str,
    version: Microversion,
) -> Result<Json<Value>, ApiError> {
    let node = access
        .node(state, node_ident, version, "baremetal:node:validate")
        .await?;
    let results = state.conductor.validate(node.uuid).await?;
    let mut body = Map::new();
    for v in results
        .into_iter()
        .filter(|v| version.at_least(since(v.kind)))
    {
        let mut entry = json!({ "result": v.result });
        if let Some(reason) = v.reason {
            entry["reason"] = Value::String(reason);
        }
        body.insert(v.kind.as_str().to_string(), entry);
    }
    Ok(Json(Value::Object(body)))
}

pub async fn validate_node(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    validate(&state, &access, &node_ident, version).await
}

pub async fn validate_by_query(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut params = params(q)?;
    let node = params
        .take("node")
        .or_else(|| params.take("node_uuid"))
        .ok_or_else(|| ApiError::bad_request("Missing mandatory parameter: node"))?;
    params.finish()?;
    validate(&state, &access, &node, version).await
}
