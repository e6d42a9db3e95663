//! The `neutron` network interface (the name Ironic gives it): the flips — VIF
//! ports on the provisioning, cleaning or rescue network while Ferric works on the
//! node, the tenant VIFs' networks after, never both at once — done by Ferric's own
//! network service (which drives the switches), or by an external Neutron when
//! `[network] neutron_url` is set (Neutron's mechanism driver moves the switch ports).

use std::sync::Arc;

use ferric_net::external::ExternalNeutron;
use ferric_net::service::NetworkService;
use ferric_types::Node;

use crate::interfaces::{BoxFuture, DriverError};
use crate::network::NetworkInterface;

/// Who does the flips.
pub enum Backend {
    Own(Arc<NetworkService>),
    External(Arc<ExternalNeutron>),
}

/// `neutron`, backed by the process's network service or external Neutron.
pub struct NeutronNetwork {
    pub backend: Backend,
}

fn failed(e: String) -> DriverError {
    DriverError::Hardware(format!("network flip failed: {e}"))
}

impl NetworkInterface for NeutronNetwork {
    fn add_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            match &self.backend {
                Backend::Own(s) => s.add_network(node, role).await,
                Backend::External(n) => n.add_network(node, role).await,
            }
            .map_err(failed)
        })
    }
    fn remove_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            match &self.backend {
                Backend::Own(s) => s.remove_network(node, role).await,
                Backend::External(n) => n.remove_network(node, role).await,
            }
            .map_err(failed)
        })
    }
    fn configure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            match &self.backend {
                Backend::Own(s) => s.configure_tenant(node).await,
                Backend::External(n) => n.configure_tenant(node).await,
            }
            .map_err(failed)
        })
    }
    fn unconfigure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            match &self.backend {
                Backend::Own(s) => s.unconfigure_tenant(node).await,
                Backend::External(n) => n.unconfigure_tenant(node).await,
            }
            .map_err(failed)
        })
    }
}
