//! Neutron's ownership rules on the network API: networks, subnets and ports belong
//! to projects. "Admin" is the `admin` role in any scope (Neutron has no system
//! scope); the `service` role is what Ironic's own account holds. Objects a caller
//! may not read are left out of lists and answer 404 like missing ones; 403 is kept
//! for visible objects and for creations. Callers policy does not restrict
//! (`noauth`, plain htpasswd users) are administrators with the service role.
//!
//! | action | who |
//! |---|---|
//! | read a network | admin, service, a reader of its project, anyone if shared |
//! | create, change, delete a network | admin, a member of its project |
//! | set `shared`, `role` or `provider:*`; read `provider:*` | admin |
//! | read a subnet | admin, service, a reader of its project, anyone if its network is shared |
//! | create, change, delete a subnet | admin, a member of its network's project |
//! | read a port | admin, service, a reader of its project or of its network's |
//! | create a port | admin, service, a member of the network's project, a member on a shared network |
//! | change a port | admin, service, a member of its project |
//! | delete a port | admin, service, a member of its project or of its network's |
//! | set `mac_address`, `fixed_ips`, a `network:` device owner | admin, service, a member of the network's project |
//! | set or read `binding:host_id`, read the binding's details | admin, service |
//! | set `binding:profile` | service |

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use ferric_authz::Caller;
use ferric_types::net::{Network, Subnet, VifPort};
use serde_json::{Map, Value};

use super::error::NetError;

/// The caller of a network API request.
#[derive(Clone)]
pub struct NetCaller(Caller);

impl<S: Send + Sync> FromRequestParts<S> for NetCaller {
    type Rejection = NetError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, NetError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(NetCaller)
            .ok_or_else(|| {
                tracing::error!("a network API request reached a handler without authentication");
                NetError::internal()
            })
    }
}

/// The 403 of a denied rule, in Neutron's words.
pub fn disallowed(rule: &str) -> NetError {
    NetError::new(
        StatusCode::FORBIDDEN,
        "PolicyNotAuthorized",
        format!("({rule}) is disallowed by policy"),
    )
}

/// Attributes only an admin reads on a network.
const ADMIN_NETWORK_ATTRIBUTES: &[&str] = &[
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
];
/// Attributes only an admin or the service reads on a port.
const PRIVILEGED_PORT_ATTRIBUTES: &[&str] = &[
    "binding:host_id",
    "binding:profile",
    "binding:vif_type",
    "binding:vif_details",
];

