//! `PUT /v1/nodes/{node}/states/provision` and `/states/power`: validated here
//! (verb, version, arguments, state), then handed to the conductor; 202 once the
//! node is on its way.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferric_conductor::{BootSetting, ProvisionRequest};
use ferric_drivers::PowerTarget;
use ferric_types::fsm::{self, Event, Verb};
use ferric_types::provision::ProvisionState;
use ferric_types::{Microversion, Node};
use serde_json::{Map, Value};

use super::nodes::check_unlocked;
use super::values::Schema;
use crate::access::Access;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::links::base_url;
use crate::AppState;

/// Arguments of a provision request and the version that introduced each.
const PROVISION_ARGS: &[(&str, u16)] = &[
    ("target", 1),
    ("configdrive", 1),
    ("clean_steps", 15),
    ("rescue_password", 38),
    ("deploy_steps", 69),
    ("disable_ramdisk", 70),
    ("service_steps", 87),
    ("runbook", 92),
];

/// Interfaces whose steps a manual clean may name.
const STEP_INTERFACES: &[&str] = &["deploy", "power", "management", "bios", "raid", "vendor"];

/// 202 with `Location: …/nodes/{node}/states`.
fn accepted(state: &AppState, headers: &HeaderMap, node_ident: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let location = format!("{}/v1/nodes/{node_ident}/states", base_url(state, headers));
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Refuses keys the version does not know.
fn check_args(
    doc: &Map<String, Value>,
    known: &[(&str, u16)],
    version: Microversion,
) -> Result<(), ApiError> {
    for key in doc.keys() {
        match known.iter().find(|(k, _)| k == key) {
            None => {
                return Err(ApiError::bad_request(format!(
                    "Unexpected arguments: {key}"
                )))
            }
            Some((_, since)) if !version.at_least(*since) => {
                return Err(ApiError::not_acceptable("Request not acceptable."))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Validates `clean_steps` or `service_steps`: a non-empty list of
/// `{interface, step, args?}`.
fn operator_steps(what: &str, value: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Array(steps) = value else {
        return Err(ApiError::bad_request(format!(
            "{what} must be a list of steps"
        )));
    };
    if steps.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{what} must name at least one step"
        )));
    }
    for step in &steps {
        let iface = step.get("interface").and_then(Value::as_str);
        let name = step.get("step").and_then(Value::as_str);
        match (iface, name) {
            (Some(i), Some(n)) if STEP_INTERFACES.contains(&i) && !n.is_empty() => {}
            _ => {
                return Err(ApiError::bad_request(format!(
                "Invalid step {step} in {what}: each step needs \"interface\" (one of {}) and \"step\"",
                STEP_INTERFACES.join(", ")
            )))
            }
        }
        if let Some(args) = step.get("args") {
            if !args.is_object() {
                return Err(ApiError::bad_request(format!(
                    "Invalid step {step} in {what}: \"args\" must be an object"
                )));
            }
        }
    }
    Ok(steps)
}

/// A config drive given as JSON: only the four documents, each of the right kind.
fn check_configdrive_doc(doc: &Map<String, Value>) -> Result<(), ApiError> {
    for (key, value) in doc {
        let ok = match key.as_str() {
            "meta_data" | "network_data" | "vendor_data" => value.is_object() || value.is_null(),
            "user_data" => {
                value.is_object() || value.is_array() || value.is_string() || value.is_null()
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid configdrive: unexpected key \"{key}\"; allowed: meta_data, network_data, user_data, vendor_data"
                )))
            }
        };
        if !ok {
            return Err(ApiError::bad_request(format!(
                "Invalid configdrive: {key} has the wrong type"
            )));
        }
    }
    Ok(())
}

