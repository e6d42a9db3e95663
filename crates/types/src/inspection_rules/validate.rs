//! Validation of inspection rules as the API receives them (a POST body, or a rule
//! after a JSON Patch) and as the operator's built-in rules file gives them: Ironic's
//! schema and `validate_rule` checks, with every problem reported at once and each
//! naming the condition or action it is about ("action 1 (set-attribute): missing
//! required argument(s): value"; conditions and actions count from 1).
//!
//! Beyond Ironic, a few arguments that would fail every run are refused up front when
//! they are literal (not interpolated): a regular expression that does not compile,
//! a `values` that is not a list, a bad network, log level or trait name. And the
//! `api-call` action is refused: Ferric's rules do no I/O.

use std::fmt;

use serde_json::Value;

use super::actions::unsupported;
use super::args::bind;
use super::context::LogLevel;
use super::id::InspectionRuleId;
use super::interpolate::has_template;
use super::net::IpNet;
use super::ops::{ActionOp, ConditionOp, Operator, Signature};
use super::pyvalue::type_name;
use super::rule::{Action, Condition, InspectionRule, Multiple, RuleArgs, PHASE_MAIN};
use super::run::{compile, full_match_pattern};
use crate::ids::parse_uuid;
use crate::traits::{invalid_trait_message, is_valid_trait};
use crate::{JsonObject, Timestamp};

/// The phases a rule may run in.
pub const PHASES: [&str; 1] = [PHASE_MAIN];
/// The longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 255;
/// The longest phase, in characters.
pub const PHASE_MAX_CHARS: usize = 16;
/// The highest priority of a rule created through the API.
pub const USER_PRIORITY_MAX: i64 = 9999;

/// The fields of a create body (anything else is refused there).
const BODY_FIELDS: [&str; 7] = [
    "actions",
    "conditions",
    "description",
    "phase",
    "priority",
    "sensitive",
    "uuid",
];

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemAt {
    /// The rule as a whole, or one of its plain fields.
    Rule,
    /// The `index`-th condition (from 1), with its operator when known.
    Condition { index: usize, op: Option<String> },
    /// The `index`-th action (from 1), with its operation when known.
    Action { index: usize, op: Option<String> },
}

/// One thing wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub at: ProblemAt,
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, index, op) = match &self.at {
            ProblemAt::Rule => return f.write_str(&self.message),
            ProblemAt::Condition { index, op } => ("condition", index, op),
            ProblemAt::Action { index, op } => ("action", index, op),
        };
        match op {
            Some(op) => write!(f, "{kind} {index} ({op}): {}", self.message),
            None => write!(f, "{kind} {index}: {}", self.message),
        }
    }
}

/// Why a rule is invalid: every problem found. Maps to 400 Bad Request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleValidationError {
    pub problems: Vec<RuleProblem>,
}

impl fmt::Display for RuleValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [] => f.write_str("Invalid inspection rule"),
            [one] => one.fmt(f),
            many => {
                f.write_str("Multiple validation errors occurred: ")?;
                for (i, p) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    p.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

/// A validated create body.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDraft {
    pub uuid: Option<InspectionRuleId>,
    pub description: Option<String>,
    pub phase: String,
    pub priority: i64,
    pub sensitive: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

impl RuleDraft {
    /// The rule to store, with a fresh UUID unless the body gave one.
    pub fn into_rule(self, now: Timestamp) -> InspectionRule {
        InspectionRule {
            uuid: self.uuid.unwrap_or_else(InspectionRuleId::new_v4),
            description: self.description,
            phase: self.phase,
            priority: self.priority,
            sensitive: self.sensitive,
            conditions: self.conditions,
            actions: self.actions,
            built_in: false,
            created_at: now,
            updated_at: None,
        }
    }
}

/// Validates a `POST /v1/inspection_rules` body.
pub fn validate_create(body: &Value) -> Result<RuleDraft, RuleValidationError> {
    parse_rule(body, Origin::User)
}

/// Validates `patched`, the result of applying a JSON Patch to `current.patch_base()`,
/// and returns the updated rule. As in Ironic, fields outside the create body are
/// ignored and a sensitive rule cannot be made non-sensitive. Unlike Ironic, the
/// uuid cannot be changed.
pub fn validate_patched(
    current: &InspectionRule,
    patched: &Value,
    now: Timestamp,
) -> Result<InspectionRule, RuleValidationError> {
    let mut problems = Vec::new();
    let draft = parse_rule(patched, Origin::Patched);
    if current.built_in {
        problems.push(rule_problem("Built-in inspection rules cannot be changed."));
    }
    if current.sensitive && patched.get("sensitive").and_then(Value::as_bool) != Some(true) {
        problems.push(rule_problem(
            "Inspection rules cannot have the sensitive flag unset.",
        ));
    }
    if let Ok(RuleDraft {
        uuid: Some(uuid), ..
    }) = &draft
    {
        if *uuid != current.uuid {
            problems.push(rule_problem("uuid: cannot be changed"));
        }
    }
    match draft {
        Err(mut e) => {
            e.problems.extend(problems);
            Err(e)
        }
        Ok(_) if !problems.is_empty() => Err(RuleValidationError { problems }),
        Ok(draft) => Ok(InspectionRule {
            uuid: current.uuid,
            created_at: current.created_at,
            updated_at: Some(now),
            ..draft.into_rule(current.created_at)
        }),
    }
}

/// Why the built-in rules could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuiltInRulesError {
    #[error("Built-in rules file should contain a list of rules")]
    NotAList,
    #[error("built-in rule {index}: {error}")]
    Invalid {
        /// Counted from 1.
        index: usize,
        error: RuleValidationError,
    },
}

