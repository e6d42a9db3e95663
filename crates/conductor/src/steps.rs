//! The step engine, one for cleaning, deploying and servicing: plans the steps
//! (automated: the driver's steps with a priority above 0, highest first; manual: the
//! operator's list, each checked against the driver's steps and their arguments),
//! then runs them one at a time, showing the running step in the node's
//! `clean_step`/`deploy_step`, rebooting when a step asks, and stopping at the first
//! failure.

use ferric_drivers::steps::{StepOutcome, StepPhase, StepRun, StepSpec};
use ferric_drivers::{Driver, DriverError, PowerTarget};
use ferric_types::deploy_template::{DeployTemplate, TemplateStep};
use ferric_types::hardware::InterfaceKind;
use ferric_types::{JsonObject, Node};
use serde_json::Value;

use crate::lock::NodeLock;

fn interface_named(name: &str) -> Option<InterfaceKind> {
    InterfaceKind::ALL.into_iter().find(|k| k.as_str() == name)
}

fn run_of(spec: &StepSpec, args: JsonObject) -> StepRun {
    StepRun {
        interface: spec.interface,
        step: spec.step.to_string(),
        priority: spec.priority,
        abortable: spec.abortable,
        args,
    }
}

/// The steps to run, or why the request cannot run.
pub(crate) fn plan(
    driver: &Driver,
    node: &Node,
    phase: StepPhase,
    requested: Option<&[Value]>,
) -> Result<Vec<StepRun>, String> {
    let specs = driver.steps.steps(node, phase);
    let Some(requested) = requested else {
        let mut auto: Vec<&StepSpec> = specs.iter().filter(|s| s.priority > 0).collect();
        auto.sort_by_key(|s| std::cmp::Reverse(s.priority));
        return Ok(auto
            .into_iter()
            .map(|s| run_of(s, JsonObject::new()))
            .collect());
    };
    let available = || {
        specs
            .iter()
            .map(|s| format!("{}.{}", s.interface, s.step))
            .collect::<Vec<_>>()
            .join(", ")
    };
    requested
        .iter()
        .map(|req| {
            let iface = req
                .get("interface")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = req.get("step").and_then(Value::as_str).unwrap_or_default();
            let spec = interface_named(iface)
                .and_then(|kind| specs.iter().find(|s| s.interface == kind && s.step == name))
                .ok_or_else(|| {
                    format!(
                        "{iface}.{name} is not a {} step of node {}; available: {}",
                        phase.as_str(),
                        node.uuid,
                        available()
                    )
                })?;
            let args = match req.get("args") {
                Some(Value::Object(a)) => a.clone(),
                _ => JsonObject::new(),
            };
            check_args(spec, &args)?;
            Ok(run_of(spec, args))
        })
        .collect()
}

/// Checks a step's arguments against what the step takes.
fn check_args(spec: &StepSpec, args: &JsonObject) -> Result<(), String> {
    let name = format!("{}.{}", spec.interface, spec.step);
    if let Some(unknown) = args
        .keys()
        .find(|k| !spec.args.iter().any(|a| a.name == k.as_str()))
    {
        return Err(format!("{name} takes no argument \"{unknown}\""));
    }
    if let Some(missing) = spec
        .args
        .iter()
        .find(|a| a.required && !args.contains_key(a.name))
    {
        return Err(format!(
            "{name} needs the argument \"{}\" ({})",
            missing.name, missing.description
        ));
    }
    Ok(())
}