/// Builds the conductor request from the body, enforcing which argument goes with
/// which verb.
fn provision_request(
    node: &Node,
    verb: Verb,
    mut doc: Map<String, Value>,
    version: Microversion,
) -> Result<ProvisionRequest, ApiError> {
    let mut req = ProvisionRequest::new(verb);
    if let Some(cd) = doc.remove("configdrive") {
        let allowed = verb.name == "active" || (verb.name == "rebuild" && version.at_least(35));
        if !allowed {
            return Err(ApiError::bad_request(format!(
                "Adding a config drive is only supported when setting provision state to active or rebuild, not {}",
                verb.name
            )));
        }
        match &cd {
            Value::String(_) | Value::Null => {}
            Value::Object(doc) if version.at_least(56) => check_configdrive_doc(doc)?,
            Value::Object(_) => return Err(ApiError::not_acceptable("Request not acceptable.")),
            _ => {
                return Err(ApiError::bad_request(
                    "configdrive must be a string (URL or gzipped base64 image)",
                ))
            }
        }
        req.configdrive = Some(cd).filter(|v| !v.is_null());
    }
    match doc.remove("clean_steps") {
        Some(steps) if verb.event == Event::Clean => {
            req.clean_steps = Some(operator_steps("clean_steps", steps)?)
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
            "\"clean_steps\" is only valid when setting target provision state to clean, not {}",
            verb.name
        )))
        }
        None if verb.event == Event::Clean => {
            return Err(ApiError::bad_request(
                "\"clean_steps\" is required when setting target provision state to clean",
            ))
        }
        None => {}
    }
    match doc.remove("rescue_password") {
        Some(Value::String(p)) if verb.event == Event::Rescue && !p.trim().is_empty() => req.rescue_password = Some(p),
        Some(_) if verb.event == Event::Rescue => {
            return Err(ApiError::bad_request("A non-empty \"rescue_password\" is required"))
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "\"rescue_password\" is only valid when setting target provision state to rescue, not {}",
                verb.name
            )))
        }
        None if verb.event == Event::Rescue => {
            return Err(ApiError::bad_request("A non-empty \"rescue_password\" is required"))
        }
        None => {}
    }
    match doc.remove("service_steps") {
        Some(steps) if verb.event == Event::Service => req.service_steps = Some(operator_steps("service_steps", steps)?),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "\"service_steps\" is only valid when setting target provision state to service, not {}",
                verb.name
            )))
        }
        None if verb.event == Event::Service => {
            return Err(ApiError::bad_request(
                "\"service_steps\" is required when setting target provision state to service",
            ))
        }
        None => {}
    }
    match doc.remove("deploy_steps") {
        Some(steps) if matches!(verb.event, Event::Deploy | Event::Rebuild) => {
            req.deploy_steps = Some(super::deploy_templates::parse_steps(Schema("deploy_steps"), steps)?);
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "\"deploy_steps\" is only valid when setting target provision state to active or rebuild, not {}",
                verb.name
            )))
        }
        None => {}
    }
    match doc.remove("disable_ramdisk") {
        Some(Value::Bool(b)) if verb.event == Event::Clean => req.disable_ramdisk = Some(b),
        Some(Value::Bool(_)) => {
            return Err(ApiError::bad_request(format!(
                "\"disable_ramdisk\" is only valid when setting target provision state to clean, not {}",
                verb.name
            )))
        }
        Some(other) => return Err(ApiError::bad_request(format!("Invalid disable_ramdisk {other}: it must be a boolean"))),
        None => {}
    }
    if let Some(key) = doc.keys().next() {
        return Err(ApiError::not_acceptable(format!(
            "The argument \"{key}\" is not supported by this Ferric build yet."
        )));
    }
    if node.maintenance && matches!(verb.event, Event::Deploy | Event::Rebuild) {
        return Err(ApiError::bad_request(format!(
            "Cannot perform the requested operation on node {} because it is in maintenance mode.",
            node.uuid
        )));
    }
    if node.protected && matches!(verb.event, Event::Rebuild | Event::Delete) {
        return Err(ApiError::forbidden(format!(
            "Node {} is protected and cannot be undeployed, rebuilt or deleted",
            node.uuid
        )));
    }
    Ok(req)
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
    if fsm::next(node.provision_state, verb.event).is_none() {
        return Err(not_possible());
    }
    let mut request = provision_request(&node, verb, doc, version)?;
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
