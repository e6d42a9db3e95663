//! The chassis: an operator-defined grouping of nodes.

use serde::{Deserialize, Serialize};

use crate::{ChassisId, JsonObject, Timestamp};

/// A chassis as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chassis {
    pub uuid: ChassisId,
    pub description: Option<String>,
    #[serde(default)]
    pub extra: JsonObject,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
