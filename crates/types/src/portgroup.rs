//! The port group: a bond of a node's ports.

use serde::{Deserialize, Serialize};

use crate::{JsonObject, MacAddress, NodeId, PortGroupId, Timestamp};

/// The bond mode a port group gets when none is given.
pub const DEFAULT_PORTGROUP_MODE: &str = "active-backup";

/// A port group as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortGroup {
    pub uuid: PortGroupId,
    pub name: Option<String>,
    pub address: Option<MacAddress>,
    pub node_uuid: NodeId,
    #[serde(default)]
    pub extra: JsonObject,
    #[serde(default)]
    pub internal_info: JsonObject,
    pub standalone_ports_supported: bool,
    pub mode: Option<String>,
    #[serde(default)]
    pub properties: JsonObject,
    /// The physical network its ports are on (API 1.102).
    #[serde(default)]
    pub physical_network: Option<String>,
    /// The operator's class of the group (API 1.103).
    #[serde(default)]
    pub category: Option<String>,
    /// Whether trait-based networking made it (API 1.111); read-only.
    #[serde(default)]
    pub dynamic_portgroup: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
