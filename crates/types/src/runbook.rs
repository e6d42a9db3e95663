//! Runbooks (API 1.92): a named, ordered list of steps that an operator — or a
//! project allowed by the runbook's traits — runs as a manual clean or a service
//! on a node, instead of writing the steps out each time.

use serde::{Deserialize, Serialize};

use crate::ids::RunbookId;
use crate::{JsonObject, Timestamp};

/// Interfaces whose steps a runbook may name.
pub const RUNBOOK_STEP_INTERFACES: &[&str] = &[
    "bios",
    "deploy",
    "firmware",
    "management",
    "power",
    "raid",
    "vendor",
];

/// One step of a runbook; steps run by ascending `order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookStep {
    pub interface: String,
    pub step: String,
    #[serde(default)]
    pub args: JsonObject,
    pub order: u32,
}

/// A runbook as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runbook {
    pub uuid: RunbookId,
    pub name: String,
    pub steps: Vec<RunbookStep>,
    /// Run the steps without booting the ramdisk.
    #[serde(default)]
    pub disable_ramdisk: bool,
    #[serde(default)]
    pub extra: JsonObject,
    /// Usable by every project; a public runbook has no owner.
    #[serde(default)]
    pub public: bool,
    /// The project that owns it; `None` for the system's runbooks.
    #[serde(default)]
    pub owner: Option<String>,
    /// Free text (API 1.112).
    #[serde(default)]
    pub description: Option<String>,
    /// The node traits that approve its use on a node (API 1.112).
    #[serde(default)]
    pub traits: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl Runbook {
    /// The steps as a clean or service request names them, in their order.
    pub fn ordered_steps(&self) -> Vec<serde_json::Value> {
        let mut steps = self.steps.clone();
        steps.sort_by_key(|s| s.order);
        steps
            .into_iter()
            .map(|s| {
                serde_json::json!({
                    "interface": s.interface,
                    "step": s.step,
                    "args": s.args,
                })
            })
            .collect()
    }

    /// Whether a node with `node_traits` may run it. From API 1.112 the
    /// runbook's traits must meet the node's; before, its name must be one of them.
    pub fn approved_for(&self, node_traits: &[String], by_traits: bool) -> bool {
        if by_traits {
            self.traits.iter().any(|t| node_traits.contains(t))
        } else {
            node_traits.contains(&self.name)
        }
    }
}
