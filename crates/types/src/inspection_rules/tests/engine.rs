//! The engine as a whole: order, failures naming the rule, secrets, sensitive rules,
//! interpolation warnings.

use serde_json::json;

use super::fixtures::{rule, run, run_masked};
use crate::inspection_rules::{
    built_in_rules_from_json, rules_in_run_order, LogLevel, MaskSecrets,
};
use crate::Timestamp;

fn appender(priority: i64, value: &str) -> crate::inspection_rules::InspectionRule {
    rule(json!({
        "priority": priority,
        "actions": [{"op": "extend-plugin-data", "args": {"path": "order", "value": value}}]
    }))
}

#[test]
fn highest_priority_first_ties_in_given_order() {
    let rules = vec![
        appender(0, "a0"),
        appender(50, "b50"),
        appender(50, "c50"),
        appender(9999, "d9999"),
    ];
    let (ctx, result) = run(&rules);
    let applied = result.unwrap();
    assert_eq!(
        ctx.plugin_data["order"],
        json!(["d9999", "b50", "c50", "a0"])
    );
    assert_eq!(
        applied.matched,
        vec![rules[3].uuid, rules[1].uuid, rules[2].uuid, rules[0].uuid]
    );
    let order: Vec<_> = rules_in_run_order(&rules)
        .iter()
        .map(|r| r.priority)
        .collect();
    assert_eq!(order, [9999, 50, 50, 0]);
}

#[test]
fn built_in_rules_join_the_order() {
    let built_in = built_in_rules_from_json(
        &json!([{"priority": 20000, "actions": [{"op": "extend-plugin-data", "args": {"path": "order", "value": "builtin"}}]}]),
        Timestamp::from_micros(0),
    )
    .unwrap();
    let mut rules = vec![appender(5, "user")];
    rules.extend(built_in);
    let (ctx, result) = run(&rules);
    result.unwrap();
    assert_eq!(ctx.plugin_data["order"], json!(["builtin", "user"]));
}

#[test]
fn a_failure_names_the_rule_and_stops_everything() {
    let first = rule(json!({
        "priority": 10,
        "description": "set the BMC address",
        "actions": [{"op": "set-attribute", "args": {"path": "/driver_info/ipmi_address", "value": "{inventory[bmc_address]}"}}]
    }));
    let failing = rule(json!({
        "priority": 5,
        "description": "too small",
        "conditions": [{"op": "lt", "args": {"values": ["{inventory[memory][physical_mb]}", 16384]}}],
        "actions": [
            {"op": "set-attribute", "args": {"path": "/extra/seen", "value": true}},
            {"op": "fail", "args": {"msg": "not enough memory"}}
        ]
    }));
    let never = appender(0, "never");
    let (ctx, result) = run(&[never, failing.clone(), first]);
    let e = result.unwrap_err();
    assert_eq!(e.rule, failing.uuid);
    assert_eq!(e.description.as_deref(), Some("too small"));
    assert_eq!(e.at, "action 2 (fail)");
    assert!(e.by_fail_action);
    assert_eq!(
        e.to_string(),
        format!(
            "inspection rule {} (\"too small\") failed at action 2 (fail): not enough memory",
            failing.uuid
        )
    );
    // Changes made before the failure stay (Ironic saves after each action)…
    assert_eq!(ctx.node["driver_info"]["ipmi_address"], "192.168.1.100");
    assert_eq!(ctx.node["extra"]["seen"], true);
    // …and nothing after it ran.
    assert!(!ctx.plugin_data.contains_key("order"));
    assert!(e.log.iter().any(|l| l.message == "applying actions"));
}

#[test]
fn condition_errors_name_the_condition() {
    let r = rule(json!({
        "conditions": [
            {"op": "eq", "args": {"values": [1, 1]}},
            {"op": "gt", "args": {"values": ["{inventory[bmc_address]}", 3]}}
        ],
        "actions": [{"op": "log", "args": {"msg": "m"}}]
    }));
    let e = run(&[r]).1.unwrap_err();
    assert_eq!(e.at, "condition 2 (gt)");
    assert!(!e.by_fail_action);
    assert!(
        e.to_string()
            .contains("failed at condition 2 (gt): '>' not supported"),
        "{e}"
    );
}

