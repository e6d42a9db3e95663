//! The operators a condition may use and the actions a rule may take, each with the
//! argument names it accepts (Ironic's signatures, in positional order) and the
//! arguments that are interpolated outside loops (Ironic's `FORMATTED_ARGS`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The arguments an operator or action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Required, in the order the deprecated list form gives them.
    pub required: &'static [&'static str],
    /// Optional, following the required ones in the list form.
    pub optional: &'static [&'static str],
    /// Interpolated even outside a loop (inside a loop every argument is).
    pub formatted: &'static [&'static str],
}

impl Signature {
    const fn new(
        required: &'static [&'static str],
        optional: &'static [&'static str],
        formatted: &'static [&'static str],
    ) -> Self {
        Self {
            required,
            optional,
            formatted,
        }
    }

    /// All names, required first: the positions of the list form.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional).copied()
    }

    /// True when `name` is one of the arguments.
    pub fn accepts(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// True when `name` is interpolated outside loops.
    pub fn is_formatted(&self, name: &str) -> bool {
        self.formatted.contains(&name)
    }
}

/// A condition's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Lt,
    Gt,
    IsEmpty,
    InNet,
    Matches,
    Contains,
    OneOf,
    IsNone,
    IsTrue,
    IsFalse,
}

impl Operator {
    pub const ALL: [Operator; 11] = [
        Self::Eq,
        Self::Lt,
        Self::Gt,
        Self::IsEmpty,
        Self::InNet,
        Self::Matches,
        Self::Contains,
        Self::OneOf,
        Self::IsNone,
        Self::IsTrue,
        Self::IsFalse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Lt => "lt",
            Self::Gt => "gt",
            Self::IsEmpty => "is-empty",
            Self::InNet => "in-net",
            Self::Matches => "matches",
            Self::Contains => "contains",
            Self::OneOf => "one-of",
            Self::IsNone => "is-none",
            Self::IsTrue => "is-true",
            Self::IsFalse => "is-false",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    pub fn signature(self) -> Signature {
        const VALUES: Signature = Signature::new(&["values"], &["force_strings"], &["values"]);
        const VALUE: Signature = Signature::new(&["value"], &[], &["value"]);
        const REGEX: Signature = Signature::new(&["value", "regex"], &[], &["value"]);
        match self {
            Self::Eq | Self::Lt | Self::Gt => VALUES,
            Self::IsEmpty | Self::IsNone | Self::IsTrue | Self::IsFalse => VALUE,
            Self::InNet => Signature::new(&["address", "subnet"], &[], &["address", "subnet"]),
            Self::Matches | Self::Contains => REGEX,
            Self::OneOf => Signature::new(&["value"], &["values"], &["value"]),
        }
    }
}

/// An operator as a condition names it: `eq`, or `!eq` for its negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConditionOp {
    pub operator: Operator,
    pub negated: bool,
}

/// Why a string names no operator or action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation '{0}'")]
pub struct UnknownOp(pub String);

impl FromStr for ConditionOp {
    type Err = UnknownOp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (negated, name) = match s.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        Operator::from_name(name)
            .map(|operator| Self { operator, negated })
            .ok_or_else(|| UnknownOp(s.to_string()))
    }
}

impl fmt::Display for ConditionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        f.write_str(self.operator.name())
    }
}

impl TryFrom<String> for ConditionOp {
    type Error = UnknownOp;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ConditionOp> for String {
    fn from(op: ConditionOp) -> String {
        op.to_string()
    }
}

/// An action's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ActionOp {
    Fail,
    Log,
    SetAttribute,
    ExtendAttribute,
    DelAttribute,
    SetCapability,
    UnsetCapability,
    AddTrait,
    RemoveTrait,
    SetPluginData,
    ExtendPluginData,
    UnsetPluginData,
    SetPortAttribute,
    ExtendPortAttribute,
    DelPortAttribute,
    /// Ironic's HTTP GET hook. Known so stored rules load, but refused by validation
    /// and by the engine: this library does no I/O.
    ApiCall,
}

