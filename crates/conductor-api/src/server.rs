//! A conductor's RPC listener: JSON-RPC 2.0 over HTTP, `POST /` only, callers
//! authenticated by the shared secret as a bearer token (compared in constant
//! time; 401 otherwise). A call without an `id` is a notification: it runs and the
//! answer is 204. Errors carry the HTTP code of the failure (as Ironic's JSON-RPC
//! does) and its kind in `data.kind`; malformed calls get the protocol's codes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ferric_types::secrets::constant_time_eq;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{CallError, ConductorApi};

/// Inspection data and config drives travel in calls: allow large bodies.
const MAX_BODY: usize = 64 << 20;

/// A call that failed: a protocol error or the conductor's.
pub(crate) enum Failure {
    Protocol(i64, String),
    Call(CallError),
}

impl Failure {
    pub(crate) fn method_not_found(method: &str) -> Self {
        Failure::Protocol(-32601, format!("no method {method}"))
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        Failure::Call(e)
    }
}

/// A method's parameters, decoded.
pub(crate) fn params<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, Failure> {
    serde_json::from_value(Value::Object(params))
        .map_err(|e| Failure::Protocol(-32602, format!("invalid params: {e}")))
}

/// A method's outcome as the `result`.
pub(crate) fn answer<T: Serialize>(outcome: Result<T, CallError>) -> Result<Value, Failure> {
    let value = outcome?;
    serde_json::to_value(value).map_err(|e| Failure::Protocol(-32603, e.to_string()))
}

struct Listener {
    target: Arc<dyn ConductorApi>,
    secret: String,
}

/// The RPC listener's routes, serving `target` to callers presenting `secret`.
pub fn router(target: Arc<dyn ConductorApi>, secret: &str) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::new(Listener {
            target,
            secret: secret.to_string(),
        }))
}

fn reply(id: &Value, outcome: Result<Value, Failure>) -> Response {
    let body = match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(Failure::Protocol(code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
        Err(Failure::Call(e)) => json!({"jsonrpc": "2.0", "id": id, "error": {
            "code": e.status(), "message": e.message, "data": {"kind": e.kind},
        }}),
    };
    Json(body).into_response()
}

async fn handle(State(l): State<Arc<Listener>>, headers: HeaderMap, body: Bytes) -> Response {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), l.secret.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "the RPC listener needs the shared secret"})),
        )
            .into_response();
    }
    let call: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return reply(
                &Value::Null,
                Err(Failure::Protocol(-32700, format!("parse error: {e}"))),
            )
        }
    };
    let id = call.get("id").cloned();
    let shape = || -> Result<(String, Map<String, Value>), Failure> {
        let invalid = |why: &str| Failure::Protocol(-32600, format!("invalid request: {why}"));
        if call.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid("jsonrpc must be \"2.0\""));
        }
        let method = call
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("method must be a string"))?;
        let params = match call.get("params") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(invalid("params must be an object (no positional params)")),
        };
        Ok((method.to_string(), params))
    };
    let (method, params) = match shape() {
        Ok(v) => v,
        Err(f) => return reply(&id.unwrap_or(Value::Null), Err(f)),
    };
    // In the span of the API request the call is made for: the lines the
    // conductor logs for it, and for the work it starts, carry its id.
    let span = match headers
        .get(crate::request_context::HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| ferric_types::ids::is_request_id(v))
    {
        Some(id) => tracing::info_span!("request", request_id = %id, rpc = %method),
        None => tracing::info_span!("rpc", method = %method),
    };
    let outcome =
        tracing::Instrument::instrument(crate::dispatch(l.target.as_ref(), &method, params), span)
            .await;
    match id {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(id) => reply(&id, outcome),
    }
}