impl NetCaller {
    fn has_role(&self, role: &str) -> bool {
        match &self.0 {
            Caller::Unrestricted { .. } => true,
            Caller::Principal(p) => p.has_role(role),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    fn is_service(&self) -> bool {
        self.has_role("service")
    }

    fn privileged(&self) -> bool {
        self.is_admin() || self.is_service()
    }

    /// Whether the caller holds `role` in `project`.
    fn in_project(&self, project: &str, role: &str) -> bool {
        match &self.0 {
            Caller::Unrestricted { .. } => true,
            Caller::Principal(p) => {
                !project.is_empty() && p.project_id() == Some(project) && p.has_role(role)
            }
        }
    }

    pub fn sees_network(&self, n: &Network) -> bool {
        self.privileged() || n.shared || self.in_project(&n.project_id, "reader")
    }

    pub fn changes_network(&self, n: &Network) -> bool {
        self.is_admin() || self.in_project(&n.project_id, "member")
    }

    pub fn sees_subnet(&self, s: &Subnet, network: Option<&Network>) -> bool {
        self.privileged()
            || self.in_project(&s.project_id, "reader")
            || network.is_some_and(|n| n.shared)
    }

    pub fn changes_subnet(&self, network: &Network) -> bool {
        self.is_admin() || self.in_project(&network.project_id, "member")
    }

    pub fn sees_port(&self, p: &VifPort, network: Option<&Network>) -> bool {
        self.privileged()
            || self.in_project(&p.project_id, "reader")
            || network.is_some_and(|n| self.in_project(&n.project_id, "reader"))
    }

    pub fn creates_port(&self, network: &Network) -> bool {
        self.privileged()
            || self.in_project(&network.project_id, "member")
            || (network.shared && self.has_role("member"))
    }

    pub fn changes_port(&self, p: &VifPort) -> bool {
        self.privileged() || self.in_project(&p.project_id, "member")
    }

    pub fn deletes_port(&self, p: &VifPort, network: &Network) -> bool {
        self.changes_port(p) || self.in_project(&network.project_id, "member")
    }

    /// The project a new object belongs to: the one asked for (`project_id` or
    /// `tenant_id` in `m`), which only an admin may set to another project than its
    /// own; by default the caller's (`default` for unrestricted callers).
    pub fn owner(&self, m: &Map<String, Value>, default: &str) -> Result<String, NetError> {
        let asked = ["project_id", "tenant_id"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str))
            .unwrap_or_default();
        let Caller::Principal(p) = &self.0 else {
            return Ok(if asked.is_empty() { default } else { asked }.to_string());
        };
        let own = p.project_id().unwrap_or_default();
        if asked.is_empty() {
            return Ok(own.to_string());
        }
        if asked != own && !p.has_role("admin") {
            return Err(NetError::new(
                StatusCode::FORBIDDEN,
                "PolicyNotAuthorized",
                "Specifying 'project_id' or 'tenant_id' other than the authenticated project \
                 in request requires admin privileges",
            ));
        }
        Ok(asked.to_string())
    }

    /// 403 unless the caller may set each admin-only attribute `m` sets on a network.
    pub fn check_network_attributes(
        &self,
        m: &Map<String, Value>,
        action: &str,
    ) -> Result<(), NetError> {
        if self.is_admin() {
            return Ok(());
        }
        for key in ["shared", "role", "router:external"]
            .iter()
            .chain(ADMIN_NETWORK_ATTRIBUTES)
        {
            if m.contains_key(*key) {
                return Err(disallowed(&format!("{action}_network:{key}")));
            }
        }
        Ok(())
    }

    /// 403 unless the caller may set each guarded attribute `m` sets on a port of
    /// `network`.
    pub fn check_port_attributes(
        &self,
        m: &Map<String, Value>,
        network: &Network,
        action: &str,
    ) -> Result<(), NetError> {
        if m.contains_key("binding:profile") && !self.is_service() {
            return Err(disallowed(&format!("{action}_port:binding:profile")));
        }
        if self.privileged() {
            return Ok(());
        }
        if m.contains_key("binding:host_id") {
            return Err(disallowed(&format!("{action}_port:binding:host_id")));
        }
        let network_member = self.in_project(&network.project_id, "member");
        let owner_named = m
            .get("device_owner")
            .and_then(Value::as_str)
            .is_some_and(|o| o.starts_with("network:"));
        for (set, key) in [
            (m.contains_key("mac_address"), "mac_address"),
            (m.contains_key("fixed_ips"), "fixed_ips"),
            (owner_named, "device_owner"),
        ] {
            if set && !network_member {
                return Err(disallowed(&format!("{action}_port:{key}")));
            }
        }
        Ok(())
    }

    /// A rendered network without what the caller may not read.
    pub fn network_view(&self, mut v: Value) -> Value {
        if !self.is_admin() {
            strip(&mut v, ADMIN_NETWORK_ATTRIBUTES);
        }
        v
    }

    /// A rendered port without what the caller may not read.
    pub fn port_view(&self, mut v: Value) -> Value {
        if !self.privileged() {
            strip(&mut v, PRIVILEGED_PORT_ATTRIBUTES);
        }
        v
    }
}

fn strip(v: &mut Value, keys: &[&str]) {
    if let Some(map) = v.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
}
