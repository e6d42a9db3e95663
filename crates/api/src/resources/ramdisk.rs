//! The ramdisk agent's endpoints: `GET /v1/lookup` (find the node by its MACs or
//! UUID, hand out the agent token once) and `POST /v1/heartbeat/{node}` (checked
//! here — token, callback URL, TLS — then handed to the conductor; 202).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferric_conductor_api::AgentHeartbeat;
use ferric_types::agent_keys as keys;
use ferric_types::provision::NETBOOT_STATES;
use ferric_types::secrets::{masked, MASK};
use ferric_types::{MacAddress, Microversion, Node, NodeId};
use serde_json::{json, Value};

use super::common::{params, require};
use super::ident;
use super::node_fields::INSTANCE_INFO_MASKED;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::links::{base_url, self_and_bookmark};
use crate::AppState;

/// The node as an unprivileged agent may see it.
fn agent_view(state: &AppState, headers: &HeaderMap, node: &Node) -> Value {
    json!({
        "uuid": node.uuid.to_string(),
        "properties": masked(&node.properties, &[]),
        "instance_info": masked(&node.instance_info, INSTANCE_INFO_MASKED),
        "driver_internal_info": masked(&node.driver_internal_info, &[]),
        "links": self_and_bookmark(&base_url(state, headers), &format!("nodes/{}", node.uuid)),
    })
}

pub(super) async fn find_by_macs(
    state: &AppState,
    macs: &[MacAddress],
) -> Result<Option<Node>, ApiError> {
    for mac in macs {
        match state.db.port_get_by_address(mac).await {
            Ok(port) => return Ok(Some(state.db.node_get(port.node_uuid).await?)),
            Err(ferric_db::DbError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

pub async fn lookup(
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require(version, 22)?;
    let mut q = params(raw)?;
    let addresses = q.take("addresses").unwrap_or_default();
    let node_uuid = q.take("node_uuid");
    let macs: Vec<MacAddress> = addresses
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    if macs.is_empty() && node_uuid.is_none() {
        return Err(ApiError::bad_request(
            "None of the addresses given is a valid MAC, and no node_uuid was given; a lookup needs one of them.",
        ));
    }
    let not_found = || ApiError::not_found("Node could not be found.");
    let node = match &node_uuid {
        Some(u) => {
            let id: NodeId = u
                .parse()
                .map_err(|_| ApiError::bad_request(format!("Expected a UUID but received {u}.")))?;
            match state.db.node_get(id).await {
                Ok(n) => Some(n),
                Err(ferric_db::DbError::NotFound) => None,
                Err(e) => return Err(e.into()),
            }
        }
        None => find_by_macs(&state, &macs).await?,
    }
    .ok_or_else(not_found)?;
    // Ironic's `restrict_lookup`: only a node booting its ramdisk may be looked up.
    if !NETBOOT_STATES.contains(&node.provision_state) {
        return Err(not_found());
    }
    Ok(Json(lookup_answer(&state, &headers, version, node).await?).into_response())
}

/// What a lookup answers for a node booting its ramdisk: the node as the agent may
/// see it and the agent's configuration, with the agent token from API 1.62 on.
pub(super) async fn lookup_answer(
    state: &AppState,
    headers: &HeaderMap,
    version: Microversion,
    node: Node,
) -> Result<Value, ApiError> {
    let mut config = json!({
        "heartbeat_timeout": state.config.agent.heartbeat_timeout,
        "agent_token_required": true,
        "agent_md5_checksum_enable": state.config.agent.allow_md5_checksum,
        "disable_deep_image_inspection": false,
        "permitted_image_formats": ["raw", "gpt", "qcow2", "iso"],
        "agent_skip_bmc_detect": matches!(node.management_interface.as_deref(), Some("redfish")),
        "enable_bios_bootloader_install": false,
    });
    let mut node = node;
    if version.at_least(62) {
        let token = state.conductor.agent_lookup(node.uuid).await?;
        config["agent_token"] = Value::from(token.as_deref().unwrap_or(MASK));
        if token.is_some() {
            // The conductor just stored the token: show the node as it is now.
            node = state.db.node_get(node.uuid).await?;
        }
    }
    Ok(json!({"node": agent_view(state, headers, &node), "config": config}))
}

/// Heartbeat fields and the version that introduced each.
const HEARTBEAT_FIELDS: &[(&str, u16)] = &[
    ("callback_url", 22),
    ("agent_version", 36),
    ("agent_token", 62),
    ("agent_verify_ca", 68),
    ("agent_status", 72),
    ("agent_status_message", 72),
];

fn text_field(doc: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key} must be a string, not {other}"
        ))),
    }
}

pub async fn heartbeat(
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require(version, 22)?;
    let doc = object(body, "request body")?;
    for key in doc.keys() {
        match HEARTBEAT_FIELDS.iter().find(|(k, _)| k == key) {
            None => return Err(ApiError::bad_request(format!("Unexpected argument: {key}"))),
            Some((_, since)) if !version.at_least(*since) => {
                return Err(ApiError::bad_request(format!(
                    "Field {key} is not supported by API version {version}"
                )))
            }
            Some(_) => {}
        }
    }
    let callback_url = text_field(&doc, "callback_url")?
        .ok_or_else(|| ApiError::bad_request("Missing argument: \"callback_url\""))?;
    if !callback_url.is_empty() && !callback_url.starts_with("http") {
        return Err(ApiError::bad_request(format!(
            "Invalid callback_url {callback_url}: it must be an http or https URL"
        )));
    }
    let agent_version = text_field(&doc, "agent_version")?;
    let status = text_field(&doc, "agent_status")?;
    if version.at_least(36) && agent_version.is_none() && status.is_none() {
        return Err(ApiError::bad_request(
            "Missing argument: \"agent_version\" (or agent_status)",
        ));
    }
    let token = text_field(&doc, "agent_token")?;
    let verify_ca = text_field(&doc, "agent_verify_ca")?;
    let node = ident::node(&state, &node_ident, version).await?;
    let dii = &node.driver_internal_info;
    if let Some(known) = dii.get(keys::URL).and_then(Value::as_str) {
        if known != callback_url {
            return Err(ApiError::bad_request(format!(
                "Detected change in ramdisk provided \"callback_url\" for node {}; the agent must not change its URL.",
                node.uuid
            )));
        }
    }
    let expected = dii.get(keys::TOKEN).and_then(Value::as_str);
    let token_ok = matches!((expected, token.as_deref()), (Some(e), Some(t)) if ferric_types::secrets::constant_time_eq(e.as_bytes(), t.as_bytes()));
    if !token_ok {
        return Err(ApiError::bad_request(format!(
            "Invalid or missing agent token received for node {}",
            node.uuid
        )));
    }
    if state.config.agent.require_tls && !callback_url.starts_with("https://") {
        return Err(ApiError::bad_request(
            "TLS is required by configuration: the agent's callback_url must be https.",
        ));
    }
    if let (Some(known), Some(given)) =
        (dii.get(keys::VERIFY_CA).and_then(Value::as_str), &verify_ca)
    {
        if known != given {
            return Err(ApiError::bad_request(
                "The agent's certificate (agent_verify_ca) changed; refusing the heartbeat.",
            ));
        }
    }
    let hb = AgentHeartbeat {
        token: token.unwrap_or_default(),
        callback_url,
        agent_version,
        verify_ca,
        status,
        status_message: text_field(&doc, "agent_status_message")?,
    };
    state.conductor.agent_heartbeat(node.uuid, hb).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
