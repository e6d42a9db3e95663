//! Hardware types as code: the interfaces a conductor drives a node through (power,
//! management, and the provisioning work of deploy, clean, inspect, rescue…), and
//! `Driver`, the set of implementations a node's interface fields select. The
//! `fake-hardware` implementations keep real state and take configurable delays.

mod absent;
pub mod agent_client;
mod agent_tls;
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

pub use interfaces::{
    BiosInterface, BootDevice, BootInterface, BoxFuture, ConsoleInterface, DriverError, Indicator,
    ManagementInterface, PowerInterface, PowerTarget, VendorInterface, VendorMethod, VirtualMedia,
    WorkInterface, WorkKind,
};

use std::sync::Arc;

use ferric_types::hardware::{hardware_type, InterfaceKind};
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
    fn parts(&self) -> direct::DirectDeploy {
        direct::DirectDeploy {
            power: self.power.clone(),
            management: self.management.clone(),
            network: self.network.clone(),
            boot: self.boot.clone(),
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

/// Builds the driver for a node from its hardware type and interface fields.
pub fn driver_for(node: &Node) -> Result<Driver, DriverError> {
    let hw = hardware_type(&node.driver).ok_or_else(|| {
        DriverError::Config(format!(
            "hardware type {} is not known to this Ferric",
            node.driver
        ))
    })?;
    for kind in [InterfaceKind::Power, InterfaceKind::Management] {
        let chosen = node.interface(kind).ok_or_else(|| {
            DriverError::Config(format!("node {} has no {kind} interface", node.uuid))
        })?;
        hw.check_interface(kind, chosen)
            .map_err(DriverError::Config)?;
    }
    let mut driver = match hw.name {
        "fake-hardware" => {
            let fake = Arc::new(fake::FakeHardware);
            let console: Arc<dyn ConsoleInterface> = match node.interface(InterfaceKind::Console) {
                Some("fake") => fake.clone(),
                _ => Arc::new(absent::NoConsole),
            };
            let bios: Arc<dyn BiosInterface> = match node.interface(InterfaceKind::Bios) {
                Some("fake") => fake.clone(),
                _ => Arc::new(absent::NoBios),
            };
            let vendor: Arc<dyn VendorInterface> = match node.interface(InterfaceKind::Vendor) {
                Some("fake") => fake.clone(),
                _ => Arc::new(absent::NoVendor),
            };
            Ok(Driver {
                power: keep_powered::for_node(node, fake.clone()),
                management: fake.clone(),
                console,
                bios,
                vendor,
                work: fake.clone(),
                steps: fake.clone(),
                network: Arc::new(network::NoopNetwork),
                boot: fake,
            })
        }
        "ipmi" => {
            let i = Arc::new(ipmi::Ipmi);
            let power = keep_powered::for_node(node, i.clone());
            Ok(Driver {
                power: power.clone(),
                management: i.clone(),
                console: Arc::new(absent::NoConsole),
                bios: Arc::new(absent::NoBios),
                vendor: Arc::new(absent::NoVendor),
                work: Arc::new(absent::BmcOnlyWork {
                    power,
                    node_noun: "an ipmi node",
                }),
                steps: Arc::new(absent::NoSteps { hardware: "ipmi" }),
                network: Arc::new(network::NoopNetwork),
                boot: Arc::new(absent::NoBoot),
            })
        }
        "redfish" => {
            let r = Arc::new(redfish::Redfish);
            let power = keep_powered::for_node(node, r.clone());
            Ok(Driver {
                power: power.clone(),
                management: r.clone(),
                console: Arc::new(absent::NoConsole),
                bios: Arc::new(absent::NoBios),
                vendor: Arc::new(absent::NoVendor),
                work: Arc::new(absent::BmcOnlyWork {
                    power,
                    node_noun: "a redfish node",
                }),
                steps: Arc::new(absent::NoSteps {
                    hardware: "redfish",
                }),
                network: Arc::new(network::NoopNetwork),
                boot: Arc::new(absent::NoBoot),
            })
        }
        other => Err(DriverError::Config(format!(
            "no implementation of hardware type {other}"
        ))),
    }?;
    if node.interface(InterfaceKind::Management) == Some("noop") {
        driver.management = Arc::new(noop_management::NoopManagement);
    }
    match node.interface(InterfaceKind::Network) {
        Some("flat") => driver.network = Arc::new(network::FlatNetwork),
        Some("neutron") => {
            let backend = match ferric_net::external::global() {
                Some(external) => neutron_network::Backend::External(external),
                None => neutron_network::Backend::Own(ferric_net::service::global().ok_or_else(|| {
                    DriverError::Config(
                        "the neutron network interface needs the network service, which is not configured on this conductor".into(),
                    )
                })?),
            };
            driver.network = Arc::new(neutron_network::NeutronNetwork { backend });
        }
        _ => {}
    }
    // Nodes enrolled before their hardware type had a boot interface boot with its
    // default one.
    match node
        .interface(InterfaceKind::Boot)
        .or(hw.default_interface(InterfaceKind::Boot))
    {
        Some("ipxe" | "pxe") => driver.boot = Arc::new(netboot::NetBoot),
        Some("fake") => {}
        _ => driver.boot = Arc::new(absent::NoBoot),
    }
    match node.interface(InterfaceKind::Deploy) {
        Some("direct") => {
            driver.steps = Arc::new(driver.parts());
        }
        Some("ramdisk") => {
            driver.steps = Arc::new(absent::NoSteps {
                hardware: "the ramdisk deploy interface",
            });
        }
        _ => {}
    }
    if node.interface(InterfaceKind::Inspect) == Some("agent") {
        driver.work = Arc::new(inspect::AgentInspect {
            other: driver.work.clone(),
            parts: driver.parts(),
        });
    }
    if node.interface(InterfaceKind::Rescue) == Some("agent") {
        driver.work = Arc::new(rescue::AgentRescue {
            other: driver.work.clone(),
            parts: driver.parts(),
        });
    }
    Ok(driver)
}
