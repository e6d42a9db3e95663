//! What the engine reads and changes: a node (as its JSON form), the inspection
//! inventory and plugin data, and the node's ports; and what it reports back: log
//! lines, and the secret-masking setting (Ironic's `[inspection_rules]mask_secrets`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::id::InspectionRuleId;
use crate::JsonObject;

/// The data rules run against. The engine changes it in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleContext {
    /// The node's JSON form (`serde_json::to_value(&node)`), converted back by the
    /// caller. Only fields present here can be set by rules.
    pub node: JsonObject,
    /// The inspection inventory (`cpu`, `memory`, `interfaces`, `disks`…).
    pub inventory: JsonObject,
    /// Data from inspection hooks; rules may change it.
    pub plugin_data: JsonObject,
    /// The node's ports, each as its JSON form (with `uuid` and `address`). Port
    /// actions find a port by UUID or by MAC address.
    pub ports: Vec<JsonObject>,
}

/// Which rules see credentials in the inventory and plugin data (keys `password`,
/// `auth_token` and `bmc_password` read as `***` when masked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskSecrets {
    /// No rule sees them (Ironic's default).
    #[default]
    Always,
    /// Every rule sees them.
    Never,
    /// Only sensitive rules see them.
    Sensitive,
}

impl MaskSecrets {
    /// Whether `rule_is_sensitive` rules read masked data.
    pub fn masks(self, rule_is_sensitive: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Sensitive => !rule_is_sensitive,
        }
    }
}

/// Why a string is not a `mask_secrets` setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mask_secrets value {0:?}: expected always, never or sensitive")]
pub struct InvalidMaskSecrets(pub String);

impl FromStr for MaskSecrets {
    type Err = InvalidMaskSecrets;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            "sensitive" => Ok(Self::Sensitive),
            other => Err(InvalidMaskSecrets(other.to_string())),
        }
    }
}

/// A log line's level: the `log` action's levels, which the engine also uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl LogLevel {
    pub const ALL: [LogLevel; 5] = [
        Self::Debug,
        Self::Info,
        Self::Warning,
        Self::Error,
        Self::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }

    /// A `log` action's level, any case.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
    }
}

/// Something the engine wants logged. Lines from sensitive rules carry no values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub rule: InspectionRuleId,
    pub message: String,
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inspection rule {}: {}", self.rule, self.message)
    }
}
