//! An inspection rule as stored and served (API 1.96): conditions on a node's
//! inspection data and the actions to take when they all hold. Field names are the
//! API's; conditions and actions serialise as Ironic shows them (`loop` only when
//! given, `multiple` only beside a `loop`).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::id::InspectionRuleId;
use super::ops::{ActionOp, ConditionOp, Signature};
use crate::{JsonObject, Timestamp};

/// The only inspection phase Ironic has.
pub const PHASE_MAIN: &str = "main";

/// An inspection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRule {
    pub uuid: InspectionRuleId,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "main_phase")]
    pub phase: String,
    /// Higher runs first. User rules: 0–9999; built-in rules: any value ≥ 0.
    #[serde(default)]
    pub priority: i64,
    /// A sensitive rule's conditions and actions are hidden from the API, and the
    /// engine keeps its values out of log lines and failure messages.
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    /// Loaded from the operator's built-in rules file; never created through the API
    /// (and never shown by it: the field is left out when false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub built_in: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

fn main_phase() -> String {
    PHASE_MAIN.to_string()
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl InspectionRule {
    /// The rule as the API shows it (without links): a sensitive rule's `conditions`
    /// and `actions` are `null`.
    pub fn api_json(&self) -> Value {
        let mut out = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => JsonObject::new(),
        };
        out.remove("built_in");
        if self.sensitive {
            out.insert("conditions".into(), Value::Null);
            out.insert("actions".into(), Value::Null);
        }
        Value::Object(out)
    }

    /// The document a JSON Patch is applied to: the fields of a create body plus the
    /// timestamps (which, as in Ironic, may be patched but are then ignored).
    pub fn patch_base(&self) -> Value {
        let mut out = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => JsonObject::new(),
        };
        out.remove("built_in");
        Value::Object(out)
    }
}

/// How the results of a condition's loop iterations combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Multiple {
    /// True when any iteration is true.
    #[default]
    Any,
    /// True when every iteration is true.
    All,
    /// The first iteration's result.
    First,
    /// The last iteration's result.
    Last,
}

impl Multiple {
    pub const ALL: [Multiple; 4] = [Self::Any, Self::All, Self::First, Self::Last];

    pub fn name(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::All => "all",
            Self::First => "first",
            Self::Last => "last",
        }
    }
}

/// An operation's arguments: by name (preferred) or, deprecated, by position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleArgs {
    Named(JsonObject),
    Positional(Vec<Value>),
}

impl Default for RuleArgs {
    fn default() -> Self {
        Self::Named(JsonObject::new())
    }
}

impl RuleArgs {
    /// The argument called `name`: a key of the named form, or the position of `name`
    /// in `sig` for the list form.
    pub fn get(&self, sig: &Signature, name: &str) -> Option<&Value> {
        match self {
            Self::Named(map) => map.get(name),
            Self::Positional(list) => sig
                .names()
                .position(|n| n == name)
                .and_then(|i| list.get(i)),
        }
    }
}

/// An empty loop is no loop (Ironic tests the loop's truth).
fn non_empty_loop<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.filter(|l| match l {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }))
}

/// One check of a rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Condition {
    pub op: ConditionOp,
    #[serde(default)]
    pub args: RuleArgs,
    #[serde(default)]
    pub multiple: Multiple,
    /// A list (one check per item) or a dictionary (one check, with it as the item).
    #[serde(default, rename = "loop", deserialize_with = "non_empty_loop")]
    pub loop_items: Option<Value>,
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = if self.loop_items.is_some() { 4 } else { 2 };
        let mut map = s.serialize_map(Some(len))?;
        map.serialize_entry("op", &self.op)?;
        map.serialize_entry("args", &self.args)?;
        if let Some(items) = &self.loop_items {
            map.serialize_entry("loop", items)?;
            map.serialize_entry("multiple", &self.multiple)?;
        }
        map.end()
    }
}

/// One action of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub op: ActionOp,
    #[serde(default)]
    pub args: RuleArgs,
    #[serde(
        default,
        rename = "loop",
        deserialize_with = "non_empty_loop",
        skip_serializing_if = "Option::is_none"
    )]
    /// A list (the action runs once per item) or a dictionary (once, as the item).
    pub loop_items: Option<Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::inspection_rules::ops::Operator;

    fn rule(sensitive: bool) -> InspectionRule {
        serde_json::from_value(json!({
            "uuid": "5e1c3b62-0f4c-4b5f-9a59-0ad1a1b3c1f0",
            "description": "d",
            "priority": 10,
            "sensitive": sensitive,
            "conditions": [
                {"op": "!eq", "args": {"values": [1, 2]}, "multiple": "all"},
                {"op": "eq", "args": [["{item}", 1]], "loop": [1], "multiple": "last"}
            ],
            "actions": [{"op": "log", "args": {"msg": "hi"}, "loop": []}],
            "created_at": "2024-08-27T00:00:00.000000+00:00",
            "updated_at": null
        }))
        .unwrap()
    }

    #[test]
    fn serialises_as_ironic_shows_rules() {
        let r = rule(false);
        assert_eq!(r.phase, PHASE_MAIN);
        assert_eq!(r.conditions[0].op.operator, Operator::Eq);
        assert!(r.conditions[0].op.negated);
        assert_eq!(r.actions[0].loop_items, None);
        let v = r.api_json();
        assert_eq!(
            v["conditions"],
            json!([
                {"op": "!eq", "args": {"values": [1, 2]}},
                {"op": "eq", "args": [["{item}", 1]], "loop": [1], "multiple": "last"}
            ])
        );
        assert_eq!(v["actions"], json!([{"op": "log", "args": {"msg": "hi"}}]));
        assert!(v.get("built_in").is_none());
        let back: InspectionRule =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back.conditions[1], r.conditions[1]);
    }

    #[test]
    fn sensitive_rules_hide_their_logic() {
        let v = rule(true).api_json();
        assert_eq!(v["conditions"], Value::Null);
        assert_eq!(v["actions"], Value::Null);
        assert_eq!(v["description"], "d");
    }

    #[test]
    fn positional_args_map_to_signature_names() {
        let sig = Operator::OneOf.signature();
        let args = RuleArgs::Positional(vec![json!("a"), json!(["a", "b"])]);
        assert_eq!(args.get(&sig, "values"), Some(&json!(["a", "b"])));
        assert_eq!(args.get(&sig, "regex"), None);
    }
}
