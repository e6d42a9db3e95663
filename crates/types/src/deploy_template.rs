//! Deploy templates: named by a trait, they add or re-prioritise deploy steps of the
//! nodes carrying that trait (RAID layout, BIOS settings for a flavor, say).

use serde::{Deserialize, Serialize};

use crate::ids::DeployTemplateId;
use crate::{JsonObject, Timestamp};

/// One step of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateStep {
    pub interface: String,
    pub step: String,
    #[serde(default)]
    pub args: JsonObject,
    /// 0 disables the step.
    pub priority: u32,
}

/// A deploy template as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployTemplate {
    pub uuid: DeployTemplateId,
    /// A trait name: nodes with this trait get the template's steps.
    pub name: String,
    pub steps: Vec<TemplateStep>,
    #[serde(default)]
    pub extra: JsonObject,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}
