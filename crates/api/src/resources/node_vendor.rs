//! Node vendor passthru: `GET /v1/nodes/{node}/vendor_passthru/methods` lists the
//! driver's methods; `/vendor_passthru?method=m` (or `/vendor_passthru/m`) calls one
//! with the HTTP method it allows. Synchronous methods answer 200 with their result,
//! asynchronous ones 202.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferric_types::Microversion;
use serde_json::{json, Map, Value};

use super::common::params;
use crate::access::Access;
use crate::error::ApiError;
use crate::AppState;

pub async fn methods(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:vendor_passthru",
        )
        .await?;
    let listed: Map<String, Value> = state
        .conductor
        .vendor_methods(node.uuid)
        .await?
        .into_iter()
        .map(|m| {
            (
                m.name.to_string(),
                json!({
                    "http_methods": m.http_methods,
                    "async": m.is_async,
                    "description": m.description,
                    "attach": false,
                    "require_exclusive_lock": m.require_exclusive_lock,
                }),
            )
        })
        .collect();
    Ok(Json(Value::Object(listed)))
}

async fn call(
    state: &AppState,
    access: &Access,
    version: Microversion,
    node_ident: &str,
    name: String,
    method: Method,
    body: Bytes,
) -> Result<Response, ApiError> {
    let node = access
        .node(state, node_ident, version, "baremetal:node:vendor_passthru")
        .await?;
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        crate::body::parse(&body)?
    };
    let (is_async, value) = state
        .conductor
        .vendor_passthru(node.uuid, name, method.as_str().to_string(), args)
        .await?;
    let status = if is_async {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(value.unwrap_or(Value::Null))).into_response())
}

pub async fn call_by_query(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
    method: Method,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut params = params(q)?;
    let name = params
        .take("method")
        .ok_or_else(|| ApiError::bad_request("Missing mandatory parameter: method"))?;
    params.finish()?;
    call(&state, &access, version, &node_ident, name, method, body).await
}

pub async fn call_by_path(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path((node_ident, name)): Path<(String, String)>,
    method: Method,
    body: Bytes,
) -> Result<Response, ApiError> {
    call(&state, &access, version, &node_ident, name, method, body).await
}
