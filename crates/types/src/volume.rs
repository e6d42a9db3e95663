//! Volume connectors and targets (API 1.32): how a node reaches remote storage (its
//! iSCSI initiator name, its WWPNs…) and the volumes it boots from or attaches,
//! which the node's `storage_interface` (`noop`, `external`) works with.

use serde::{Deserialize, Serialize};

use crate::ids::{VolumeConnectorId, VolumeTargetId};
use crate::{JsonObject, NodeId, Timestamp};

/// The kinds of connector ids Ironic knows.
pub const CONNECTOR_TYPES: &[&str] = &["iqn", "ip", "mac", "wwnn", "wwpn", "port", "portgroup"];

/// One way a node connects to storage, e.g. `{type: iqn, connector_id: iqn.2004-…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeConnector {
    pub uuid: VolumeConnectorId,
    pub node_uuid: NodeId,
    #[serde(rename = "type")]
    pub kind: String,
    pub connector_id: String,
    #[serde(default)]
    pub extra: JsonObject,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// A volume a node uses; `boot_index` 0 is the one it boots from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeTarget {
    pub uuid: VolumeTargetId,
    pub node_uuid: NodeId,
    /// `iscsi`, `fibre_channel`, …
    pub volume_type: String,
    /// How to reach it (target IQN, portal, LUN, credentials…).
    #[serde(default)]
    pub properties: JsonObject,
    pub boot_index: i64,
    /// The block storage service's id of the volume.
    pub volume_id: String,
    #[serde(default)]
    pub extra: JsonObject,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
