//! The engine's working state while it applies rules: which rule is running and how
//! (masked, sensitive), the log it is writing, and compiled regular expressions
//! (shared by every rule of one call).

use std::collections::HashMap;

use regex_lite::Regex;

use super::context::{LogLevel, LogLine};
use super::id::InspectionRuleId;
use super::interpolate::Unformatted;

/// What hidden details read as.
pub(crate) const HIDDEN: &str = "details hidden: the rule is sensitive";

/// Why a condition or action could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EvalError {
    /// The `fail` action, with its message.
    Fail(String),
    /// Anything else that stops the inspection.
    Error(String),
}

impl From<String> for EvalError {
    fn from(s: String) -> Self {
        Self::Error(s)
    }
}

/// The state of one `apply_rules` call.
#[derive(Debug)]
pub(crate) struct Run {
    pub rule: InspectionRuleId,
    pub sensitive: bool,
    pub mask: bool,
    pub log: Vec<LogLine>,
    pub unformatted: Vec<Unformatted>,
    regexes: HashMap<String, Regex>,
}

impl Run {
    pub(crate) fn new() -> Self {
        Self {
            rule: InspectionRuleId(uuid::Uuid::nil()),
            sensitive: false,
            mask: true,
            log: Vec::new(),
            unformatted: Vec::new(),
            regexes: HashMap::new(),
        }
    }

    /// Records a line for the running rule. `message` may carry values: a
    /// sensitive rule's line says only `summary`.
    pub(crate) fn log(&mut self, level: LogLevel, message: String, summary: &str) {
        let message = if self.sensitive {
            format!("{summary} ({HIDDEN})")
        } else {
            message
        };
        self.log.push(LogLine {
            level,
            rule: self.rule,
            message,
        });
    }

    /// Turns interpolation failures into warnings (Ironic logs them and goes on).
    pub(crate) fn flush_unformatted(&mut self) {
        for u in std::mem::take(&mut self.unformatted) {
            let message = format!(
                "Interpolation failed: {}: {}, {}",
                u.template,
                u.error.class(),
                u.error.detail()
            );
            self.log(LogLevel::Warning, message, "Interpolation failed");
        }
    }

    /// The compiled `pattern`.
    pub(crate) fn regex(&mut self, pattern: &str) -> Result<&Regex, String> {
        use std::collections::hash_map::Entry;
        match self.regexes.entry(pattern.to_string()) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => Ok(v.insert(compile(pattern)?)),
        }
    }
}

/// Compiles a pattern, with the error on one line.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        let text = e.to_string();
        format!(
            "invalid regular expression: {}",
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    })
}

/// The pattern `matches` compiles: Ironic appends `$` unless the expression ends
/// with one, and `re.match` anchors at the start.
pub(crate) fn full_match_pattern(regex: &str) -> String {
    if regex.ends_with('$') {
        format!("^(?:{regex})")
    } else {
        format!("^(?:{regex}$)")
    }
}
