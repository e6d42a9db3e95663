//! The network model of Ferric's own network service (shaped like Neutron's v2.0
//! networks, subnets and ports): networks with a role and a flat or VLAN segment,
//! subnets with allocation pools, and VIF ports — the tenant's view of a NIC, with
//! fixed IPs, per-port DHCP options and the binding that ties it to a node.

use serde::{Deserialize, Serialize};

use crate::ids::{NetworkId, SubnetId, VifPortId};
use crate::{JsonObject, MacAddress, Timestamp};

/// What a network is for. Ferric works on a node on the provisioning, cleaning,
/// rescue, inspection or servicing network, and leaves it on tenant networks only.
pub const ROLES: &[&str] = &[
    "provisioning",
    "cleaning",
    "rescue",
    "inspection",
    "servicing",
    "tenant",
];

/// Segment types.
pub const NETWORK_TYPES: &[&str] = &["flat", "vlan"];

/// The key of a port's or port group's attached tenant VIF (in `internal_info`).
pub const TENANT_VIF_KEY: &str = "tenant_vif_port_id";

/// The tenant VIF a port's or port group's `internal_info` records.
pub fn tenant_vif(info: &crate::JsonObject) -> Option<&str> {
    info.get(TENANT_VIF_KEY).and_then(serde_json::Value::as_str)
}

/// A network (one L2 segment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub uuid: NetworkId,
    pub name: String,
    pub description: String,
    pub project_id: String,
    pub shared: bool,
    pub admin_state_up: bool,
    /// One of [`ROLES`].
    pub role: String,
    /// One of [`NETWORK_TYPES`].
    pub network_type: String,
    /// The physical network the segment lives on (a switch fabric, a bridge).
    pub physical_network: Option<String>,
    /// The VLAN id of a `vlan` network.
    pub segmentation_id: Option<u16>,
    pub mtu: u32,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// A range of addresses a subnet hands out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPool {
    pub start: String,
    pub end: String,
}

/// An IPv4 subnet of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub uuid: SubnetId,
    pub network_uuid: NetworkId,
    pub name: String,
    pub description: String,
    pub project_id: String,
    /// `a.b.c.d/len`, the network address.
    pub cidr: String,
    pub gateway_ip: Option<String>,
    pub dns_nameservers: Vec<String>,
    pub allocation_pools: Vec<AllocationPool>,
    pub enable_dhcp: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// An address of a port on one subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedIp {
    pub subnet_id: SubnetId,
    pub ip_address: String,
}

/// A DHCP option the port's DHCP answers carry (Neutron's `extra_dhcp_opts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOption {
    pub opt_name: String,
    pub opt_value: String,
    pub ip_version: u8,
}

/// A VIF port: a tenant's port on a network, bound to a node's NIC or bond.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VifPort {
    pub uuid: VifPortId,
    pub network_uuid: NetworkId,
    pub name: String,
    pub description: String,
    pub project_id: String,
    pub mac_address: MacAddress,
    pub fixed_ips: Vec<FixedIp>,
    pub extra_dhcp_opts: Vec<DhcpOption>,
    /// `binding:profile`: `local_link_information`, `local_group_information`…
    pub binding_profile: JsonObject,
    /// `binding:vnic_type` (`baremetal` for nodes).
    pub vnic_type: String,
    /// `binding:host_id`: the node it is bound to, empty when unbound.
    pub host_id: String,
    pub device_id: String,
    pub device_owner: String,
    pub admin_state_up: bool,
    /// `ACTIVE` when bound, `DOWN` otherwise.
    pub status: String,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