/// Loads the operator's built-in rules (the YAML file, as JSON). Rules without a
/// uuid get `00000000-0000-0000-0000-<n>`, counting those rules from 0. Priorities
/// above 9999 are allowed; unknown fields are ignored.
pub fn built_in_rules_from_json(
    rules: &Value,
    now: Timestamp,
) -> Result<Vec<InspectionRule>, BuiltInRulesError> {
    let Value::Array(list) = rules else {
        return Err(BuiltInRulesError::NotAList);
    };
    let mut synthetic = 0;
    let mut out = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let draft =
            parse_rule(raw, Origin::BuiltIn).map_err(|error| BuiltInRulesError::Invalid {
                index: i + 1,
                error,
            })?;
        let uuid = draft.uuid.unwrap_or_else(|| {
            synthetic += 1;
            InspectionRuleId::synthetic(synthetic - 1)
        });
        let mut rule = draft.into_rule(now);
        rule.uuid = uuid;
        rule.built_in = true;
        out.push(rule);
    }
    Ok(out)
}

/// Where a rule comes from, which decides the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A create body: unknown fields refused, priority 0–9999.
    User,
    /// A patched rule: unknown fields ignored, priority 0–9999.
    Patched,
    /// The built-in file: unknown fields ignored, any priority ≥ 0.
    BuiltIn,
}

fn rule_problem(message: impl Into<String>) -> RuleProblem {
    RuleProblem {
        at: ProblemAt::Rule,
        message: message.into(),
    }
}

fn parse_rule(body: &Value, origin: Origin) -> Result<RuleDraft, RuleValidationError> {
    let Value::Object(obj) = body else {
        return Err(RuleValidationError {
            problems: vec![rule_problem(format!(
                "an inspection rule must be an object, not {}",
                type_name(body)
            ))],
        });
    };
    let mut problems = Vec::new();
    let mut problem = |m: String| problems.push(rule_problem(m));
    if origin == Origin::User {
        for key in obj.keys().filter(|k| !BODY_FIELDS.contains(&k.as_str())) {
            problem(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            ));
        }
    }
    let uuid = match obj.get("uuid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match parse_uuid(s) {
            Ok(u) => Some(InspectionRuleId(u)),
            Err(e) => {
                problem(format!("uuid: {e}"));
                None
            }
        },
        Some(other) => {
            problem(format!("uuid: must be a string, not {}", type_name(other)));
            None
        }
    };
    let description = match obj.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n > DESCRIPTION_MAX_CHARS {
                problem(format!(
                    "description: must be at most {DESCRIPTION_MAX_CHARS} characters long, not {n}"
                ));
            }
            Some(s.clone())
        }
        Some(other) => {
            problem(format!(
                "description: must be a string, not {}",
                type_name(other)
            ));
            None
        }
    };
    let phase = match obj.get("phase") {
        None => PHASE_MAIN.to_string(),
        Some(Value::String(s)) => {
            if s.chars().count() > PHASE_MAX_CHARS {
                problem(format!(
                    "phase: must be at most {PHASE_MAX_CHARS} characters long"
                ));
            } else if !PHASES.contains(&s.as_str()) {
                problem(format!(
                    "Invalid phase: {s}. Valid phases are: {}",
                    PHASES.join(", ")
                ));
            }
            s.clone()
        }
        Some(Value::Null) => {
            problem(format!(
                "Invalid phase: None. Valid phases are: {}",
                PHASES.join(", ")
            ));
            PHASE_MAIN.to_string()
        }
        Some(other) => {
            problem(format!("phase: must be a string, not {}", type_name(other)));
            PHASE_MAIN.to_string()
        }
    };
    let priority = match obj.get("priority") {
        None => 0,
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            let p = n.as_i64().unwrap_or_default();
            if p < 0 {
                problem(match origin {
                    Origin::BuiltIn => "priority: must not be negative".into(),
                    _ => "Priority cannot be negative for user-defined rules.".into(),
                });
            } else if p > USER_PRIORITY_MAX && origin != Origin::BuiltIn {
                problem(format!(
                    "Priority must be between 0 and {USER_PRIORITY_MAX} for user-defined rules."
                ));
            }
            p
        }
        Some(other) => {
            problem(format!(
                "priority: must be an integer, not {}",
                render(other)
            ));
            0
        }
    };
    let sensitive = match obj.get("sensitive") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            problem(format!(
                "sensitive: must be a boolean, not {}",
                type_name(other)
            ));
            false
        }
    };
    let conditions = match obj.get("conditions") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, c)| parse_condition(c, i + 1, &mut problems))
            .collect(),
        Some(other) => {
            problems.push(rule_problem(format!(
                "conditions: must be a list, not {}",
                type_name(other)
            )));
            Vec::new()
        }
    };
    let actions = match obj.get("actions") {
        None => {
            problems.push(rule_problem("'actions' is a required property"));
            Vec::new()
        }
        Some(Value::Array(items)) if items.is_empty() => {
            problems.push(rule_problem("actions: at least one action is required"));
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, a)| parse_action(a, i + 1, &mut problems))
            .collect(),
        Some(other) => {
            problems.push(rule_problem(format!(
                "actions: must be a list, not {}",
                type_name(other)
            )));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(RuleValidationError { problems });
    }
    Ok(RuleDraft {
        uuid,
        description,
        phase,
        priority,
        sensitive,
        conditions,
        actions,
    })
}

