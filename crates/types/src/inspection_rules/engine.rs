//! Applying rules to one node's inspection data: highest priority first (ties keep
//! the order given: stored rules in creation order, then built-in rules in file
//! order, as Ironic lists them), each rule's actions run when all its conditions
//! hold. The first error stops everything and names the rule, the condition or
//! action, and why.

use std::fmt;

use super::actions::run_action;
use super::conditions::check;
use super::context::{LogLevel, LogLine, MaskSecrets, RuleContext};
use super::id::InspectionRuleId;
use super::rule::InspectionRule;
use super::run::{EvalError, Run, HIDDEN};

/// The rules ran to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesApplied {
    /// The rules whose conditions held (their actions ran), in the order they ran.
    pub matched: Vec<InspectionRuleId>,
    pub log: Vec<LogLine>,
}

/// A rule stopped the inspection: a `fail` action, or an error in a condition or an
/// action. The caller puts the node in `inspect failed` with this as `last_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleFailure {
    pub rule: InspectionRuleId,
    pub description: Option<String>,
    /// Where: `condition 2 (eq)`, `action 1 (set-attribute)` (counted from 1).
    pub at: String,
    /// Why: the `fail` action's message, or the error. For a sensitive rule, only a
    /// note that details are hidden.
    pub message: String,
    /// True when a `fail` action stopped the inspection on purpose.
    pub by_fail_action: bool,
    /// Everything logged up to the failure.
    pub log: Vec<LogLine>,
}

impl fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inspection rule {}", self.rule)?;
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            write!(f, " ({d:?})")?;
        }
        write!(f, " failed at {}: {}", self.at, self.message)
    }
}

/// The rules in the order they run: by priority, highest first; ties keep their
/// order in `rules`.
pub fn rules_in_run_order(rules: &[InspectionRule]) -> Vec<&InspectionRule> {
    let mut ordered: Vec<&InspectionRule> = rules.iter().collect();
    // A stable sort: ties keep their order.
    ordered.sort_by_key(|r| std::cmp::Reverse(r.priority));
    ordered
}

/// Applies `rules` to `ctx`, changing it in place. Pass stored rules in creation
/// order followed by built-in rules in file order; phases are not filtered (`main`
/// is the only one). On failure `ctx` keeps the changes made before it, as Ironic
/// (which saves after each action) does; clone it first to discard them instead.
pub fn apply_rules(
    rules: &[InspectionRule],
    ctx: &mut RuleContext,
    mask_secrets: MaskSecrets,
) -> Result<RulesApplied, RuleFailure> {
    let mut run = Run::new();
    let mut matched = Vec::new();
    for rule in rules_in_run_order(rules) {
        run.rule = rule.uuid;
        run.sensitive = rule.sensitive;
        run.mask = mask_secrets.masks(rule.sensitive);
        if apply_rule(rule, ctx, &mut run)? {
            matched.push(rule.uuid);
        }
    }
    Ok(RulesApplied {
        matched,
        log: run.log,
    })
}

/// Runs one rule; true when its conditions held.
fn apply_rule(
    rule: &InspectionRule,
    ctx: &mut RuleContext,
    run: &mut Run,
) -> Result<bool, RuleFailure> {
    for (i, cond) in rule.conditions.iter().enumerate() {
        let at = || format!("condition {} ({})", i + 1, cond.op);
        let held = check(cond, ctx, run);
        run.flush_unformatted();
        match held {
            Ok(true) => {}
            Ok(false) => {
                run.log.push(LogLine {
                    level: LogLevel::Debug,
                    rule: rule.uuid,
                    message: format!("skipped: {} did not hold", at()),
                });
                return Ok(false);
            }
            Err(e) => return Err(failure(rule, run, at(), EvalError::Error(e))),
        }
    }
    run.log.push(LogLine {
        level: LogLevel::Info,
        rule: rule.uuid,
        message: "applying actions".into(),
    });
    for (i, action) in rule.actions.iter().enumerate() {
        let result = run_action(action, ctx, run);
        run.flush_unformatted();
        if let Err(e) = result {
            let at = format!("action {} ({})", i + 1, action.op);
            return Err(failure(rule, run, at, e));
        }
    }
    Ok(true)
}

fn failure(rule: &InspectionRule, run: &mut Run, at: String, error: EvalError) -> RuleFailure {
    let (message, by_fail_action) = match error {
        EvalError::Fail(msg) => (msg, true),
        EvalError::Error(msg) => (msg, false),
    };
    let message = if rule.sensitive {
        HIDDEN.to_string()
    } else {
        message
    };
    RuleFailure {
        rule: rule.uuid,
        description: rule.description.clone(),
        at,
        message,
        by_fail_action,
        log: std::mem::take(&mut run.log),
    }
}
