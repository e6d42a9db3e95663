//! Inspection rules (API 1.96), as a pure library: the rule as stored and served,
//! validation of what the API receives (and of the operator's built-in rules), and
//! the engine that runs rules over a node's inspection data. No I/O: the API stores
//! rules, the conductor loads them and applies them with [`apply_rules`].
//!
//! Semantics follow Ironic's `ironic/common/inspection_rules/`; where Ferric differs
//! (typed whole-field interpolation, MAC addresses as port ids, no `api-call`, fields
//! the conductor owns), the module that does it says so.

mod actions;
mod args;
mod conditions;
mod context;
mod engine;
mod id;
mod interpolate;
mod net;
mod ops;
mod paths;
mod pyfmt;
mod pyvalue;
mod rule;
mod run;
mod validate;

#[cfg(test)]
mod tests;

pub use actions::{NODE_FIELDS_RULES_CANNOT_CHANGE, PORT_FIELDS_RULES_CANNOT_CHANGE};
pub use context::{InvalidMaskSecrets, LogLevel, LogLine, MaskSecrets, RuleContext};
pub use engine::{apply_rules, rules_in_run_order, RuleFailure, RulesApplied};
pub use id::InspectionRuleId;
pub use ops::{ActionOp, ConditionOp, Operator, Signature, UnknownOp};
pub use rule::{Action, Condition, InspectionRule, Multiple, RuleArgs, PHASE_MAIN};
pub use validate::{
    built_in_rules_from_json, validate_create, validate_patched, BuiltInRulesError, ProblemAt,
    RuleDraft, RuleProblem, RuleValidationError, DESCRIPTION_MAX_CHARS, PHASES, PHASE_MAX_CHARS,
    USER_PRIORITY_MAX,
};