/// A short rendering of a bad value for a message.
fn render(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        type_name(v).to_string()
    } else {
        text
    }
}

/// The parts every operation has: its object, `op` text, `args`, `loop`.
struct Parts<'v> {
    obj: &'v JsonObject,
    op: Option<&'v str>,
    args: Option<RuleArgs>,
    loop_items: Option<Value>,
}

fn parse_parts<'v>(v: &'v Value, problems: &mut Vec<String>) -> Option<Parts<'v>> {
    let Value::Object(obj) = v else {
        problems.push(format!("must be an object, not {}", type_name(v)));
        return None;
    };
    let op = match obj.get("op") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            problems.push(format!("'op' must be a string, not {}", type_name(other)));
            None
        }
        None => {
            problems.push("'op' is a required property".into());
            None
        }
    };
    let args = match obj.get("args") {
        Some(Value::Object(map)) => Some(RuleArgs::Named(map.clone())),
        Some(Value::Array(list)) => Some(RuleArgs::Positional(list.clone())),
        Some(_) => {
            problems.push("args must be either a list or dictionary".into());
            None
        }
        None => {
            problems.push("'args' is a required property".into());
            None
        }
    };
    let loop_items = match obj.get("loop") {
        None => None,
        Some(l @ (Value::Array(_) | Value::Object(_))) => {
            let empty = l.as_array().is_some_and(Vec::is_empty)
                || l.as_object().is_some_and(JsonObject::is_empty);
            (!empty).then(|| l.clone())
        }
        Some(other) => {
            problems.push(format!(
                "'loop' must be a list or dictionary, not {}",
                type_name(other)
            ));
            None
        }
    };
    Some(Parts {
        obj,
        op,
        args,
        loop_items,
    })
}

fn parse_condition(v: &Value, index: usize, out: &mut Vec<RuleProblem>) -> Option<Condition> {
    let mut problems = Vec::new();
    let parts = parse_parts(v, &mut problems);
    let op = parts.as_ref().and_then(|p| p.op).and_then(|name| {
        let parsed = name.parse::<ConditionOp>().ok();
        if parsed.is_none() {
            let names: Vec<&str> = Operator::ALL.iter().map(|o| o.name()).collect();
            problems.push(format!(
                "unknown operator '{name}'; supported operators are {} (each may be negated with a leading '!')",
                names.join(", ")
            ));
        }
        parsed
    });
    let mut multiple = Multiple::Any;
    if let Some(m) = parts.as_ref().and_then(|p| p.obj.get("multiple")) {
        match Multiple::ALL
            .into_iter()
            .find(|x| m.as_str() == Some(x.name()))
        {
            Some(x) => multiple = x,
            None => problems.push(format!(
                "'multiple' must be one of any, all, first, last, not {}",
                render(m)
            )),
        }
    }
    if let (
        Some(op),
        Some(Parts {
            args: Some(args),
            loop_items,
            ..
        }),
    ) = (op, &parts)
    {
        let sig = op.operator.signature();
        match bind(args, &sig, false) {
            Err(e) => problems.push(e),
            Ok(_) => problems.extend(literal_condition_problems(
                op.operator,
                args,
                &sig,
                loop_items.is_some(),
            )),
        }
    }
    let named_op = op.map(|o| o.to_string());
    out.extend(problems.into_iter().map(|message| RuleProblem {
        at: ProblemAt::Condition {
            index,
            op: named_op.clone(),
        },
        message,
    }));
    let parts = parts?;
    Some(Condition {
        op: op?,
        args: parts.args?,
        multiple,
        loop_items: parts.loop_items,
    })
}

