//! Shared test data: a node converted from `ferric_types::Node`, an inventory shaped
//! like the agent's, plugin data with a credential, two ports; and helpers to build
//! validated rules and run them.

use serde_json::{json, Value};

use crate::inspection_rules::{
    apply_rules, validate_create, InspectionRule, MaskSecrets, RuleContext, RuleFailure,
    RulesApplied,
};
use crate::provision::ProvisionState;
use crate::{JsonObject, Node, NodeId, Timestamp};

pub(super) const PORT0: &str = "6f0e8c6a-3d57-4b79-9a43-1d1a3c8f1c20";
pub(super) const MAC1: &str = "a2:67:c1:b8:c1:bd";

pub(super) fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

pub(super) fn node() -> Node {
    let mut n = Node::new(
        NodeId(uuid::Uuid::from_u128(0x1234)),
        "fake-hardware".into(),
        ProvisionState::Inspecting,
        Timestamp::from_micros(0),
    );
    n.name = Some("node-1".into());
    n.properties = obj(json!({"capabilities": "boot_mode:uefi"}));
    n.traits = vec!["CUSTOM_EXISTING".into()];
    n
}

pub(super) fn inventory() -> JsonObject {
    obj(json!({
        "cpu": {"count": 4, "architecture": "x86_64", "model_name": "Intel Xeon"},
        "memory": {"total": 8589934592u64, "physical_mb": 8192},
        "interfaces": [
            {"name": "eth0", "mac_address": "2a:03:9c:53:4e:46", "ipv4_address": "192.168.1.5"},
            {"name": "eth1", "mac_address": MAC1, "ipv4_address": "10.0.0.7"}
        ],
        "disks": [
            {"name": "/dev/sda", "size": 1000000, "model": "test-disk-1"},
            {"name": "/dev/sdb", "size": 2000000, "model": "test-disk-2"}
        ],
        "system_vendor": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R640"},
        "bmc_address": "192.168.1.100",
        "bmc_password": "secret",
        "empty_field": ""
    }))
}

pub(super) fn context() -> RuleContext {
    RuleContext {
        node: obj(serde_json::to_value(node()).unwrap()),
        inventory: inventory(),
        plugin_data: obj(
            json!({"plugin": "data", "password": "plugin_secret", "auto_discovered": true}),
        ),
        ports: vec![
            obj(
                json!({"uuid": PORT0, "address": "2a:03:9c:53:4e:46", "extra": {}, "physical_network": null}),
            ),
            obj(
                json!({"uuid": "0b7a7e0c-4c34-4a8e-a2b5-2f3b9c3d1e11", "address": MAC1, "extra": {"tags": ["a"]}}),
            ),
        ],
    }
}

/// A validated user rule.
pub(super) fn rule(body: Value) -> InspectionRule {
    match validate_create(&body) {
        Ok(draft) => draft.into_rule(Timestamp::from_micros(0)),
        Err(e) => panic!("invalid test rule: {e}"),
    }
}

/// Runs `rules` on a fresh context.
pub(super) fn run(rules: &[InspectionRule]) -> (RuleContext, Result<RulesApplied, RuleFailure>) {
    run_masked(rules, MaskSecrets::Always)
}

pub(super) fn run_masked(
    rules: &[InspectionRule],
    mask: MaskSecrets,
) -> (RuleContext, Result<RulesApplied, RuleFailure>) {
    let mut ctx = context();
    let result = apply_rules(rules, &mut ctx, mask);
    (ctx, result)
}

/// Whether a rule with only `condition` (and a harmless action) matches.
pub(super) fn holds(condition: Value) -> bool {
    let r =
        rule(json!({"conditions": [condition], "actions": [{"op": "log", "args": {"msg": "m"}}]}));
    match run(&[r]).1 {
        Ok(applied) => !applied.matched.is_empty(),
        Err(e) => panic!("condition failed: {e}"),
    }
}

/// The failure a rule with only `condition` ends in.
pub(super) fn condition_error(condition: Value) -> RuleFailure {
    let r =
        rule(json!({"conditions": [condition], "actions": [{"op": "log", "args": {"msg": "m"}}]}));
    match run(&[r]).1 {
        Ok(_) => panic!("condition did not fail"),
        Err(e) => e,
    }
}

/// Runs one action; the context after it, or the failure.
pub(super) fn act(action: Value) -> Result<RuleContext, RuleFailure> {
    let r = rule(json!({"actions": [action]}));
    let (ctx, result) = run(&[r]);
    result.map(|_| ctx)
}
