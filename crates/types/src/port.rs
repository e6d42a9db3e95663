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
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
