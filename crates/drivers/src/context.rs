//! What a conductor builds its nodes' drivers with: its settings (agent, network
//! boot) and the services they use (image cache, network service or external
//! Neutron), passed in rather than kept in process-wide statics, so conductors
//! with different settings can share one process.

use std::sync::Arc;

use ferric_db::Datastore;
use ferric_net::external::ExternalNeutron;
use ferric_net::service::NetworkService;
use ferric_types::hardware::{hardware_type, InterfaceKind};
use ferric_types::Node;

use crate::agent_client::AgentClient;
use crate::direct::AgentSettings;
use crate::image_cache::ImageCache;
use crate::netboot::NetbootSettings;
use crate::redfish::RedfishClients;
use crate::{
    absent, fake, inspect, ipmi, keep_powered, netboot, network, neutron_network, noop_management,
    redfish, rescue, BiosInterface, ConsoleInterface, Driver, DriverError, VendorInterface,
};

const NO_NETWORK_SERVICE: &str = "the neutron network interface needs the network service, \
     which is not configured on this conductor";

/// A conductor's settings and services for drivers; the default has none of the
/// services (BMC-only hardware and fake hardware need none).
#[derive(Clone, Default)]
pub struct Drivers {
    pub agent: AgentSettings,
    /// None when network boot is not configured.
    pub netboot: Option<NetbootSettings>,
    pub image_cache: Option<Arc<ImageCache>>,
    /// Ferric's own network service (the `neutron` network interface without an
    /// external Neutron).
    pub network: Option<Arc<NetworkService>>,
    /// An external Neutron, which the `neutron` network interface then uses.
    pub external: Option<Arc<ExternalNeutron>>,
    /// Where network boot records what each node boots.
    pub store: Option<Datastore>,
    /// Connection pools: ramdisk agents, BMCs.
    pub agent_client: Arc<AgentClient>,
    pub redfish: Arc<RedfishClients>,
}

impl Drivers {
    /// Builds the driver for a node from its hardware type and interface fields.
    pub fn for_node(&self, node: &Node) -> Result<Driver, DriverError> {
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
                let console: Arc<dyn ConsoleInterface> =
                    match node.interface(InterfaceKind::Console) {
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
                let r = Arc::new(redfish::Redfish {
                    clients: self.redfish.clone(),
                });
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
                let backend = match (&self.external, &self.network) {
                    (Some(external), _) => neutron_network::Backend::External(external.clone()),
                    (None, Some(own)) => neutron_network::Backend::Own(own.clone()),
                    (None, None) => return Err(DriverError::Config(NO_NETWORK_SERVICE.into())),
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
            Some("ipxe" | "pxe") => {
                driver.boot = Arc::new(netboot::NetBoot {
                    settings: self.netboot.clone(),
                    cache: self.image_cache.clone(),
                    store: self.store.clone(),
                })
            }
            Some("fake") => {}
            _ => driver.boot = Arc::new(absent::NoBoot),
        }
        match node.interface(InterfaceKind::Deploy) {
            Some("direct") => {
                driver.steps = Arc::new(driver.parts(self));
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
                parts: driver.parts(self),
            });
        }
        if node.interface(InterfaceKind::Rescue) == Some("agent") {
            driver.work = Arc::new(rescue::AgentRescue {
                other: driver.work.clone(),
                parts: driver.parts(self),
            });
        }
        Ok(driver)
    }
}

impl std::fmt::Debug for Drivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drivers")
            .field("agent", &self.agent)
            .field("netboot", &self.netboot)
            .field("image_cache", &self.image_cache.is_some())
            .field("network", &self.network.is_some())
            .field("external", &self.external.is_some())
            .field("store", &self.store.is_some())
            .finish()
    }
}
