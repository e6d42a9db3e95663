//! Hardware types as code: the interfaces a conductor drives a node through (power,
//! management, and the provisioning work of deploy, clean, inspect, rescue…), and
//! `Driver`, the set of implementations a node's interface fields select. The
//! `fake-hardware` implementations keep real state and take configurable delays.

mod absent;
pub mod agent_client;
mod agent_tls;
mod context;
pub mod direct;
mod fake;
pub mod image_cache;
pub mod inspect;
mod interfaces;
pub mod ipmi;
mod keep_powered;
pub mod netboot;
pub mod network;
pub mod neutron_network;
mod noop_management;
pub mod redfish;
pub mod rescue;
pub mod steps;
pub mod worker_slot;

pub use context::Drivers;
pub use interfaces::{
    BiosInterface, BootDevice, BootInterface, BoxFuture, ConsoleInterface, DriverError, Indicator,
    ManagementInterface, PowerInterface, PowerTarget, VendorInterface, VendorMethod, VirtualMedia,
    WorkInterface, WorkKind,
};

use std::sync::Arc;

use ferric_types::hardware::InterfaceKind;
pub use ferric_types::management::Validation;
use ferric_types::Node;

/// The implementations a node's interfaces select.
#[derive(Clone)]
pub struct Driver {
    pub power: Arc<dyn PowerInterface>,
    pub management: Arc<dyn ManagementInterface>,
    pub console: Arc<dyn ConsoleInterface>,
    pub bios: Arc<dyn BiosInterface>,
    pub vendor: Arc<dyn VendorInterface>,
    /// Runs deploys, cleaning, inspection, rescue and the rest of the provisioning work.
    pub work: Arc<dyn WorkInterface>,
    /// The clean, deploy and service steps.
    pub steps: Arc<dyn steps::StepInterface>,
    /// Network flips (provisioning, cleaning, tenant).
    pub network: Arc<dyn network::NetworkInterface>,
    /// How the node boots the deploy ramdisk and its instance.
    pub boot: Arc<dyn BootInterface>,
}

impl Driver {
    /// The node's power, management, network and boot, as the agent-driven
    /// interfaces (direct deploy, agent inspection and rescue) use them.
    fn parts(&self, context: &Drivers) -> direct::DirectDeploy {
        direct::DirectDeploy {
            power: self.power.clone(),
            management: self.management.clone(),
            network: self.network.clone(),
            boot: self.boot.clone(),
            settings: context.agent.clone(),
            agent: context.agent_client.clone(),
            cache: context.image_cache.clone(),
        }
    }

    /// Validates every interface of `node` (power and management ask the hardware).
    pub async fn validate(&self, node: &Node) -> Vec<Validation> {
        let mut out = Vec::with_capacity(InterfaceKind::ALL.len());
        for kind in InterfaceKind::ALL {
            let (result, reason) = match node.interface(kind) {
                None => (None, Some("not supported".to_string())),
                Some(name) if name.starts_with("no-") => (
                    None,
                    Some(format!("the {name} interface has nothing to validate")),
                ),
                Some(_) => {
                    let checked = match kind {
                        InterfaceKind::Power => self.power.validate(node).await,
                        InterfaceKind::Management => self.management.validate(node).await,
                        InterfaceKind::Boot => self.boot.validate(node),
                        _ => Ok(()),
                    };
                    match checked {
                        Ok(()) => (Some(true), None),
                        Err(e) => (Some(false), Some(e.to_string())),
                    }
                }
            };
            out.push(Validation {
                kind,
                result,
                reason,
            });
        }
        out
    }
}
