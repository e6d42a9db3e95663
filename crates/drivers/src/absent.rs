//! The interfaces a hardware type uses for what it does not have: the `no-console`,
//! `no-bios` and `no-vendor` interfaces, no boot interface, no steps of its own, and the provisioning
//! work of a BMC-only hardware type (verify and tear down through the power
//! interface; the rest needs the ramdisk agent).

use std::sync::Arc;

use ferric_types::Node;
use serde_json::Value;

use crate::interfaces::{
    BiosInterface, BootInterface, BoxFuture, ConsoleInterface, DriverError, PowerInterface,
    PowerTarget, VendorInterface, VendorMethod, WorkInterface, WorkKind,
};
use crate::steps::{StepInterface, StepOutcome, StepPhase, StepRun, StepSpec};

/// A node without a usable boot interface: nothing to clean up, nothing it can boot.
pub struct NoBoot;

impl BootInterface for NoBoot {
    fn prepare_ramdisk<'a>(&'a self, node: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        let err = self.validate(node);
        Box::pin(async move { err })
    }
    fn clean_up_ramdisk<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn prepare_instance<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn clean_up_instance<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn validate(&self, node: &Node) -> Result<(), DriverError> {
        Err(DriverError::Unsupported(format!(
            "node {} has no boot interface this Ferric can boot it with (boot_interface {:?}); use ipxe or pxe",
            node.uuid, node.boot_interface
        )))
    }
}

/// The `no-console` interface: a node without a console.
pub struct NoConsole;

impl ConsoleInterface for NoConsole {
    fn start<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(format!(
                "Node {} has no console: its console interface is no-console",
                node.uuid
            )))
        })
    }

    fn stop<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        self.start(node)
    }

    fn info(&self, _node: &Node) -> Option<Value> {
        None
    }
}

/// The `no-bios` interface: no BIOS settings to show.
pub struct NoBios;

impl BiosInterface for NoBios {
    fn settings(&self, node: &Node) -> Result<Vec<(String, Value)>, DriverError> {
        Err(DriverError::Unsupported(format!(
            "Node {} has no BIOS interface (no-bios)",
            node.uuid
        )))
    }
}

/// The `no-vendor` interface: no vendor methods.
pub struct NoVendor;

impl VendorInterface for NoVendor {
    fn methods(&self) -> Vec<VendorMethod> {
        Vec::new()
    }

    fn call<'a>(
        &'a self,
        node: &'a Node,
        _method: &'a str,
        _body: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(format!(
                "Node {} has no vendor interface (no-vendor)",
                node.uuid
            )))
        })
    }
}

/// A hardware type without steps of its own: it offers none and refuses any asked for.
pub struct NoSteps {
    /// The hardware type's name, for the refusal.
    pub hardware: &'static str,
}

impl StepInterface for NoSteps {
    fn steps(&self, _node: &Node, _phase: StepPhase) -> Vec<StepSpec> {
        Vec::new()
    }

    fn execute<'a>(
        &'a self,
        _node: &'a mut Node,
        _phase: StepPhase,
        step: &'a StepRun,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(format!(
                "{} has no step {}.{}",
                self.hardware, step.interface, step.step
            )))
        })
    }
}

/// The provisioning work a hardware type with only a BMC can do itself: verifying
/// proves the BMC answers and takes the credentials, tearing down powers the node off.
pub struct BmcOnlyWork {
    pub power: Arc<dyn PowerInterface>,
    /// How refusals name the node: "an ipmi node", "a redfish node".
    pub node_noun: &'static str,
}

impl WorkInterface for BmcOnlyWork {
    fn run<'a>(
        &'a self,
        node: &'a mut Node,
        kind: WorkKind,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            match kind {
                WorkKind::Verify => self.power.validate(node).await?,
                WorkKind::TearDown => {
                    self.power
                        .set_power_state(node, PowerTarget::Off, None)
                        .await?
                }
                WorkKind::Rescue | WorkKind::Unrescue => {
                    return Err(DriverError::Unsupported(format!(
                        "{} of {} needs the agent rescue interface (rescue_interface agent)",
                        kind.as_str(),
                        self.node_noun
                    )))
                }
                other => {
                    return Err(DriverError::Unsupported(format!(
                        "{} of {} is not supported by this Ferric",
                        other.as_str(),
                        self.node_noun
                    )))
                }
            }
            Ok(StepOutcome::Done)
        })
    }
}
