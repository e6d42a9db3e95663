//! `PUT /v1/nodes/{node}/states/provision` and `/states/power`: validated here
//! (verb, version, arguments, state), then handed to the conductor; 202 once the
//! node is on its way.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferric_conductor_api::BootSetting;
use ferric_types::fsm::{self, Event, Verb};
use ferric_types::management::PowerTarget;
use ferric_types::provision::ProvisionState;
use ferric_types::Microversion;
use serde_json::Value;

use super::node_provision_request::{check_args, provision_request, PROVISION_ARGS};
use super::nodes::check_unlocked;
use crate::access::Access;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::links::base_url;
use crate::AppState;

/// 202 with `Location: …/nodes/{node}/states`.
fn accepted(state: &AppState, headers: &HeaderMap, node_ident: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let location = format!("{}/v1/nodes/{node_ident}/states", base_url(state, headers));
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

pub async fn provision(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut doc = object(body, "request body")?;
    check_args(&doc, PROVISION_ARGS, version)?;
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_provision_state",
        )
        .await?;
    let target = match doc.remove("target") {
        Some(Value::String(t)) => t,
        _ => {
            return Err(ApiError::bad_request(
                "A provision \"target\" (string) is required",
            ))
        }
    };
    let not_possible = || {
        ApiError::bad_request(format!(
            "The requested action \"{target}\" can not be performed on node \"{}\" while it is in state \"{}\".",
            node.uuid, node.provision_state
        ))
    };
    let verb: Verb = target.parse().map_err(|_| not_possible())?;
    if !version.at_least(verb.since) {
        return Err(ApiError::not_acceptable("Request not acceptable."));
    }
    check_unlocked(&node)?;
    if verb.event == Event::Abort
        && node.provision_state == ProvisionState::WaitCallBack
        && !version.at_least(110)
    {
        // Aborting a deploy that waits for its agent came with API 1.110.
        return Err(ApiError::not_acceptable("Request not acceptable."));
    }
    if fsm::next(node.provision_state, verb.event).is_none() {
        return Err(not_possible());
    }
    let mut request = provision_request(&state, &access, &node, verb, doc, version).await?;
    request.requester = access.requester();
    state.conductor.provision(node.uuid, request).await?;
    Ok(accepted(&state, &headers, &node_ident))
}

pub async fn power(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut doc = object(body, "request body")?;
    check_args(&doc, &[("target", 1), ("timeout", 27)], version)?;
    let text = match doc.remove("target") {
        Some(Value::String(t)) => t,
        _ => {
            return Err(ApiError::bad_request(
                "A power \"target\" (string) is required",
            ))
        }
    };
    let target = PowerTarget::parse(&text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid power target \"{text}\": use one of power on, power off, rebooting, soft power off, soft rebooting"
        ))
    })?;
    if target.is_soft() && !version.at_least(27) {
        return Err(ApiError::not_acceptable("Request not acceptable."));
    }
    let timeout = match doc.remove("timeout") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|t| t >= 1) => {
            Some(std::time::Duration::from_secs(n.as_u64().unwrap_or(1)))
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid timeout {other}: it must be a positive whole number of seconds"
            )))
        }
    };
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_power_state",
        )
        .await?;
    check_unlocked(&node)?;
    if matches!(
        node.provision_state,
        ProvisionState::Cleaning | ProvisionState::CleanWait
    ) {
        return Err(ApiError::bad_request(format!(
            "Can not change power state of node {} while it is being cleaned ({}).",
            node.uuid, node.provision_state
        )));
    }
    if node.disable_power_off && matches!(target, PowerTarget::Off | PowerTarget::SoftOff) {
        return Err(ApiError::conflict(format!(
            "Failed to set node power state to {text}."
        )));
    }
    state
        .conductor
        .change_power(node.uuid, target, timeout, access.requester())
        .await?;
    Ok(accepted(&state, &headers, &node_ident))
}

pub async fn console(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:get_console")
        .await?;
    let (enabled, info) = state.conductor.console(node.uuid).await?;
    Ok(axum::Json(
        serde_json::json!({"console_enabled": enabled, "console_info": info}),
    ))
}

pub async fn set_console(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut doc = object(body, "request body")?;
    check_args(&doc, &[("enabled", 1)], version)?;
    let enabled = match doc.remove("enabled") {
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid enabled {other}: it must be a boolean"
            )))
        }
        None => {
            return Err(ApiError::bad_request(
                "Missing mandatory parameter: enabled",
            ))
        }
    };
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_console_state",
        )
        .await?;
    check_unlocked(&node)?;
    state.conductor.set_console(node.uuid, enabled).await?;
    Ok(accepted(&state, &headers, &node_ident))
}

/// `PUT /states/boot_mode` and `/states/secure_boot` (API 1.76).
async fn boot_setting(
    state: &AppState,
    access: &Access,
    rule: &str,
    version: Microversion,
    node_ident: &str,
    body: Value,
    parse: impl FnOnce(Value) -> Result<BootSetting, ApiError>,
) -> Result<(), ApiError> {
    super::common::require(version, 76)?;
    let mut doc = object(body, "request body")?;
    check_args(&doc, &[("target", 76)], version)?;
    let target = doc
        .remove("target")
        .ok_or_else(|| ApiError::bad_request("Missing mandatory parameter: target"))?;
    let setting = parse(target)?;
    let node = access.node(state, node_ident, version, rule).await?;
    check_unlocked(&node)?;
    if node.target_provision_state.is_some() {
        return Err(ApiError::conflict(format!(
            "Node {} is in the transitional state \"{}\"; its boot settings cannot change now.",
            node.uuid, node.provision_state
        )));
    }
    state.conductor.set_boot_setting(node.uuid, setting).await?;
    Ok(())
}

pub async fn boot_mode(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    boot_setting(
        &state,
        &access,
        "baremetal:node:set_boot_mode",
        version,
        &node_ident,
        body,
        |t| match t {
            Value::String(m) if m == "uefi" || m == "bios" => Ok(BootSetting::Mode(m)),
            other => Err(ApiError::bad_request(format!(
                "Invalid boot mode {other}: use uefi or bios"
            ))),
        },
    )
    .await?;
    Ok(accepted(&state, &headers, &node_ident))
}

pub async fn secure_boot(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    boot_setting(
        &state,
        &access,
        "baremetal:node:set_secure_boot",
        version,
        &node_ident,
        body,
        |t| match t {
            Value::Bool(b) => Ok(BootSetting::SecureBoot(b)),
            other => Err(ApiError::bad_request(format!(
                "Invalid secure boot target {other}: use true or false"
            ))),
        },
    )
    .await?;
    Ok(accepted(&state, &headers, &node_ident))
}
