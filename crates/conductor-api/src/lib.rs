//! The conductor API: what the API (and anything else) asks of a conductor, as one
//! trait whose requests and answers are serialisable, so the same calls run in
//! process when the API and the conductor share one `ferricd` and over JSON-RPC 2.0
//! on HTTP when they do not ([`client::RemoteConductor`], [`server::router`]).
//! [`router::ConductorRouter`] is what the API holds: it sends each node's calls to
//! the conductor owning the node on the hash ring of its conductor group
//! ([`ring`], [`membership`]), in process when that is this process's conductor,
//! and on to the next owner when the owner cannot be reached.
//!
//! The trait, the client, the server's dispatch and the router's forwarding are
//! all generated from the one method list below, so they cannot drift apart.

pub mod client;
mod error;
pub mod membership;
pub mod request_context;
mod requests;
pub mod ring;
pub mod router;
pub mod server;

pub use error::{CallError, ErrorKind};
pub use membership::{Heartbeats, RingCache};
pub use requests::{AgentHeartbeat, BootSetting, ProvisionRequest, VifTarget};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use ferric_types::history::Requester;
use ferric_types::management::{
    BootDevice, Indicator, PowerTarget, Validation, VendorMethod, VirtualMedia,
};
use ferric_types::{AllocationId, JsonObject, NodeId};
use serde_json::Value;

