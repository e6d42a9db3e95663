//! Steps: the units of cleaning, deploying and servicing. A driver declares the steps
//! it offers per phase (interface, name, priority, whether it can be aborted, the
//! arguments it takes) and executes one at a time; the conductor's step engine orders
//! and runs them.

use ferric_types::hardware::InterfaceKind;
use ferric_types::{JsonObject, Node};
use serde_json::{json, Value};

use crate::interfaces::{BoxFuture, DriverError};

/// Which operation a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPhase {
    Clean,
    Deploy,
    Service,
}

impl StepPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            StepPhase::Clean => "clean",
            StepPhase::Deploy => "deploy",
            StepPhase::Service => "service",
        }
    }
}

/// An argument a step takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepArg {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// A step a driver offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSpec {
    pub interface: InterfaceKind,
    pub step: &'static str,
    /// Automated runs include steps with a priority above 0, highest first.
    pub priority: u32,
    pub abortable: bool,
    pub args: &'static [StepArg],
}

/// A step chosen to run, with its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRun {
    pub interface: InterfaceKind,
    pub step: String,
    pub priority: u32,
    pub abortable: bool,
    pub args: JsonObject,
}

impl StepRun {
    /// Reads a step back from its JSON form (a saved plan).
    pub fn from_json(v: &Value) -> Option<Self> {
        let iface = v.get("interface")?.as_str()?;
        let interface = InterfaceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == iface)?;
        Some(Self {
            interface,
            step: v.get("step")?.as_str()?.to_string(),
            priority: v.get("priority").and_then(Value::as_u64).unwrap_or(0) as u32,
            abortable: v.get("abortable").and_then(Value::as_bool).unwrap_or(false),
            args: v
                .get("args")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The step as the node's `clean_step` / `deploy_step` field shows it.
    pub fn to_json(&self) -> JsonObject {
        match json!({
            "interface": self.interface.as_str(),
            "step": self.step,
            "priority": self.priority,
            "abortable": self.abortable,
            "args": Value::Object(self.args.clone()),
        }) {
            Value::Object(map) => map,
            _ => JsonObject::new(),
        }
    }
}

/// What a finished step asks of the conductor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    Done,
    /// Reboot the node before the next step.
    RebootRequested,
    /// The step goes on outside the conductor (in the ramdisk agent): the node waits
    /// for a callback (`clean wait`, `wait call-back`…).
    Wait,
}

/// Where a step that waits for the ramdisk agent stands, as a heartbeat reveals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepPoll {
    /// Still going: wait for the next heartbeat.
    Pending,
    /// Finished: go on with the next step.
    Done,
    /// Failed, with the reason for `last_error`.
    Failed(String),
}

/// A driver's steps.
pub trait StepInterface: Send + Sync {
    fn steps(&self, node: &Node, phase: StepPhase) -> Vec<StepSpec>;
    fn execute<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
        step: &'a StepRun,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>>;

    /// Checks a deploy request before it is accepted (the image to write, the
    /// config drive), so a bad request changes nothing.
    fn check_deploy(&self, _node: &Node, _configdrive: Option<&Value>) -> Result<(), DriverError> {
        Ok(())
    }

    /// Runs before the steps are planned (a ramdisk driver boots the ramdisk here and
    /// asks to wait; the steps are planned once the agent has called back).
    fn prepare<'a>(
        &'a self,
        _node: &'a mut Node,
        _phase: StepPhase,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async { Ok(StepOutcome::Done) })
    }

    /// On an agent heartbeat: has the waiting step (or, with `None`, the preparation)
    /// finished?
    fn poll<'a>(
        &'a self,
        _node: &'a mut Node,
        _phase: StepPhase,
        _step: Option<&'a StepRun>,
    ) -> BoxFuture<'a, Result<StepPoll, DriverError>> {
        Box::pin(async { Ok(StepPoll::Pending) })
    }

    /// Runs after the last step succeeded (a ramdisk driver powers the node off).
    fn finish<'a>(
        &'a self,
        _node: &'a mut Node,
        _phase: StepPhase,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
}