impl ActionOp {
    pub const ALL: [ActionOp; 16] = [
        Self::Fail,
        Self::Log,
        Self::SetAttribute,
        Self::ExtendAttribute,
        Self::DelAttribute,
        Self::SetCapability,
        Self::UnsetCapability,
        Self::AddTrait,
        Self::RemoveTrait,
        Self::SetPluginData,
        Self::ExtendPluginData,
        Self::UnsetPluginData,
        Self::SetPortAttribute,
        Self::ExtendPortAttribute,
        Self::DelPortAttribute,
        Self::ApiCall,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Log => "log",
            Self::SetAttribute => "set-attribute",
            Self::ExtendAttribute => "extend-attribute",
            Self::DelAttribute => "del-attribute",
            Self::SetCapability => "set-capability",
            Self::UnsetCapability => "unset-capability",
            Self::AddTrait => "add-trait",
            Self::RemoveTrait => "remove-trait",
            Self::SetPluginData => "set-plugin-data",
            Self::ExtendPluginData => "extend-plugin-data",
            Self::UnsetPluginData => "unset-plugin-data",
            Self::SetPortAttribute => "set-port-attribute",
            Self::ExtendPortAttribute => "extend-port-attribute",
            Self::DelPortAttribute => "del-port-attribute",
            Self::ApiCall => "api-call",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// False only for `api-call`.
    pub fn is_supported(self) -> bool {
        self != Self::ApiCall
    }

    /// The plugin-data actions, whose Ironic signature also names `plugin_data` (filled
    /// in by the engine; a body may carry the key, and it is ignored).
    pub fn takes_plugin_data(self) -> bool {
        matches!(
            self,
            Self::SetPluginData | Self::ExtendPluginData | Self::UnsetPluginData
        )
    }

    pub fn signature(self) -> Signature {
        const VALUE: &[&str] = &["value"];
        match self {
            Self::Fail => Signature::new(&["msg"], &[], &[]),
            Self::Log => Signature::new(&["msg"], &["level"], &["msg"]),
            Self::SetAttribute | Self::SetPluginData => {
                Signature::new(&["path", "value"], &[], VALUE)
            }
            Self::ExtendAttribute | Self::ExtendPluginData => {
                Signature::new(&["path", "value"], &["unique"], VALUE)
            }
            Self::DelAttribute | Self::UnsetPluginData => Signature::new(&["path"], &[], &[]),
            Self::SetCapability => Signature::new(&["name", "value"], &[], VALUE),
            Self::UnsetCapability | Self::AddTrait | Self::RemoveTrait => {
                Signature::new(&["name"], &[], &[])
            }
            Self::SetPortAttribute => Signature::new(&["port_id", "path", "value"], &[], VALUE),
            Self::ExtendPortAttribute => {
                Signature::new(&["port_id", "path", "value"], &["unique"], VALUE)
            }
            Self::DelPortAttribute => Signature::new(&["port_id", "path"], &[], &[]),
            Self::ApiCall => Signature::new(
                &["url"],
                &["headers", "proxies", "timeout", "retries", "backoff_factor"],
                &["url"],
            ),
        }
    }
}

impl fmt::Display for ActionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ActionOp {
    type Err = UnknownOp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownOp(s.to_string()))
    }
}

impl TryFrom<String> for ActionOp {
    type Error = UnknownOp;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ActionOp> for String {
    fn from(op: ActionOp) -> String {
        op.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operator::ALL {
            assert_eq!(Operator::from_name(op.name()), Some(op));
        }
        for op in ActionOp::ALL {
            assert_eq!(op.name().parse::<ActionOp>(), Ok(op));
        }
    }

    #[test]
    fn negation_is_one_leading_bang() {
        let op: ConditionOp = "!eq".parse().unwrap();
        assert!(op.negated);
        assert_eq!(op.to_string(), "!eq");
        assert!("!!eq".parse::<ConditionOp>().is_err());
        assert!("! eq".parse::<ConditionOp>().is_err());
        assert!("eq!".parse::<ConditionOp>().is_err());
        assert!("!log".parse::<ConditionOp>().is_err());
        assert!("!log".parse::<ActionOp>().is_err());
    }
}
