//! The agent's REST API, as ironic-python-agent serves it: version documents and
//! status without a token; the command log and command execution only with the agent
//! token in the `agent_token` query parameter. Errors use IPA's
//! `{"faultcode", "faultstring"}` body.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing::Instrument;

use crate::agent::Agent;
use crate::commands::{self, CommandError, Status};

type Params = Query<HashMap<String, String>>;

struct Fault(CommandError);

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let faultcode = if e.code < 500 { "Client" } else { "Server" };
        (
            status,
            Json(json!({"faultcode": faultcode, "faultstring": e.to_string()})),
        )
            .into_response()
    }
}

pub fn router(agent: Arc<Agent>) -> Router {
    let mut r = Router::new()
        .route("/", get(root))
        .route("/v1", get(v1))
        .route("/v1/", get(v1));
    for prefix in ["/v1", ""] {
        r = r
            .route(&format!("{prefix}/status"), get(status))
            .route(&format!("{prefix}/commands"), get(list).post(run))
            .route(&format!("{prefix}/commands/"), get(list).post(run))
            .route(&format!("{prefix}/commands/{{id}}"), get(one));
    }
    r.with_state(agent)
}

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn root(headers: HeaderMap) -> Json<Value> {
    let v1 = json!({
        "id": "v1",
        "links": [{"href": format!("{}/v1/", base(&headers)), "rel": "self"}],
    });
    Json(json!({
        "name": "OpenStack Ironic Python Agent API",
        "description": "Ironic Python Agent is a provisioning agent for OpenStack Ironic (served by ferric-agent)",
        "versions": [v1.clone()],
        "default_version": v1,
    }))
}

async fn v1(headers: HeaderMap) -> Json<Value> {
    let b = base(&headers);
    Json(json!({
        "id": "v1",
        "links": [{"href": format!("{b}/v1/"), "rel": "self"}],
        "media_types": [{"base": "application/json", "type": "application/vnd.openstack.ironic-python-agent.v1+json"}],
        "commands": [{"href": format!("{b}/v1/commands/"), "rel": "self"}],
        "status": [{"href": format!("{b}/v1/status"), "rel": "self"}],
    }))
}

async fn status(State(agent): State<Arc<Agent>>) -> Json<Value> {
    Json(json!({"started_at": agent.started_at, "version": crate::VERSION}))
}

fn check_token(agent: &Agent, q: &HashMap<String, String>) -> Result<(), Fault> {
    let ours = agent.token();
    match (ours, q.get("agent_token")) {
        (Some(t), Some(given))
            if ferric_types::secrets::constant_time_eq(t.as_bytes(), given.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(Fault(CommandError::new(
            401,
            "InvalidAgentToken",
            "Token invalid",
            "the agent_token is missing or does not match",
        ))),
    }
}

fn wants_wait(q: &HashMap<String, String>) -> bool {
    q.get("wait")
        .is_some_and(|w| w.eq_ignore_ascii_case("true"))
}

async fn list(State(agent): State<Arc<Agent>>, Query(q): Params) -> Result<Json<Value>, Fault> {
    check_token(&agent, &q)?;
    let log = agent
        .commands
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(Json(json!({"commands": log})))
}

async fn one(
    State(agent): State<Arc<Agent>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Result<Json<Value>, Fault> {
    check_token(&agent, &q)?;
    loop {
        let changed = agent.changed.notified();
        let found = agent.command(&id).ok_or_else(|| {
            Fault(CommandError::new(
                404,
                "NotFound",
                "Command not found",
                id.clone(),
            ))
        })?;
        if found.command_status != Status::Running || !wants_wait(&q) {
            return Ok(Json(serde_json::to_value(found).unwrap_or_default()));
        }
        changed.await;
    }
}

async fn run(
    State(agent): State<Arc<Agent>>,
    Query(q): Params,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Fault> {
    check_token(&agent, &q)?;
    // The conductor's request id: the command runs (and logs) under it, and the
    // heartbeats after it carry it back.
    let request_id = headers
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| ferric_types::ids::is_request_id(v))
        .map(str::to_string);
    if let Some(id) = &request_id {
        *agent
            .last_request_id
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(id.clone());
    }
    let span = tracing::info_span!("command", request_id = request_id.as_deref());
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| Fault(CommandError::invalid(format!("the body is not JSON: {e}"))))?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| Fault(CommandError::invalid("the command name is missing")))?;
    let params = body
        .get("params")
        .cloned()
        .ok_or_else(|| Fault(CommandError::invalid("the command params are missing")))?;
    let result = commands::execute(&agent, name, params, wants_wait(&q))
        .instrument(span)
        .await
        .map_err(Fault)?;
    Ok(Json(serde_json::to_value(result).unwrap_or_default()))
}
