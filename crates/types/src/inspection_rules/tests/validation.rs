//! Validation of create bodies, patched rules and built-in rules: each problem names
//! its condition or action.

use serde_json::{json, Value};

use super::fixtures::rule;
use crate::inspection_rules::{
    built_in_rules_from_json, validate_create, validate_patched, BuiltInRulesError,
    InspectionRuleId, Multiple, ProblemAt, RuleArgs,
};
use crate::Timestamp;

fn errors(body: Value) -> Vec<String> {
    match validate_create(&body) {
        Ok(_) => panic!("accepted: {body}"),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

fn one_error(body: Value) -> String {
    let e = errors(body);
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

fn log() -> Value {
    json!({"op": "log", "args": {"msg": "m"}})
}

#[test]
fn a_full_body_is_accepted() {
    let body = json!({
        "uuid": "7a1b5a4e-4e0e-4d35-9e43-0b3c6b0b8c11",
        "description": "Configure iDRAC for Dell servers",
        "priority": 100,
        "sensitive": true,
        "phase": "main",
        "conditions": [
            {"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "(?i)dell"}},
            {"op": "!is-empty", "args": ["{inventory[bmc_address]}"], "multiple": "all", "loop": [], "force_strings": true}
        ],
        "actions": [
            {"op": "set-attribute", "args": {"path": "/driver", "value": "idrac"}},
            {"op": "log", "args": {"msg": "configured", "level": "info"}, "loop": {"x": 1}}
        ]
    });
    let draft = validate_create(&body).unwrap();
    assert_eq!(
        draft.uuid,
        Some("7a1b5a4e-4e0e-4d35-9e43-0b3c6b0b8c11".parse().unwrap())
    );
    assert_eq!(draft.priority, 100);
    assert!(draft.sensitive);
    assert_eq!(draft.conditions[1].multiple, Multiple::All);
    assert_eq!(draft.conditions[1].loop_items, None);
    assert!(matches!(draft.conditions[1].args, RuleArgs::Positional(_)));
    assert_eq!(draft.actions[1].loop_items, Some(json!({"x": 1})));
    let r = draft.into_rule(Timestamp::from_micros(7));
    assert!(!r.built_in);
    assert_eq!(r.updated_at, None);
    // Defaults.
    let r = rule(json!({"actions": [log()]}));
    assert_eq!(
        (r.priority, r.phase.as_str(), r.sensitive, r.description),
        (0, "main", false, None)
    );
    assert!(r.conditions.is_empty());
}

#[test]
fn unknown_operators_and_actions_are_named() {
    assert_eq!(
        one_error(json!({"conditions": [{"op": "eq", "args": {"values": [1, 1]}}, {"op": "eqq", "args": {}}], "actions": [log()]})),
        "condition 2: unknown operator 'eqq'; supported operators are eq, lt, gt, is-empty, in-net, matches, contains, one-of, is-none, is-true, is-false (each may be negated with a leading '!')"
    );
    for op in ["!!eq", "! eq", "!unknown", "EQ"] {
        let e = one_error(json!({"conditions": [{"op": op, "args": {}}], "actions": [log()]}));
        assert!(
            e.starts_with(&format!("condition 1: unknown operator '{op}'")),
            "{e}"
        );
    }
    let e = one_error(json!({"actions": [log(), {"op": "noop", "args": {}}]}));
    assert!(
        e.starts_with(
            "action 2: unknown action 'noop'; supported actions are fail, log, set-attribute"
        ),
        "{e}"
    );
    assert!(!e.contains("api-call"), "{e}");
    let e = one_error(json!({"actions": [{"op": "!log", "args": {"msg": "m"}}]}));
    assert!(e.starts_with("action 1: unknown action '!log'"), "{e}");
}

#[test]
fn api_call_is_not_supported() {
    assert_eq!(
        one_error(json!({"actions": [{"op": "api-call", "args": {"url": "http://hook"}}]})),
        "action 1 (api-call): the 'api-call' action is not supported by Ferric (rules run without network access)"
    );
}

#[test]
fn arguments_are_checked_per_operation() {
    assert_eq!(
        one_error(json!({"actions": [{"op": "set-attribute", "args": {"path": "/extra/x"}}]})),
        "action 1 (set-attribute): missing required argument(s): value"
    );
    assert_eq!(
        one_error(
            json!({"actions": [log(), {"op": "log", "args": {"msg": "m", "colour": "red"}}]})
        ),
        "action 2 (log): unexpected argument(s): colour"
    );
    assert_eq!(
        one_error(
            json!({"conditions": [{"op": "!matches", "args": {"value": "x"}}], "actions": [log()]})
        ),
        "condition 1 (!matches): missing required argument(s): regex"
    );
    assert_eq!(
        one_error(
            json!({"conditions": [{"op": "in-net", "args": ["10.0.0.1"]}], "actions": [log()]})
        ),
        "condition 1 (in-net): Not enough arguments provided. Missing: subnet"
    );
    assert_eq!(
        one_error(
            json!({"actions": [{"op": "set-port-attribute", "args": {"path": "extra", "value": 1}}]})
        ),
        "action 1 (set-port-attribute): missing required argument(s): port_id"
    );
    assert_eq!(
        one_error(json!({"actions": [{"op": "fail", "args": "oops"}]})),
        "action 1 (fail): args must be either a list or dictionary"
    );
    assert_eq!(
        one_error(json!({"actions": [{"op": "fail"}]})),
        "action 1 (fail): 'args' is a required property"
    );
    assert_eq!(
        one_error(json!({"actions": [{"args": {}}]})),
        "action 1: 'op' is a required property"
    );
    assert_eq!(
        one_error(json!({"actions": ["log"]})),
        "action 1: must be an object, not str"
    );
    // Every signature accepts its optional arguments.
    for body in [
        json!({"op": "eq", "args": {"values": [5, 5], "force_strings": true}}),
        json!({"op": "one-of", "args": {"value": 1}}),
    ] {
        validate_create(&json!({"conditions": [body], "actions": [log()]})).unwrap();
    }
    for body in [
        json!({"op": "extend-attribute", "args": {"path": "/extra/l", "value": 1, "unique": true}}),
        json!({"op": "extend-plugin-data", "args": {"path": "l", "value": 1, "unique": false}}),
        json!({"op": "extend-port-attribute", "args": {"port_id": "p", "path": "extra/l", "value": 1, "unique": true}}),
        json!({"op": "log", "args": ["m", "debug"]}),
    ] {
        validate_create(&json!({"actions": [body]})).unwrap();
    }
}

#[test]
fn loop_and_multiple_are_checked() {
    assert_eq!(
        one_error(
            json!({"conditions": [{"op": "eq", "args": {"values": []}, "multiple": "most"}], "actions": [log()]})
        ),
        "condition 1 (eq): 'multiple' must be one of any, all, first, last, not \"most\""
    );
    assert_eq!(
        one_error(
            json!({"actions": [{"op": "log", "args": {"msg": "m"}, "loop": "{inventory[interfaces]}"}]})
        ),
        "action 1 (log): 'loop' must be a list or dictionary, not str"
    );
}

#[test]
fn literal_arguments_that_cannot_work_are_refused() {
    let cond = |c: Value| one_error(json!({"conditions": [c], "actions": [log()]}));
    let e = cond(json!({"op": "matches", "args": {"value": "x", "regex": "[unclosed"}}));
    assert!(
        e.starts_with("condition 1 (matches): invalid regular expression:"),
        "{e}"
    );
    let e = cond(json!({"op": "contains", "args": {"value": "x", "regex": "(?<=a)b"}}));
    assert!(
        e.starts_with("condition 1 (contains): invalid regular expression:"),
        "{e}"
    );
    assert_eq!(
        cond(json!({"op": "matches", "args": {"value": "x", "regex": ""}})),
        "condition 1 (matches): argument 'regex' must not be empty"
    );
    assert_eq!(
        cond(json!({"op": "lt", "args": {"values": 5}})),
        "condition 1 (lt): argument 'values' must be a list, not int"
    );
    assert_eq!(
        cond(json!({"op": "in-net", "args": {"address": "10.0.0.1", "subnet": "10.0.0.0/40"}})),
        "condition 1 (in-net): invalid value: invalid IPNetwork 10.0.0.0/40"
    );
    assert_eq!(
        one_error(json!({"actions": [{"op": "log", "args": {"msg": "m", "level": "loud"}}]})),
        "action 1 (log): Invalid log level: loud. Choose from debug, info, warning, error, critical"
    );
    let e = one_error(json!({"actions": [{"op": "add-trait", "args": {"name": "gold"}}]}));
    assert!(
        e.starts_with("action 1 (add-trait): Schema error for trait: 'gold'"),
        "{e}"
    );
    // Values filled in at run time are checked then.
    validate_create(&json!({
        "conditions": [
            {"op": "lt", "args": {"values": "{inventory[list]}"}},
            {"op": "matches", "args": {"value": "x", "regex": "{item}"}, "loop": ["a"]},
            {"op": "matches", "args": {"value": "x", "regex": "a{2}"}}
        ],
        "actions": [{"op": "add-trait", "args": {"name": "{item}"}, "loop": ["CUSTOM_X"]}]
    }))
    .unwrap();
}

#[test]
fn rule_fields_are_checked() {
    assert_eq!(
        one_error(json!({"priority": 10000, "actions": [log()]})),
        "Priority must be between 0 and 9999 for user-defined rules."
    );
    assert_eq!(
        one_error(json!({"priority": -1, "actions": [log()]})),
        "Priority cannot be negative for user-defined rules."
    );
    assert_eq!(
        one_error(json!({"priority": 1.5, "actions": [log()]})),
        "priority: must be an integer, not 1.5"
    );
    assert_eq!(
        one_error(json!({"phase": "early", "actions": [log()]})),
        "Invalid phase: early. Valid phases are: main"
    );
    assert_eq!(
        one_error(json!({"phase": null, "actions": [log()]})),
        "Invalid phase: None. Valid phases are: main"
    );
    assert_eq!(
        one_error(json!({"phase": "x".repeat(17), "actions": [log()]})),
        "phase: must be at most 16 characters long"
    );
    assert_eq!(
        one_error(json!({"description": "é".repeat(256), "actions": [log()]})),
        "description: must be at most 255 characters long, not 256"
    );
    validate_create(&json!({"description": "é".repeat(255), "actions": [log()]})).unwrap();
    assert_eq!(
        one_error(json!({"actions": []})),
        "actions: at least one action is required"
    );
    assert_eq!(one_error(json!({})), "'actions' is a required property");
    assert_eq!(
        one_error(json!({"conditions": {"op": "eq", "args": [1, 1]}, "actions": [log()]})),
        "conditions: must be a list, not dict"
    );
    assert_eq!(
        one_error(json!({"built_in": true, "actions": [log()]})),
        "Additional properties are not allowed ('built_in' was unexpected)"
    );
    assert_eq!(
        one_error(json!({"uuid": "nope", "actions": [log()]})),
        "uuid: Expected a UUID but received nope."
    );
    assert_eq!(
        one_error(json!({"sensitive": "yes", "actions": [log()]})),
        "sensitive: must be a boolean, not str"
    );
    assert_eq!(
        one_error(json!([])),
        "an inspection rule must be an object, not list"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = validate_create(&json!({
        "priority": 10000,
        "conditions": [{"op": "eqq", "args": {}}, {"op": "eq", "args": {}}],
        "actions": [{"op": "set-attribute", "args": {"path": "/x"}}]
    }))
    .unwrap_err();
    assert_eq!(e.problems.len(), 4);
    assert_eq!(
        e.problems[1].at,
        ProblemAt::Condition { index: 1, op: None }
    );
    assert_eq!(
        e.problems[2].at,
        ProblemAt::Condition {
            index: 2,
            op: Some("eq".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "Multiple validation errors occurred: Priority must be between 0 and 9999 for user-defined rules.; \
         condition 1: unknown operator 'eqq'; supported operators are eq, lt, gt, is-empty, in-net, matches, \
         contains, one-of, is-none, is-true, is-false (each may be negated with a leading '!'); \
         condition 2 (eq): missing required argument(s): values; \
         action 1 (set-attribute): missing required argument(s): value"
    );
}

#[test]
fn patches_are_validated_like_bodies() {
    let current = rule(json!({"description": "d", "actions": [log()]}));
    let now = Timestamp::from_micros(99);
    let mut patched = current.patch_base();
    patched["description"] = json!("new");
    patched["priority"] = json!(20);
    patched["created_at"] = json!("ignored");
    patched["unknown"] = json!("ignored as Ironic prunes it");
    let updated = validate_patched(&current, &patched, now).unwrap();
    assert_eq!(updated.description.as_deref(), Some("new"));
    assert_eq!(updated.priority, 20);
    assert_eq!(updated.uuid, current.uuid);
    assert_eq!(updated.created_at, current.created_at);
    assert_eq!(updated.updated_at, Some(now));

    let mut bad = current.patch_base();
    bad["actions"] = json!([{"op": "set-attribute", "args": {}}]);
    let e = validate_patched(&current, &bad, now).unwrap_err();
    assert_eq!(
        e.to_string(),
        "action 1 (set-attribute): missing required argument(s): path, value"
    );

    let mut bad = current.patch_base();
    bad["uuid"] = json!(InspectionRuleId::new_v4().to_string());
    assert_eq!(
        validate_patched(&current, &bad, now)
            .unwrap_err()
            .to_string(),
        "uuid: cannot be changed"
    );
}

#[test]
fn the_sensitive_flag_cannot_be_unset() {
    let plain = rule(json!({"actions": [log()]}));
    let mut patched = plain.patch_base();
    patched["sensitive"] = json!(true);
    let sensitive = validate_patched(&plain, &patched, Timestamp::from_micros(1)).unwrap();
    assert!(sensitive.sensitive);
    for value in [json!(false), Value::Null] {
        let mut patched = sensitive.patch_base();
        patched["sensitive"] = value;
        assert_eq!(
            validate_patched(&sensitive, &patched, Timestamp::from_micros(2))
                .unwrap_err()
                .to_string(),
            "Inspection rules cannot have the sensitive flag unset."
        );
    }
}

#[test]
fn built_in_rules() {
    let rules = built_in_rules_from_json(
        &json!([
            {"priority": 20000, "actions": [log()], "comment": "unknown keys are ignored"},
            {"uuid": "7a1b5a4e-4e0e-4d35-9e43-0b3c6b0b8c11", "actions": [log()]},
            {"description": "third", "actions": [log()]}
        ]),
        Timestamp::from_micros(0),
    )
    .unwrap();
    assert!(rules.iter().all(|r| r.built_in));
    assert_eq!(rules[0].priority, 20000);
    assert_eq!(
        rules[0].uuid.to_string(),
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        rules[1].uuid.to_string(),
        "7a1b5a4e-4e0e-4d35-9e43-0b3c6b0b8c11"
    );
    assert_eq!(
        rules[2].uuid.to_string(),
        "00000000-0000-0000-0000-000000000001"
    );
    assert!(rules[0].api_json().get("built_in").is_none());
    assert!(serde_json::to_value(&rules[0]).unwrap()["built_in"] == json!(true));

    assert_eq!(
        built_in_rules_from_json(&json!({"not": "a list"}), Timestamp::from_micros(0)),
        Err(BuiltInRulesError::NotAList)
    );
    let e = built_in_rules_from_json(
        &json!([{"actions": [log()]}, {"priority": -5, "actions": []}]),
        Timestamp::from_micros(0),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "built-in rule 2: Multiple validation errors occurred: priority: must not be negative; actions: at least one action is required"
    );
}

#[test]
fn validated_rules_round_trip_through_json() {
    let r = rule(json!({
        "conditions": [{"op": "!eq", "args": [[1, 2]], "loop": [1], "multiple": "first"}],
        "actions": [{"op": "set-plugin-data", "args": {"path": "a", "value": "{item}"}, "loop": [1, 2]}]
    }));
    let stored = serde_json::to_value(&r).unwrap();
    let back: crate::inspection_rules::InspectionRule =
        serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(back, r);
    assert_eq!(
        stored["conditions"],
        json!([{"op": "!eq", "args": [[1, 2]], "loop": [1], "multiple": "first"}])
    );
}