/// The deploy steps of a node: the driver's, with the steps of the deploy templates
/// matching the node's traits and then the request's own `deploy_steps` added or
/// re-prioritised (priority 0 drops a step).
pub(crate) fn plan_deploy(
    driver: &Driver,
    node: &Node,
    templates: &[DeployTemplate],
    requested: &[TemplateStep],
) -> Result<Vec<StepRun>, String> {
    let specs = driver.steps.steps(node, StepPhase::Deploy);
    let mut runs: Vec<StepRun> = specs.iter().map(|s| run_of(s, JsonObject::new())).collect();
    let sources = templates
        .iter()
        .map(|t| (format!("deploy template {}", t.name), &t.steps[..]))
        .chain(std::iter::once(("deploy_steps".to_string(), requested)));
    for (source, steps) in sources {
        for ts in steps {
            let spec = interface_named(&ts.interface)
                .and_then(|kind| {
                    specs
                        .iter()
                        .find(|s| s.interface == kind && s.step == ts.step)
                })
                .ok_or_else(|| {
                    format!(
                        "{source} names {}.{}, which is not a deploy step of node {}",
                        ts.interface, ts.step, node.uuid
                    )
                })?;
            check_args(spec, &ts.args).map_err(|e| format!("{source}: {e}"))?;
            if let Some(run) = runs
                .iter_mut()
                .find(|r| r.interface == spec.interface && r.step == spec.step)
            {
                run.priority = ts.priority;
                run.args = ts.args.clone();
            }
        }
    }
    runs.retain(|r| r.priority > 0);
    runs.sort_by_key(|r| std::cmp::Reverse(r.priority));
    if runs.is_empty() {
        return Err(format!(
            "node {} has no deploy step to run: its {} deploy interface cannot deploy in this Ferric yet",
            node.uuid,
            node.deploy_interface.as_deref().unwrap_or("missing")
        ));
    }
    Ok(runs)
}

/// The `driver_internal_info` keys of the engine's saved state for a phase: the
/// plan, the index of the running step, whether the driver prepared.
fn engine_keys(phase: StepPhase) -> [String; 3] {
    let p = phase.as_str();
    [
        format!("{p}_plan"),
        format!("{p}_step_index"),
        format!("{p}_prepared"),
    ]
}

/// The saved plan and the index of the step to run next (after the one that
/// waited for a callback), when a run is being resumed.
pub(crate) fn saved_plan(node: &Node, phase: StepPhase) -> Option<(Vec<StepRun>, usize)> {
    let [plan_key, index_key, _] = engine_keys(phase);
    let dii = &node.driver_internal_info;
    let plan: Vec<StepRun> = dii
        .get(&plan_key)?
        .as_array()?
        .iter()
        .map(StepRun::from_json)
        .collect::<Option<_>>()?;
    let index = dii.get(&index_key).and_then(Value::as_u64).unwrap_or(0) as usize;
    Some((plan, index + 1))
}

pub(crate) fn save_plan(node: &mut Node, phase: StepPhase, plan: &[StepRun]) {
    let [plan_key, _, _] = engine_keys(phase);
    let steps: Vec<Value> = plan.iter().map(|s| Value::Object(s.to_json())).collect();
    node.driver_internal_info
        .insert(plan_key, Value::Array(steps));
}

pub(crate) fn is_prepared(node: &Node, phase: StepPhase) -> bool {
    let [_, _, prepared] = engine_keys(phase);
    node.driver_internal_info.get(&prepared) == Some(&Value::Bool(true))
}

pub(crate) fn mark_prepared(node: &mut Node, phase: StepPhase) {
    let [_, _, prepared] = engine_keys(phase);
    node.driver_internal_info
        .insert(prepared, Value::Bool(true));
}

/// Forgets the engine's saved state (a finished, failed or restarted run).
pub(crate) fn clear_engine(node: &mut Node, phase: StepPhase) {
    for key in engine_keys(phase) {
        node.driver_internal_info.remove(&key);
    }
}

/// The step a waiting node is at, as its `clean_step`/`deploy_step` shows it.
pub(crate) fn current(node: &Node, phase: StepPhase) -> Option<StepRun> {
    let step = match phase {
        StepPhase::Clean => &node.clean_step,
        StepPhase::Deploy => &node.deploy_step,
        StepPhase::Service => &node.service_step,
    };
    if step.is_empty() {
        return None;
    }
    StepRun::from_json(&Value::Object(step.clone()))
}