#[test]
fn secrets_are_masked_by_default() {
    let copy = |sensitive: bool| {
        rule(json!({
            "sensitive": sensitive,
            "actions": [
                {"op": "set-plugin-data", "args": {"path": "copy", "value": "{inventory[bmc_password]}"}},
                {"op": "set-plugin-data", "args": {"path": "all", "value": "{plugin_data}"}}
            ]
        }))
    };
    let (ctx, _) = run_masked(&[copy(false)], MaskSecrets::Always);
    assert_eq!(ctx.plugin_data["copy"], "***");
    assert_eq!(ctx.plugin_data["all"]["password"], "***");
    assert_eq!(ctx.plugin_data["password"], "plugin_secret");
    let (ctx, _) = run_masked(&[copy(false)], MaskSecrets::Never);
    assert_eq!(ctx.plugin_data["copy"], "secret");
    let (ctx, _) = run_masked(&[copy(false)], MaskSecrets::Sensitive);
    assert_eq!(ctx.plugin_data["copy"], "***");
    let (ctx, _) = run_masked(&[copy(true)], MaskSecrets::Sensitive);
    assert_eq!(ctx.plugin_data["copy"], "secret");
    assert_eq!(
        "sensitive".parse::<MaskSecrets>(),
        Ok(MaskSecrets::Sensitive)
    );
    assert!("sometimes".parse::<MaskSecrets>().is_err());
}

#[test]
fn sensitive_rules_keep_values_out_of_logs_and_errors() {
    let r = rule(json!({
        "sensitive": true,
        "actions": [
            {"op": "log", "args": {"msg": "password is {inventory[bmc_password]}"}},
            {"op": "set-plugin-data", "args": {"path": "x", "value": "{inventory[nope]}"}},
            {"op": "unset-plugin-data", "args": {"path": "zzqq.path"}}
        ]
    }));
    let (_, result) = run_masked(std::slice::from_ref(&r), MaskSecrets::Sensitive);
    let applied = result.unwrap();
    let text: Vec<String> = applied.log.iter().map(|l| l.message.clone()).collect();
    assert!(
        text.iter()
            .all(|m| !m.contains("secret") && !m.contains("nope") && !m.contains("zzqq")),
        "{text:?}"
    );
    assert!(applied
        .log
        .iter()
        .any(|l| l.level == LogLevel::Info && l.message.starts_with("log action (details hidden")));
    assert!(applied.log.iter().any(|l| l.level == LogLevel::Warning
        && l.message
            .starts_with("Interpolation failed (details hidden")));

    let failing = rule(json!({
        "sensitive": true,
        "actions": [{"op": "set-attribute", "args": {"path": "/driver_info/x/y", "value": "{inventory[bmc_password]}"}},
                    {"op": "set-attribute", "args": {"path": "/driver/y", "value": "{inventory[bmc_password]}"}}]
    }));
    let e = run_masked(&[failing], MaskSecrets::Never).1.unwrap_err();
    assert_eq!(e.at, "action 2 (set-attribute)");
    assert_eq!(e.message, "details hidden: the rule is sensitive");
}

#[test]
fn interpolation_failures_warn_and_leave_the_text() {
    let r = rule(
        json!({"actions": [{"op": "set-plugin-data", "args": {"path": "x", "value": "{inventory[missing][key]}"}}]}),
    );
    let (ctx, result) = run(&[r]);
    let applied = result.unwrap();
    assert_eq!(ctx.plugin_data["x"], "{inventory[missing][key]}");
    let warning = applied
        .log
        .iter()
        .find(|l| l.level == LogLevel::Warning)
        .unwrap();
    assert_eq!(
        warning.message,
        "Interpolation failed: {inventory[missing][key]}: KeyError, 'missing'"
    );
}

#[test]
fn rules_without_conditions_always_apply_and_empty_rule_lists_do_nothing() {
    let (ctx, result) = run(&[]);
    assert!(result.unwrap().matched.is_empty());
    assert_eq!(ctx, super::fixtures::context());
    let (_, result) = run(&[appender(0, "x")]);
    assert_eq!(result.unwrap().matched.len(), 1);
}