/// A boxed future, so the API can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Generates, from one list of methods: the [`ConductorApi`] trait; its client
/// over JSON-RPC; the server's dispatch of a JSON-RPC call to an implementation;
/// and the router's forwarding of each call to the conductor it belongs to. Node
/// methods take the node first and go to its owner; the others go to any
/// conductor.
macro_rules! conductor_api {
    (
        node methods { $( $(#[$nd:meta])* fn $nm:ident(node $(, $na:ident : $nt:ty)*) -> $nr:ty; )* }
        other methods { $( $(#[$od:meta])* fn $om:ident($($oa:ident : $ot:ty),*) -> $or:ty; )* }
    ) => {
        /// What the API asks of a conductor.
        pub trait ConductorApi: Send + Sync {
            $( $(#[$nd])* fn $nm(&self, node: NodeId $(, $na: $nt)*) -> BoxFuture<'_, Result<$nr, CallError>>; )*
            $( $(#[$od])* fn $om(&self $(, $oa: $ot)*) -> BoxFuture<'_, Result<$or, CallError>>; )*
        }

        impl ConductorApi for client::RemoteConductor {
            $(
                fn $nm(&self, node: NodeId $(, $na: $nt)*) -> BoxFuture<'_, Result<$nr, CallError>> {
                    Box::pin(async move {
                        let mut params = serde_json::Map::new();
                        params.insert("node".into(), client::param(&node)?);
                        $( params.insert(stringify!($na).into(), client::param(&$na)?); )*
                        self.call(stringify!($nm), params).await
                    })
                }
            )*
            $(
                fn $om(&self $(, $oa: $ot)*) -> BoxFuture<'_, Result<$or, CallError>> {
                    Box::pin(async move {
                        #[allow(unused_mut)]
                        let mut params = serde_json::Map::new();
                        $( params.insert(stringify!($oa).into(), client::param(&$oa)?); )*
                        self.call(stringify!($om), params).await
                    })
                }
            )*
        }

        impl ConductorApi for router::ConductorRouter {
            $(
                fn $nm(&self, node: NodeId $(, $na: $nt)*) -> BoxFuture<'_, Result<$nr, CallError>> {
                    Box::pin(async move {
                        self.for_node(node, move |c: std::sync::Arc<dyn ConductorApi>| {
                            $( let $na = $na.clone(); )*
                            Box::pin(async move { c.$nm(node $(, $na)*).await })
                        })
                        .await
                    })
                }
            )*
            $(
                fn $om(&self $(, $oa: $ot)*) -> BoxFuture<'_, Result<$or, CallError>> {
                    Box::pin(async move {
                        self.for_any(move |c: std::sync::Arc<dyn ConductorApi>| {
                            $( let $oa = $oa.clone(); )*
                            Box::pin(async move { c.$om($($oa),*).await })
                        })
                        .await
                    })
                }
            )*
        }

        /// Runs the JSON-RPC call `method` with `params` on `target`.
        pub(crate) async fn dispatch(
            target: &dyn ConductorApi,
            method: &str,
            params: serde_json::Map<String, Value>,
        ) -> Result<Value, server::Failure> {
            match method {
                $(
                    stringify!($nm) => {
                        #[derive(serde::Deserialize)]
                        #[serde(deny_unknown_fields)]
                        struct Params { node: NodeId, $( $na: $nt, )* }
                        let p: Params = server::params(params)?;
                        server::answer(target.$nm(p.node $(, p.$na)*).await)
                    }
                )*
                $(
                    stringify!($om) => {
                        #[derive(serde::Deserialize)]
                        #[serde(deny_unknown_fields)]
                        struct Params { $( $oa: $ot, )* }
                        let p: Params = server::params(params)?;
                        server::answer(target.$om($(p.$oa),*).await)
                    }
                )*
                other => Err(server::Failure::method_not_found(other)),
            }
        }
    };
}

conductor_api! {
    node methods {
        /// Starts a provision verb; returns once the node is in the new state, before
        /// the work is done.
        fn provision(node, request: ProvisionRequest) -> ();
        /// Starts a power change; returns before it is done.
        fn change_power(node, target: PowerTarget, timeout: Option<Duration>, requester: Requester) -> ();
        fn get_boot_device(node) -> Option<BootDevice>;
        fn set_boot_device(node, device: BootDevice) -> ();
        fn supported_boot_devices(node) -> Vec<String>;
        fn inject_nmi(node) -> ();
        /// Validates every interface of the node.
        fn validate(node) -> Vec<Validation>;
        /// Whether the console is on, and how to reach it.
        fn console(node) -> (bool, Option<Value>);
        /// Turns the console on or off.
        fn set_console(node, enabled: bool) -> ();
        /// The node's BIOS settings.
        fn bios(node) -> Vec<(String, Value)>;
        /// Records the node's target RAID configuration.
        fn set_target_raid(node, target: JsonObject) -> ();
        /// The node's vendor passthru methods.
        fn vendor_methods(node) -> Vec<VendorMethod>;
        /// Calls a vendor method; `(true, None)` when it runs asynchronously.
        fn vendor_passthru(node, method: String, http_method: String, body: Value) -> (bool, Option<Value>);
        /// The node's indicators (LEDs).
        fn indicators(node) -> Vec<Indicator>;
        /// The node's virtual media devices and what they hold.
        fn virtual_media(node) -> Vec<VirtualMedia>;
        /// Sets one indicator.
        fn set_indicator(node, name: String, state: String) -> ();
        /// The agent token for a lookup: `Some` when issued now, `None` when the node
        /// already has one.
        fn agent_lookup(node) -> Option<String>;
        /// Hands over an agent heartbeat; returns before it is processed.
        fn agent_heartbeat(node, heartbeat: AgentHeartbeat) -> ();
        /// Takes the ramdisk agent's inspection data for a node waiting for it;
        /// returns before the inspection finishes.
        fn continue_inspection(node, data: Value) -> ();
        /// Changes the boot mode or secure boot, or virtual media.
        fn set_boot_setting(node, setting: BootSetting) -> ();
        /// The VIFs attached to a node.
        fn vifs(node) -> Vec<String>;
        /// Attaches a VIF (a port of the network service) to one of the node's NICs.
        fn vif_attach(node, vif: String, target: VifTarget) -> ();
        fn vif_detach(node, vif: String) -> ();
    }
    other methods {
        /// Starts working on a new allocation; returns before a node is picked.
        fn allocate(allocation: AllocationId) -> ();
    }
}
