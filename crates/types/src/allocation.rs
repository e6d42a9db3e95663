//! The allocation: a request for a node with a resource class and traits, answered by
//! the conductor reserving a matching available node for it (standalone scheduling).

use serde::{Deserialize, Serialize};

use crate::ids::AllocationId;
use crate::{JsonObject, NodeId, Timestamp};

/// The `state` of an allocation being worked on.
pub const ALLOCATING: &str = "allocating";
/// The `state` of an allocation that holds a node.
pub const ACTIVE: &str = "active";
/// The `state` of an allocation that found no node.
pub const ERROR: &str = "error";

/// An allocation as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    pub uuid: AllocationId,
    pub name: Option<String>,
    pub node_uuid: Option<NodeId>,
    /// UUIDs of the nodes it may pick from; empty means any.
    #[serde(default)]
    pub candidate_nodes: Vec<String>,
    pub resource_class: Option<String>,
    #[serde(default)]
    pub traits: Vec<String>,
    #[serde(default)]
    pub extra: JsonObject,
    pub owner: Option<String>,
    pub state: String,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
