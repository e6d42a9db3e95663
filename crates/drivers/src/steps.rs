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

/// A driver's steps.
pub trait StepInterface: Send + Sync {
    fn steps(&self, node: &Node, phase: StepPhase) -> Vec<StepSpec>;
    fn execute<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
        step: &'a StepRun,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>>;
}
