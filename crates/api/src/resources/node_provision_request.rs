//! The body of `PUT /v1/nodes/{node}/states/provision`: which arguments each
//! version knows, which go with which verb, the operator's steps and config drive,
//! and a runbook (API 1.92) standing in for the steps of a clean or a service.

use ferric_conductor_api::ProvisionRequest;
use ferric_types::fsm::{Event, Verb};
use ferric_types::{Microversion, Node};
use serde_json::{Map, Value};

use super::values::Schema;
use crate::access::Access;
use crate::error::ApiError;
use crate::AppState;

/// Arguments of a provision request and the version that introduced each.
pub(super) const PROVISION_ARGS: &[(&str, u16)] = &[
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
const STEP_INTERFACES: &[&str] = &[
    "deploy",
    "power",
    "management",
    "bios",
    "raid",
    "vendor",
    "firmware",
];

/// Refuses keys the version does not know.
pub(super) fn check_args(
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

/// A step as an error message may quote it: its arguments can hold passwords
/// (BIOS, RAID controller), and refusals are logged.
fn shown(step: &Value) -> Value {
    let mut step = step.clone();
    match step.get_mut("args") {
        Some(Value::Object(args)) => ferric_types::secrets::mask_secrets(args),
        Some(other) => *other = Value::from("******"),
        None => {}
    }
    step
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
                "Invalid step {} in {what}: each step needs \"interface\" (one of {}) and \"step\"",
                shown(step),
                STEP_INTERFACES.join(", ")
            )))
            }
        }
        if let Some(args) = step.get("args") {
            if !args.is_object() {
                return Err(ApiError::bad_request(format!(
                    "Invalid step {} in {what}: \"args\" must be an object",
                    shown(step)
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
pub(super) async fn provision_request(
    state: &AppState,
    access: &Access,
    node: &Node,
    verb: Verb,
    mut doc: Map<String, Value>,
    version: Microversion,
) -> Result<ProvisionRequest, ApiError> {
    let runbook_disables_ramdisk =
        use_runbook(state, access, node, verb, &mut doc, version).await?;
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
        Some(Value::Bool(_)) if verb.event == Event::Service && !version.at_least(108) => {
            return Err(ApiError::not_acceptable("Request not acceptable."))
        }
        Some(Value::Bool(b)) if verb.event == Event::Service => req.disable_ramdisk = Some(b),
        Some(Value::Bool(_)) => {
            return Err(ApiError::bad_request(format!(
                "\"disable_ramdisk\" is only valid when setting target provision state to clean or service, not {}",
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
    if let Some(flag) = runbook_disables_ramdisk {
        req.disable_ramdisk = Some(flag);
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

/// A `runbook` in the body (API 1.92): the caller must pass `baremetal:runbook:use`
/// on it and the node must be approved for it (from 1.112 by sharing one of its
/// traits, before by carrying its name as a trait). Its steps, in order, become the
/// clean or service steps. Returns the runbook's `disable_ramdisk` when one was used.
async fn use_runbook(
    state: &AppState,
    access: &Access,
    node: &Node,
    verb: Verb,
    doc: &mut Map<String, Value>,
    version: Microversion,
) -> Result<Option<bool>, ApiError> {
    let ident = match doc.remove("runbook") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid runbook {other}: it must be a runbook's name or UUID"
            )))
        }
    };
    let key = match verb.event {
        Event::Clean => "clean_steps",
        Event::Service => "service_steps",
        _ => {
            return Err(ApiError::bad_request(format!(
                "\"runbooks\" is only valid when setting target provision state to clean or service, not {}",
                verb.name
            )))
        }
    };
    let runbook = super::runbooks::find_for(state, access, &ident, "baremetal:runbook:use").await?;
    let by_traits = version.at_least(112);
    if by_traits && runbook.traits.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Runbook {} has no traits configured. Please ask an administrator to add traits to the runbook.",
            runbook.uuid
        )));
    }
    if !runbook.approved_for(&node.traits, by_traits) {
        let why = if by_traits {
            let mut traits = runbook.traits.clone();
            traits.sort();
            format!(
                "The node does not have any of the runbook's traits {traits:?}. Please ask an administrator to add a matching trait to your node."
            )
        } else {
            "Please ask an administrator to add it to your node traits.".to_string()
        };
        return Err(ApiError::bad_request(format!(
            "This runbook has not been approved for use on this node {}. {why}",
            node.uuid
        )));
    }
    if doc.contains_key(key) {
        return Err(ApiError::bad_request(format!(
            "Please provide either \"{key}\" or a runbook, but not both."
        )));
    }
    doc.insert(key.to_string(), Value::Array(runbook.ordered_steps()));
    Ok(Some(runbook.disable_ramdisk))
}