fn parse_action(v: &Value, index: usize, out: &mut Vec<RuleProblem>) -> Option<Action> {
    let mut problems = Vec::new();
    let parts = parse_parts(v, &mut problems);
    let op = parts.as_ref().and_then(|p| p.op).and_then(|name| {
        let parsed = ActionOp::from_name(name);
        match parsed {
            None => {
                let names: Vec<&str> = ActionOp::ALL
                    .iter()
                    .filter(|a| a.is_supported())
                    .map(|a| a.name())
                    .collect();
                problems.push(format!(
                    "unknown action '{name}'; supported actions are {}",
                    names.join(", ")
                ));
            }
            Some(op) if !op.is_supported() => problems.push(unsupported(op)),
            Some(_) => {}
        }
        parsed
    });
    if let (
        Some(op),
        Some(Parts {
            args: Some(args),
            loop_items,
            ..
        }),
    ) = (op, &parts)
    {
        let sig = op.signature();
        match bind(args, &sig, op.takes_plugin_data()) {
            Err(e) => problems.push(e),
            Ok(_) => problems.extend(literal_action_problems(
                op,
                args,
                &sig,
                loop_items.is_some(),
            )),
        }
    }
    out.extend(problems.into_iter().map(|message| RuleProblem {
        at: ProblemAt::Action {
            index,
            op: op.map(|o| o.name().to_string()),
        },
        message,
    }));
    let parts = parts?;
    Some(Action {
        op: op?,
        args: parts.args?,
        loop_items: parts.loop_items,
    })
}

/// The argument `name` when it is fixed: given, and not changed by interpolation at
/// run time.
fn literal<'a>(
    args: &'a RuleArgs,
    sig: &Signature,
    name: &str,
    in_loop: bool,
) -> Option<&'a Value> {
    let v = args.get(sig, name)?;
    let interpolated = in_loop || sig.is_formatted(name);
    (!interpolated || !has_template(v)).then_some(v)
}

fn literal_condition_problems(
    op: Operator,
    args: &RuleArgs,
    sig: &Signature,
    in_loop: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    match op {
        Operator::Eq | Operator::Lt | Operator::Gt => {
            if let Some(v) = literal(args, sig, "values", in_loop).filter(|v| !v.is_array()) {
                problems.push(format!(
                    "argument 'values' must be a list, not {}",
                    type_name(v)
                ));
            }
        }
        Operator::Matches | Operator::Contains => match literal(args, sig, "regex", in_loop) {
            Some(Value::String(r)) if r.is_empty() && op == Operator::Matches => {
                problems.push("argument 'regex' must not be empty".into())
            }
            Some(Value::String(r)) => {
                let pattern = if op == Operator::Matches {
                    full_match_pattern(r)
                } else {
                    r.clone()
                };
                if let Err(e) = compile(&pattern) {
                    problems.push(e);
                }
            }
            Some(other) => problems.push(format!(
                "argument 'regex' must be a string, not {}",
                type_name(other)
            )),
            None => {}
        },
        Operator::InNet => match literal(args, sig, "subnet", in_loop) {
            Some(Value::String(s)) => {
                if let Err(e) = IpNet::parse(s) {
                    problems.push(format!("invalid value: {e}"));
                }
            }
            Some(other) => problems.push(format!(
                "argument 'subnet' must be a string, not {}",
                type_name(other)
            )),
            None => {}
        },
        _ => {}
    }
    problems
}

fn literal_action_problems(
    op: ActionOp,
    args: &RuleArgs,
    sig: &Signature,
    in_loop: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    match op {
        ActionOp::Log => match literal(args, sig, "level", in_loop) {
            Some(Value::String(l)) if LogLevel::from_name(l).is_some() => {}
            Some(l) => problems.push(format!(
                "Invalid log level: {}. Choose from debug, info, warning, error, critical",
                l.as_str().map_or_else(|| render(l), str::to_string)
            )),
            None => {}
        },
        ActionOp::AddTrait => match literal(args, sig, "name", in_loop) {
            Some(Value::String(t)) if !is_valid_trait(t) => problems.push(invalid_trait_message(t)),
            Some(Value::String(_)) | None => {}
            Some(other) => problems.push(format!(
                "argument 'name' must be a string, not {}",
                type_name(other)
            )),
        },
        _ => {}
    }
    problems
}
