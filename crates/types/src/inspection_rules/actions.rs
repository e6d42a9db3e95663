//! Running an action: its arguments interpolated, then the change made to the
//! context (node fields, capabilities, traits, plugin data, ports), once or, with a
//! `loop`, once per item.

use serde_json::Value;

use super::args::{bind, Args};
use super::context::{LogLevel, RuleContext};
use super::interpolate::{Mode, Scope};
use super::ops::ActionOp;
use super::paths;
use super::pyvalue::{py_str, type_name};
use super::rule::Action;
use super::run::{EvalError, Run};
use crate::traits::{invalid_trait_message, is_valid_trait, MAX_TRAITS_PER_NODE};
use crate::JsonObject;

/// Node fields the conductor owns; rules may not change them.
pub const NODE_FIELDS_RULES_CANNOT_CHANGE: &[&str] = &[
    "uuid",
    "created_at",
    "updated_at",
    "provision_state",
    "target_provision_state",
    "provision_updated_at",
    "power_state",
    "target_power_state",
    "reservation",
    "conductor",
    "inspection_started_at",
    "inspection_finished_at",
];

/// Port fields rules may not change.
pub const PORT_FIELDS_RULES_CANNOT_CHANGE: &[&str] =
    &["uuid", "node_uuid", "created_at", "updated_at"];

/// Runs `action` against `ctx`.
pub(crate) fn run_action(
    action: &Action,
    ctx: &mut RuleContext,
    run: &mut Run,
) -> Result<(), EvalError> {
    match &action.loop_items {
        Some(Value::Array(items)) => {
            for item in items {
                run_once(action, ctx, Some(item), run)?;
            }
            Ok(())
        }
        Some(map @ Value::Object(_)) => run_once(action, ctx, Some(map), run),
        _ => run_once(action, ctx, None, run),
    }
}

fn run_once(
    action: &Action,
    ctx: &mut RuleContext,
    item: Option<&Value>,
    run: &mut Run,
) -> Result<(), EvalError> {
    let op = action.op;
    if !op.is_supported() {
        return Err(EvalError::Error(unsupported(op)));
    }
    let sig = op.signature();
    let bound = bind(&action.args, &sig, op.takes_plugin_data())?;
    let args = {
        let scope = Scope {
            node: &ctx.node,
            inventory: &ctx.inventory,
            plugin_data: &ctx.plugin_data,
            item,
            mask: run.mask,
        };
        let mode = Mode {
            in_loop: item.is_some(),
            missing_is_null: false,
        };
        Args::interpolate(bound, &sig, &scope, mode, &mut run.unformatted).into_owned()
    };
    apply(op, args, ctx, run)
}

/// The error for `api-call`.
pub(crate) fn unsupported(op: ActionOp) -> String {
    format!("the '{op}' action is not supported by Ferric (rules run without network access)")
}

