//! An operation's arguments bound to its signature: names checked (Ironic's messages),
//! the deprecated list form mapped to names by position, then interpolated.

use std::borrow::Cow;

use serde_json::Value;

use super::interpolate::{interpolate, Mode, Scope, Unformatted};
use super::ops::Signature;
use super::rule::RuleArgs;

/// The arguments given, by name, in signature order.
pub(crate) type Bound<'r> = Vec<(&'static str, &'r Value)>;

/// Binds `args` to `sig`. `plugin_data_key` lets a named `plugin_data` through (the
/// plugin-data actions' signature has it; the engine supplies the value).
pub(crate) fn bind<'r>(
    args: &'r RuleArgs,
    sig: &Signature,
    plugin_data_key: bool,
) -> Result<Bound<'r>, String> {
    match args {
        RuleArgs::Named(map) => {
            let missing: Vec<&str> = sig
                .required
                .iter()
                .copied()
                .filter(|n| !map.contains_key(*n))
                .collect();
            let unexpected: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| !(sig.accepts(k) || plugin_data_key && *k == "plugin_data"))
                .collect();
            let mut msg = Vec::new();
            if !missing.is_empty() {
                msg.push(format!(
                    "missing required argument(s): {}",
                    missing.join(", ")
                ));
            }
            if !unexpected.is_empty() {
                msg.push(format!("unexpected argument(s): {}", unexpected.join(", ")));
            }
            if !msg.is_empty() {
                return Err(msg.join("; "));
            }
            Ok(sig
                .names()
                .filter_map(|n| map.get(n).map(|v| (n, v)))
                .collect())
        }
        RuleArgs::Positional(list) => {
            if list.len() < sig.required.len() {
                return Err(format!(
                    "Not enough arguments provided. Missing: {}",
                    sig.required[list.len()..].join(", ")
                ));
            }
            // Extra positions are ignored, as Ironic does.
            Ok(sig.names().zip(list).collect())
        }
    }
}

/// Bound and interpolated arguments.
#[derive(Debug)]
pub(crate) struct Args<'r>(Vec<(&'static str, Cow<'r, Value>)>);

impl<'r> Args<'r> {
    /// Interpolates the arguments `sig` formats, or all of them inside a loop.
    pub(crate) fn interpolate(
        bound: Bound<'r>,
        sig: &Signature,
        scope: &Scope<'_>,
        mode: Mode,
        failures: &mut Vec<Unformatted>,
    ) -> Self {
        Self(
            bound
                .into_iter()
                .map(|(name, v)| {
                    let v = if mode.in_loop || sig.is_formatted(name) {
                        interpolate(v, scope, mode, failures)
                    } else {
                        Cow::Borrowed(v)
                    };
                    (name, v)
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// A required argument (binding guarantees it; null if somehow absent).
    pub(crate) fn req(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&Value::Null)
    }

    /// A required argument that must be a string.
    pub(crate) fn string(&self, name: &str) -> Result<&str, String> {
        match self.req(name) {
            Value::String(s) => Ok(s),
            other => Err(format!(
                "argument '{name}' must be a string, not {}",
                super::pyvalue::type_name(other)
            )),
        }
    }

    /// An optional flag, by Python truth; false when absent.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(super::pyvalue::py_truthy)
    }

    /// Takes the argument out (owned), for actions that store it.
    pub(crate) fn take(&mut self, name: &str) -> Value {
        self.0
            .iter_mut()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| std::mem::replace(v, Cow::Owned(Value::Null)).into_owned())
            .unwrap_or(Value::Null)
    }

    /// Detaches the arguments from the context they were interpolated from.
    pub(crate) fn into_owned(self) -> Args<'static> {
        Args(
            self.0
                .into_iter()
                .map(|(n, v)| (n, Cow::Owned(v.into_owned())))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::inspection_rules::ops::{ActionOp, Operator};

    fn named(v: Value) -> RuleArgs {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn named_arguments_are_checked() {
        let sig = ActionOp::SetAttribute.signature();
        assert_eq!(
            bind(&named(json!({"path": "/x"})), &sig, false).unwrap_err(),
            "missing required argument(s): value"
        );
        assert_eq!(
            bind(
                &named(json!({"path": "/x", "value": 1, "bogus": 2})),
                &sig,
                false
            )
            .unwrap_err(),
            "unexpected argument(s): bogus"
        );
        assert_eq!(
            bind(&named(json!({"bogus": 2})), &sig, false).unwrap_err(),
            "missing required argument(s): path, value; unexpected argument(s): bogus"
        );
        let sig = ActionOp::SetPluginData.signature();
        let args = named(json!({"path": "a", "value": 1, "plugin_data": {}}));
        assert_eq!(bind(&args, &sig, true).unwrap().len(), 2);
    }

    #[test]
    fn list_arguments_map_by_position() {
        let sig = Operator::Eq.signature();
        let args = named(json!([[1, 1], true, "ignored"]));
        let bound = bind(&args, &sig, false).unwrap();
        assert_eq!(
            bound,
            vec![("values", &json!([1, 1])), ("force_strings", &json!(true))]
        );
        let sig = Operator::InNet.signature();
        assert_eq!(
            bind(&named(json!(["10.0.0.1"])), &sig, false).unwrap_err(),
            "Not enough arguments provided. Missing: subnet"
        );
    }
}