/// Runs `steps` from index `start` in order; the node shows each running step.
/// Returns false when a step continues outside the conductor and the node must wait
/// for a callback.
pub(crate) async fn run(
    lock: &NodeLock,
    node: &mut Node,
    driver: &Driver,
    phase: StepPhase,
    steps: &[StepRun],
    start: usize,
) -> Result<bool, DriverError> {
    let [_, index_key, _] = engine_keys(phase);
    for (index, step) in steps.iter().enumerate().skip(start) {
        node.driver_internal_info
            .insert(index_key.clone(), Value::from(index));
        set_current(node, phase, step.to_json());
        if let Err(e) = lock.save_patiently(node).await {
            return Err(DriverError::Hardware(format!(
                "could not record the running step: {e}"
            )));
        }
        let started = std::time::Instant::now();
        let outcome = driver.steps.execute(node, phase, step).await;
        record_step(phase, step, &outcome, started.elapsed());
        let outcome = outcome.map_err(|e| {
            DriverError::Hardware(format!(
                "{} step {}.{} failed: {e}",
                capitalized(phase),
                step.interface,
                step.step
            ))
        })?;
        match outcome {
            StepOutcome::Done => {}
            StepOutcome::RebootRequested => {
                driver
                    .power
                    .set_power_state(node, PowerTarget::Reboot, None)
                    .await?;
            }
            StepOutcome::Wait => return Ok(false),
        }
    }
    set_current(node, phase, JsonObject::new());
    Ok(true)
}

/// Records the time the conductor spent on a step; a step that continues on the
/// agent counts only its start here (its whole time is in the state's).
fn record_step(
    phase: StepPhase,
    step: &StepRun,
    outcome: &Result<StepOutcome, DriverError>,
    took: std::time::Duration,
) {
    let outcome = match outcome {
        Ok(StepOutcome::Done) => "done",
        Ok(StepOutcome::RebootRequested) => "reboot",
        Ok(StepOutcome::Wait) => "continues",
        Err(_) => "failed",
    };
    metrics::histogram!(
        crate::metrics::STEP,
        "phase" => phase.as_str(),
        "step" => format!("{}.{}", step.interface, step.step),
        "outcome" => outcome,
    )
    .record(took.as_secs_f64());
}

fn set_current(node: &mut Node, phase: StepPhase, step: JsonObject) {
    match phase {
        StepPhase::Clean => node.clean_step = step,
        StepPhase::Deploy => node.deploy_step = step,
        StepPhase::Service => node.service_step = step,
    }
}

fn capitalized(phase: StepPhase) -> &'static str {
    match phase {
        StepPhase::Clean => "Clean",
        StepPhase::Deploy => "Deploy",
        StepPhase::Service => "Service",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::hardware::FAKE_HARDWARE;
    use ferric_types::provision::ProvisionState;
    use serde_json::json;

    fn fake_node() -> Node {
        FAKE_HARDWARE.new_node(ProvisionState::Manageable)
    }

    #[test]
    fn automated_runs_positive_priorities_highest_first() {
        let node = fake_node();
        let driver = ferric_drivers::Drivers::default().for_node(&node).unwrap();
        let clean = plan(&driver, &node, StepPhase::Clean, None).unwrap();
        assert_eq!(
            clean.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(),
            ["erase_devices_metadata"]
        );
        let deploy = plan(&driver, &node, StepPhase::Deploy, None).unwrap();
        assert_eq!(deploy[0].step, "deploy");
    }

    #[test]
    fn manual_steps_are_checked() {
        let node = fake_node();
        let driver = ferric_drivers::Drivers::default().for_node(&node).unwrap();
        let ok = [
            json!({"interface": "deploy", "step": "erase_devices"}),
            json!({"interface": "bios", "step": "apply_configuration", "args": {"settings": []}}),
        ];
        assert_eq!(
            plan(&driver, &node, StepPhase::Clean, Some(&ok))
                .unwrap()
                .len(),
            2
        );
        for bad in [
            json!({"interface": "deploy", "step": "nope"}),
            json!({"interface": "bogus", "step": "erase_devices"}),
            json!({"interface": "bios", "step": "apply_configuration"}),
            json!({"interface": "deploy", "step": "erase_devices", "args": {"x": 1}}),
        ] {
            assert!(
                plan(
                    &driver,
                    &node,
                    StepPhase::Clean,
                    Some(std::slice::from_ref(&bad))
                )
                .is_err(),
                "{bad}"
            );
        }
    }
}