fn apply(
    op: ActionOp,
    mut args: Args<'_>,
    ctx: &mut RuleContext,
    run: &mut Run,
) -> Result<(), EvalError> {
    match op {
        ActionOp::Fail => Err(EvalError::Fail(py_str(args.req("msg")))),
        ActionOp::Log => {
            let level = match args.get("level") {
                None => LogLevel::Info,
                Some(Value::String(s)) => LogLevel::from_name(s).ok_or_else(|| bad_level(s))?,
                Some(other) => return Err(bad_level(&py_str(other)).into()),
            };
            run.log(level, py_str(args.req("msg")), "log action");
            Ok(())
        }
        ActionOp::SetAttribute | ActionOp::ExtendAttribute | ActionOp::DelAttribute => {
            let path = args.string("path")?.to_string();
            let parts = paths::attr_path(&path);
            guard(&parts, NODE_FIELDS_RULES_CANNOT_CHANGE, "node")?;
            let node = &mut ctx.node;
            let done = match op {
                ActionOp::SetAttribute => {
                    paths::set_attr(node, &parts, args.take("value"), "node").map(|_| true)
                }
                ActionOp::ExtendAttribute => {
                    let unique = args.flag("unique");
                    paths::extend_attr(node, &parts, args.take("value"), unique, "node")
                        .map(|_| true)
                }
                _ => paths::del_attr(node, &parts, "node"),
            };
            let verb = match op {
                ActionOp::SetAttribute => "set",
                ActionOp::ExtendAttribute => "extend",
                _ => "delete",
            };
            match done {
                Ok(true) => {}
                Ok(false) => run.log(
                    LogLevel::Debug,
                    format!("nothing to delete at {path}"),
                    "nothing to delete",
                ),
                Err(e) => return Err(format!("Failed to {verb} attribute {path}: {e}").into()),
            }
            if parts.first() == Some(&"traits") {
                check_traits(node)
                    .map_err(|e| format!("Failed to {verb} attribute {path}: {e}"))?;
            }
            Ok(())
        }
        ActionOp::SetCapability => {
            let name = args.string("name")?.to_string();
            let value = match args.req("value") {
                Value::String(s) => s.clone(),
                v @ (Value::Number(_) | Value::Bool(_)) => py_str(v),
                other => {
                    return Err(format!(
                        "Failed to set capability {name}: the value must be a string, not {}",
                        type_name(other)
                    )
                    .into())
                }
            };
            let caps = capabilities(&ctx.node)
                .map_err(|e| format!("Failed to set capability {name}: {e}"))?;
            let new_cap = format!("{name}:{value}");
            let caps = if caps.is_empty() {
                new_cap
            } else {
                format!("{caps},{new_cap}")
            };
            set_capabilities(&mut ctx.node, caps)
                .map_err(|e| format!("Failed to set capability {name}: {e}"))?;
            Ok(())
        }
        ActionOp::UnsetCapability => {
            let name = args.string("name")?.to_string();
            let caps = capabilities(&ctx.node)
                .map_err(|e| format!("Failed to unset capability {name}: {e}"))?;
            let prefix = format!("{name}:");
            let kept: Vec<&str> = caps
                .split(',')
                .filter(|c| !c.starts_with(&prefix))
                .collect();
            let kept = kept.join(",");
            set_capabilities(&mut ctx.node, kept)
                .map_err(|e| format!("Failed to unset capability {name}: {e}"))?;
            Ok(())
        }
        ActionOp::AddTrait => {
            let name = args.string("name")?.to_string();
            add_trait(&mut ctx.node, &name)
                .map_err(|e| format!("Failed to add new trait {name}: {e}"))?;
            Ok(())
        }
        ActionOp::RemoveTrait => {
            let name = args.string("name")?.to_string();
            let removed = match ctx.node.get_mut("traits") {
                Some(Value::Array(traits)) => {
                    let before = traits.len();
                    traits.retain(|t| t.as_str() != Some(name.as_str()));
                    traits.len() != before
                }
                _ => false,
            };
            if !removed {
                run.log(
                    LogLevel::Warning,
                    format!("Failed to remove trait {name}: the node does not have it"),
                    "Failed to remove a trait: the node does not have it",
                );
            }
            Ok(())
        }
        ActionOp::SetPluginData | ActionOp::ExtendPluginData | ActionOp::UnsetPluginData => {
            let path = args.string("path")?.to_string();
            let parts = paths::plugin_data_path(&path);
            let pd = &mut ctx.plugin_data;
            let result = match op {
                ActionOp::SetPluginData => paths::set_plugin_data(pd, &parts, args.take("value"))
                    .map_err(|e| format!("Failed to set plugin data at {path}: {e}")),
                ActionOp::ExtendPluginData => {
                    let unique = args.flag("unique");
                    paths::extend_plugin_data(pd, &parts, args.take("value"), unique)
                        .map_err(|e| format!("Failed to extend plugin data at {path}: {e}"))
                }
                _ => {
                    if !paths::unset_plugin_data(pd, &parts) {
                        run.log(
                            LogLevel::Warning,
                            format!("Path {path} not found"),
                            "Plugin data path not found",
                        );
                    }
                    Ok(())
                }
            };
            Ok(result?)
        }
        ActionOp::SetPortAttribute | ActionOp::ExtendPortAttribute | ActionOp::DelPortAttribute => {
            let port_id = py_str(args.req("port_id"));
            let path = args.string("path")?.to_string();
            let parts = paths::attr_path(&path);
            let port = find_port(&mut ctx.ports, &port_id)
                .ok_or_else(|| format!("Port {port_id} could not be found."))?;
            guard(&parts, PORT_FIELDS_RULES_CANNOT_CHANGE, "port")?;
            let (verb, done) = match op {
                ActionOp::SetPortAttribute => (
                    "set",
                    paths::set_attr(port, &parts, args.take("value"), "port").map(|_| true),
                ),
                ActionOp::ExtendPortAttribute => {
                    let unique = args.flag("unique");
                    (
                        "extend",
                        paths::extend_attr(port, &parts, args.take("value"), unique, "port")
                            .map(|_| true),
                    )
                }
                _ => ("delete", paths::del_attr(port, &parts, "port")),
            };
            match done {
                Ok(true) => Ok(()),
                Ok(false) => {
                    run.log(
                        LogLevel::Debug,
                        format!("nothing to delete at {path} of port {port_id}"),
                        "nothing to delete",
                    );
                    Ok(())
                }
                Err(e) => {
                    Err(format!("Failed to {verb} attribute {path} for port {port_id}: {e}").into())
                }
            }
        }
        ActionOp::ApiCall => Err(EvalError::Error(unsupported(op))),
    }
}

