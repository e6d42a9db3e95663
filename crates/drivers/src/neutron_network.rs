//! The `neutron` network interface (the name Ironic gives it): the flips done by
//! Ferric's own network service — VIF ports on the provisioning, cleaning or rescue
//! network with the switch ports on its segment while Ferric works on the node, the
//! tenant VIFs' networks after — never both at once.

use std::sync::Arc;

use ferric_net::service::NetworkService;
use ferric_types::Node;

use crate::interfaces::{BoxFuture, DriverError};
use crate::network::NetworkInterface;

/// `neutron`, backed by the process's network service.
pub struct NeutronNetwork {
    pub service: Arc<NetworkService>,
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
        Box::pin(async move { self.service.add_network(node, role).await.map_err(failed) })
    }
    fn remove_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            self.service
                .remove_network(node, role)
                .await
                .map_err(failed)
        })
    }
    fn configure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move { self.service.configure_tenant(node).await.map_err(failed) })
    }
    fn unconfigure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move { self.service.unconfigure_tenant(node).await.map_err(failed) })
    }
}
