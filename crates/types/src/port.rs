//! The port: one NIC of a node, known by its MAC address.

use serde::{Deserialize, Serialize};

use crate::{JsonObject, MacAddress, NodeId, PortGroupId, PortId, Timestamp};

/// A port as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Port {
    pub uuid: PortId,
    pub address: MacAddress,
    pub node_uuid: NodeId,
    pub portgroup_uuid: Option<PortGroupId>,
    #[serde(default)]
    pub extra: JsonObject,
    #[serde(default)]
    pub internal_info: JsonObject,
    #[serde(default)]
    pub local_link_connection: JsonObject,
    pub pxe_enabled: bool,
    pub physical_network: Option<String>,
    pub is_smartnic: bool,
    /// A unique name (API 1.88).
    #[serde(default)]
    pub name: Option<String>,
    /// Free text about the port (API 1.97).
    #[serde(default)]
    pub description: Option<String>,
    /// Who made the NIC (API 1.100).
    #[serde(default)]
    pub vendor: Option<String>,
    /// The operator's class of the port (API 1.101).
    #[serde(default)]
    pub category: Option<String>,
    /// Whether the port may join a dynamic port group (API 1.111).
    #[serde(default = "yes")]
    pub available_for_dynamic_portgroup: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

fn yes() -> bool {
    true
}

impl Port {
    /// A PXE-enabled port of `node_uuid` with address `address`, every other field
    /// empty.
    pub fn new(uuid: PortId, address: MacAddress, node_uuid: NodeId, now: Timestamp) -> Self {
        Port {
            uuid,
            address,
            node_uuid,
            portgroup_uuid: None,
            extra: JsonObject::new(),
            internal_info: JsonObject::new(),
            local_link_connection: JsonObject::new(),
            pxe_enabled: true,
            physical_network: None,
            is_smartnic: false,
            name: None,
            description: None,
            vendor: None,
            category: None,
            available_for_dynamic_portgroup: true,
            created_at: now,
            updated_at: None,
        }
    }
}