fn bad_level(level: &str) -> String {
    format!("Invalid log level: {level}. Choose from debug, info, warning, error, critical")
}

/// Refuses paths into fields the conductor owns.
fn guard(parts: &[&str], read_only: &[&str], kind: &str) -> Result<(), String> {
    match parts.first() {
        Some(field) if read_only.contains(field) => Err(format!(
            "{kind} field '{field}' cannot be changed by inspection rules"
        )),
        _ => Ok(()),
    }
}

/// A port by UUID (any case) or MAC address (any case).
fn find_port<'p>(ports: &'p mut [JsonObject], id: &str) -> Option<&'p mut JsonObject> {
    let matches = |p: &JsonObject, key: &str| {
        p.get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(id))
    };
    let index = ports
        .iter()
        .position(|p| matches(p, "uuid"))
        .or_else(|| ports.iter().position(|p| matches(p, "address")))?;
    ports.get_mut(index)
}

/// The node's `properties.capabilities` string (`k:v,k2:v2`); empty when unset.
fn capabilities(node: &JsonObject) -> Result<String, String> {
    match node.get("properties") {
        Some(Value::Object(props)) => match props.get("capabilities") {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "properties/capabilities is a {}, not a string",
                type_name(other)
            )),
        },
        Some(other) => Err(format!(
            "properties is a {}, not a dictionary",
            type_name(other)
        )),
        None => Err("node has no attribute 'properties'".into()),
    }
}

fn set_capabilities(node: &mut JsonObject, caps: String) -> Result<(), String> {
    match node.get_mut("properties") {
        Some(Value::Object(props)) => {
            props.insert("capabilities".into(), Value::String(caps));
            Ok(())
        }
        _ => Err("node properties are not a dictionary".into()),
    }
}

fn add_trait(node: &mut JsonObject, name: &str) -> Result<(), String> {
    if !is_valid_trait(name) {
        return Err(invalid_trait_message(name));
    }
    let traits = node
        .entry("traits")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(traits) = traits else {
        return Err(format!("traits is a {}, not a list", type_name(traits)));
    };
    if traits.iter().any(|t| t.as_str() == Some(name)) {
        return Ok(());
    }
    if traits.len() >= MAX_TRAITS_PER_NODE {
        return Err(format!(
            "a node may have at most {MAX_TRAITS_PER_NODE} traits"
        ));
    }
    traits.push(Value::String(name.to_string()));
    Ok(())
}

/// After a rule changed `traits` directly: still a list of distinct valid trait names,
/// no more than the node may have.
fn check_traits(node: &JsonObject) -> Result<(), String> {
    let traits = match node.get("traits") {
        Some(Value::Array(traits)) => traits,
        Some(other) => return Err(format!("traits must be a list, not {}", type_name(other))),
        None => return Ok(()),
    };
    if traits.len() > MAX_TRAITS_PER_NODE {
        return Err(format!(
            "a node may have at most {MAX_TRAITS_PER_NODE} traits"
        ));
    }
    for (i, t) in traits.iter().enumerate() {
        let name = t
            .as_str()
            .ok_or_else(|| format!("trait {} is not a string", i + 1))?;
        if !is_valid_trait(name) {
            return Err(invalid_trait_message(name));
        }
        if traits[..i].iter().any(|u| u == t) {
            return Err(format!("trait {name} is listed twice"));
        }
    }
    Ok(())
}
