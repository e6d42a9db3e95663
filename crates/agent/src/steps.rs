//! The agent's clean and deploy steps (those of IPA's generic hardware manager that
//! Ferric's agent implements), their listing for the conductor, and their execution.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::agent::Agent;
use crate::commands::CommandError;
use crate::{disks, erase, image};

/// The hardware manager the steps belong to, and its version.
const MANAGER_CLASS: &str = "GenericHardwareManager";
const MANAGER_NAME: &str = "generic_hardware_manager";
const MANAGER_VERSION: &str = "1.2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Clean,
    Deploy,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Clean => "clean",
            Phase::Deploy => "deploy",
        }
    }
}

fn step(name: &str, priority: u32, argsinfo: Value, abortable: bool) -> Value {
    let mut s = json!({
        "interface": "deploy",
        "step": name,
        "priority": priority,
        "reboot_requested": false,
        "argsinfo": argsinfo,
    });
    if abortable {
        s["abortable"] = Value::Bool(true);
    }
    s
}

fn steps(phase: Phase) -> Vec<Value> {
    match phase {
        Phase::Clean => vec![
            step("erase_devices_metadata", 99, Value::Null, true),
            step("erase_devices", 10, Value::Null, true),
            step("erase_devices_express", 0, Value::Null, true),
        ],
        Phase::Deploy => vec![
            step(
                "write_image",
                0,
                json!({
                    "image_info": {"description": "Information about the image to write", "required": true},
                    "configdrive": {"description": "A URL or gzipped base64 config drive to write after the image", "required": false},
                }),
                false,
            ),
            step("erase_devices_metadata", 0, Value::Null, false),
        ],
    }
}

/// What `get_clean_steps` / `get_deploy_steps` answer.
pub fn list(phase: Phase) -> Value {
    json!({
        format!("{}_steps", phase.as_str()): {MANAGER_CLASS: steps(phase)},
        "hardware_manager_version": {MANAGER_NAME: MANAGER_VERSION},
    })
}

fn validate(phase: Phase, params: &Value) -> Result<(), CommandError> {
    let step = params
        .get("step")
        .ok_or_else(|| CommandError::invalid("the step to execute is missing"))?;
    let name = step.get("step").and_then(Value::as_str).unwrap_or_default();
    let interface = step
        .get("interface")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if interface != "deploy" || !steps(phase).iter().any(|s| s["step"] == name) {
        return Err(CommandError::new(
            400,
            "InvalidCommandParamsError",
            "Invalid command parameters",
            format!(
                "no {} step {interface}.{name} in any hardware manager",
                phase.as_str()
            ),
        ));
    }
    if name == "write_image" {
        let args = step.get("args").cloned().unwrap_or(Value::Null);
        image::check_image_info(args.get("image_info").unwrap_or(&Value::Null))?;
    }
    Ok(())
}

pub fn validate_deploy(_: &Agent, params: &Value) -> Result<(), CommandError> {
    validate(Phase::Deploy, params)
}

pub fn validate_clean(_: &Agent, params: &Value) -> Result<(), CommandError> {
    validate(Phase::Clean, params)
}

/// Runs one step; the result names the step it ran, as the conductor checks.
pub async fn execute(
    agent: Arc<Agent>,
    phase: Phase,
    params: Value,
) -> Result<Value, CommandError> {
    let version_key = format!("{}_version", phase.as_str());
    if let Some(Value::Object(sent)) = params.get(&version_key) {
        let ours = json!({MANAGER_NAME: MANAGER_VERSION});
        if sent
            .get(MANAGER_NAME)
            .is_some_and(|v| *v != ours[MANAGER_NAME])
        {
            return Err(CommandError::new(
                409,
                "VersionMismatch",
                "Hardware managers version mismatch",
                format!("the conductor expected {sent:?}, this agent has {ours}"),
            ));
        }
    }
    if let Some(node) = params.get("node").filter(|n| n.is_object()) {
        agent.set_node(node.clone());
    }
    let step = params.get("step").cloned().unwrap_or(Value::Null);
    let args = step.get("args").cloned().unwrap_or_else(|| json!({}));
    let name = step.get("step").and_then(Value::as_str).unwrap_or_default();
    let result = match name {
        "write_image" => Value::from(format!(
            "prepare_image: {}",
            image::prepare_image(agent.clone(), args).await?
        )),
        "erase_devices_metadata" => {
            for disk in disks::erasable(&agent.settings).map_err(erase_error)? {
                erase::metadata(&disk.path).await.map_err(erase_error)?;
            }
            Value::Null
        }
        "erase_devices" | "erase_devices_express" => {
            for disk in disks::erasable(&agent.settings).map_err(erase_error)? {
                erase::whole(&disk.path).await.map_err(erase_error)?;
            }
            Value::Null
        }
        other => return Err(CommandError::invalid(format!("unknown step {other}"))),
    };
    let result = match result {
        Value::String(s) => json!({"result": s}),
        other => other,
    };
    Ok(json!({
        format!("{}_result", phase.as_str()): result,
        format!("{}_step", phase.as_str()): step,
    }))
}

fn erase_error(e: String) -> CommandError {
    CommandError::failed("BlockDeviceEraseError", "Error erasing block device", e)
}
