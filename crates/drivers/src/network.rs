//! Network interfaces: where a node's ports are while Ferric works on it. The
//! conductor calls them at each flip — provisioning network for a deploy, cleaning
//! network for cleaning, tenant networks once the instance boots. `noop` leaves the
//! wiring to the operator. `flat` (one shared network, no VLANs) records which
//! network the node is on and refuses a flip that would put it on provisioning or
//! cleaning and a tenant network at once; `neutron` (in `neutron_network`) flips
//! switch ports through the network service.

use ferric_types::Node;
use serde_json::Value;

use crate::interfaces::{BoxFuture, DriverError};

/// The network a node's ports are bound to (`driver_internal_info.network_binding`).
pub const BINDING_KEY: &str = "network_binding";

/// A node's network flips.
pub trait NetworkInterface: Send + Sync {
    /// Binds the node to the network of `role` (`provisioning`, `cleaning`, `rescue`).
    fn add_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Unbinds it from the network of `role`.
    fn remove_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Binds the node's tenant networks (its VIFs).
    fn configure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Unbinds them.
    fn unconfigure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
}

/// `noop`: the network is the operator's business.
pub struct NoopNetwork;

impl NetworkInterface for NoopNetwork {
    fn add_network<'a>(
        &'a self,
        _: &'a mut Node,
        _: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn remove_network<'a>(
        &'a self,
        _: &'a mut Node,
        _: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn configure_tenant_networks<'a>(
        &'a self,
        _: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn unconfigure_tenant_networks<'a>(
        &'a self,
        _: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
}

/// `flat`: one shared network; the binding is recorded and checked.
pub struct FlatNetwork;

fn binding(node: &Node) -> Option<String> {
    node.driver_internal_info
        .get(BINDING_KEY)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn bind(node: &mut Node, to: &str) -> Result<(), DriverError> {
    match binding(node) {
        Some(current) if current == to => Ok(()),
        Some(current) => Err(DriverError::Hardware(format!(
            "node {} is still bound to the {current} network; refusing to bind it to the {to} network as well",
            node.uuid
        ))),
        None => {
            node.driver_internal_info
                .insert(BINDING_KEY.into(), Value::from(to));
            tracing::info!(node = %node.uuid, network = to, "node bound");
            Ok(())
        }
    }
}

fn unbind(node: &mut Node, from: &str) {
    if binding(node).as_deref() == Some(from) {
        node.driver_internal_info.remove(BINDING_KEY);
        tracing::info!(node = %node.uuid, network = from, "node unbound");
    }
}

impl NetworkInterface for FlatNetwork {
    fn add_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move { bind(node, role) })
    }
    fn remove_network<'a>(
        &'a self,
        node: &'a mut Node,
        role: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            unbind(node, role);
            Ok(())
        })
    }
    fn configure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move { bind(node, "tenant") })
    }
    fn unconfigure_tenant_networks<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            unbind(node, "tenant");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::provision::ProvisionState;
    use ferric_types::{NodeId, Timestamp};

    #[tokio::test]
    async fn flat_never_binds_two_networks() {
        let mut n = Node::new(
            NodeId::new_v4(),
            "fake-hardware".into(),
            ProvisionState::Available,
            Timestamp::now(),
        );
        let flat = FlatNetwork;
        flat.add_network(&mut n, "provisioning").await.unwrap();
        assert!(flat.configure_tenant_networks(&mut n).await.is_err());
        flat.remove_network(&mut n, "provisioning").await.unwrap();
        flat.configure_tenant_networks(&mut n).await.unwrap();
        assert!(flat.add_network(&mut n, "cleaning").await.is_err());
        flat.unconfigure_tenant_networks(&mut n).await.unwrap();
        flat.add_network(&mut n, "cleaning").await.unwrap();
        assert_eq!(binding(&n).as_deref(), Some("cleaning"));
    }
}
