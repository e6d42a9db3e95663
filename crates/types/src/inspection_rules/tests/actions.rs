//! Every action: what it changes, loops, and its failures.

use serde_json::{json, Value};

use super::fixtures::{act, context, node, rule, run, MAC1, PORT0};
use crate::inspection_rules::LogLevel;
use crate::Node;

#[test]
fn fail_stops_with_its_message() {
    let e = act(json!({"op": "fail", "args": {"msg": "too little RAM"}})).unwrap_err();
    assert!(e.by_fail_action);
    assert_eq!(e.at, "action 1 (fail)");
    assert_eq!(e.message, "too little RAM");
    // `msg` is not interpolated outside loops (Ironic's FORMATTED_ARGS).
    let e = act(json!({"op": "fail", "args": {"msg": "{node.driver}"}})).unwrap_err();
    assert_eq!(e.message, "{node.driver}");
}

#[test]
fn log_writes_a_line_at_its_level() {
    let r = rule(json!({"actions": [
        {"op": "log", "args": {"msg": "CPUs: {inventory[cpu][count]}"}},
        {"op": "log", "args": {"msg": "careful", "level": "WARNING"}}
    ]}));
    let applied = run(std::slice::from_ref(&r)).1.unwrap();
    let lines: Vec<_> = applied
        .log
        .iter()
        .filter(|l| l.level != LogLevel::Debug)
        .collect();
    assert!(lines
        .iter()
        .any(|l| l.level == LogLevel::Info && l.message == "CPUs: 4"));
    assert!(lines
        .iter()
        .any(|l| l.level == LogLevel::Warning && l.message == "careful"));
    assert!(lines.iter().all(|l| l.rule == r.uuid));
    // A level only known at run time is checked then.
    let e = act(json!({"op": "log", "args": {"msg": "m", "level": "{item}"}, "loop": ["loud"]}))
        .unwrap_err();
    assert_eq!(
        e.message,
        "Invalid log level: loud. Choose from debug, info, warning, error, critical"
    );
}

#[test]
fn set_attribute_walks_and_creates() {
    let ctx = act(json!({"op": "set-attribute", "args": {"path": "/driver_info/ipmi_address", "value": "{inventory[bmc_address]}"}})).unwrap();
    assert_eq!(ctx.node["driver_info"]["ipmi_address"], "192.168.1.100");
    let ctx = act(json!({"op": "set-attribute", "args": {"path": "driver_info.next.nested.deeper", "value": {"k": "{inventory[cpu][architecture]}"}}})).unwrap();
    assert_eq!(
        ctx.node["driver_info"],
        json!({"next": {"nested": {"deeper": {"k": "x86_64"}}}})
    );
    let ctx = act(json!({"op": "set-attribute", "args": {"path": "/properties/cpus", "value": "{inventory[cpu][count]}"}})).unwrap();
    assert_eq!(ctx.node["properties"]["cpus"], json!(4));
    let ctx =
        act(json!({"op": "set-attribute", "args": {"path": "/driver", "value": "idrac"}})).unwrap();
    assert_eq!(ctx.node["driver"], "idrac");
    // The caller turns the JSON back into a node.
    let back: Node = serde_json::from_value(Value::Object(ctx.node)).unwrap();
    assert_eq!(back.driver, "idrac");
}

#[test]
fn set_attribute_failures() {
    let e = act(json!({"op": "set-attribute", "args": {"path": "driver.some_key", "value": "x"}}))
        .unwrap_err();
    assert_eq!(
        e.message,
        "Failed to set attribute driver.some_key: 'driver' is a str, not a dictionary"
    );
    let e = act(json!({"op": "set-attribute", "args": {"path": "/no_such_field", "value": 1}}))
        .unwrap_err();
    assert!(
        e.message.ends_with("node has no attribute 'no_such_field'"),
        "{}",
        e.message
    );
    let e = act(
        json!({"op": "set-attribute", "args": {"path": "/provision_state", "value": "active"}}),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "node field 'provision_state' cannot be changed by inspection rules"
    );
    let e = act(json!({"op": "set-attribute", "args": {"path": "/traits", "value": ["lower"]}}))
        .unwrap_err();
    assert!(
        e.message.contains("'lower' does not match"),
        "{}",
        e.message
    );
}

#[test]
fn extend_attribute_appends() {
    let ctx =
        act(json!({"op": "extend-attribute", "args": {"path": "/extra/tags", "value": "new_tag"}}))
            .unwrap();
    assert_eq!(ctx.node["extra"]["tags"], json!(["new_tag"]));
    let ctx =
        act(json!({"op": "extend-attribute", "args": {"path": "traits", "value": "CUSTOM_NEW"}}))
            .unwrap();
    assert_eq!(ctx.node["traits"], json!(["CUSTOM_EXISTING", "CUSTOM_NEW"]));
    let ctx = act(json!({"op": "extend-attribute", "args": {"path": "traits", "value": "CUSTOM_EXISTING", "unique": true}})).unwrap();
    assert_eq!(ctx.node["traits"], json!(["CUSTOM_EXISTING"]));
    let e = act(
        json!({"op": "extend-attribute", "args": {"path": "traits", "value": "CUSTOM_EXISTING"}}),
    )
    .unwrap_err();
    assert!(e.message.contains("listed twice"), "{}", e.message);
    let e = act(json!({"op": "extend-attribute", "args": {"path": "driver", "value": "x"}}))
        .unwrap_err();
    assert!(
        e.message
            .starts_with("Failed to extend attribute driver: Cannot extend non-list"),
        "{}",
        e.message
    );
}

#[test]
fn del_attribute_removes() {
    let r = rule(json!({"actions": [
        {"op": "set-attribute", "args": {"path": "/extra/to_delete", "value": 1}},
        {"op": "del-attribute", "args": {"path": "/extra/to_delete"}},
        {"op": "del-attribute", "args": {"path": "/extra/never/there"}},
        {"op": "del-attribute", "args": {"path": "/name"}}
    ]}));
    let (ctx, result) = run(&[r]);
    result.unwrap();
    assert_eq!(ctx.node["extra"], json!({}));
    assert_eq!(ctx.node["name"], Value::Null);
    let e = act(json!({"op": "del-attribute", "args": {"path": "driver.nonexistent_key"}}))
        .unwrap_err();
    assert!(
        e.message
            .starts_with("Failed to delete attribute driver.nonexistent_key"),
        "{}",
        e.message
    );
    let e = act(json!({"op": "del-attribute", "args": {"path": "/bogus"}})).unwrap_err();
    assert!(
        e.message.ends_with("node has no attribute 'bogus'"),
        "{}",
        e.message
    );
}

#[test]
fn capabilities() {
    let ctx = act(json!({"op": "set-capability", "args": {"name": "cpu_arch", "value": "{inventory[cpu][architecture]}"}})).unwrap();
    assert_eq!(
        ctx.node["properties"]["capabilities"],
        "boot_mode:uefi,cpu_arch:x86_64"
    );
    let ctx = act(json!({"op": "set-capability", "args": {"name": "cpus", "value": "{inventory[cpu][count]}"}})).unwrap();
    assert_eq!(
        ctx.node["properties"]["capabilities"],
        "boot_mode:uefi,cpus:4"
    );
    let ctx = act(json!({"op": "unset-capability", "args": {"name": "boot_mode"}})).unwrap();
    assert_eq!(ctx.node["properties"]["capabilities"], "");
    let e =
        act(json!({"op": "set-capability", "args": {"name": "x", "value": {"a": 1}}})).unwrap_err();
    assert!(
        e.message.starts_with("Failed to set capability x"),
        "{}",
        e.message
    );
    let r = rule(json!({"actions": [
        {"op": "set-capability", "args": {"name": "a", "value": "1"}},
        {"op": "set-capability", "args": {"name": "b", "value": "2"}},
        {"op": "unset-capability", "args": {"name": "a"}}
    ]}));
    let (ctx, result) = run(&[r]);
    result.unwrap();
    assert_eq!(ctx.node["properties"]["capabilities"], "boot_mode:uefi,b:2");
}

#[test]
fn traits() {
    let ctx = act(json!({"op": "add-trait", "args": {"name": "CUSTOM_AWESOME_TRAIT"}})).unwrap();
    assert_eq!(
        ctx.node["traits"],
        json!(["CUSTOM_EXISTING", "CUSTOM_AWESOME_TRAIT"])
    );
    let ctx = act(json!({"op": "add-trait", "args": {"name": "CUSTOM_EXISTING"}})).unwrap();
    assert_eq!(ctx.node["traits"], json!(["CUSTOM_EXISTING"]));
    let ctx = act(json!({"op": "remove-trait", "args": {"name": "CUSTOM_EXISTING"}})).unwrap();
    assert_eq!(ctx.node["traits"], json!([]));
    // Removing a trait the node lacks only warns.
    let r = rule(json!({"actions": [{"op": "remove-trait", "args": {"name": "CUSTOM_NOPE"}}]}));
    let applied = run(&[r]).1.unwrap();
    assert!(applied
        .log
        .iter()
        .any(|l| l.level == LogLevel::Warning && l.message.contains("CUSTOM_NOPE")));
    // Trait names computed in a loop are checked at run time.
    let e = act(json!({"op": "add-trait", "args": {"name": "{item}"}, "loop": ["bad-trait"]}))
        .unwrap_err();
    assert!(
        e.message.starts_with("Failed to add new trait bad-trait"),
        "{}",
        e.message
    );
    let many: Vec<Value> = (0..60).map(|i| json!(format!("CUSTOM_T{i}"))).collect();
    let e = act(json!({"op": "add-trait", "args": {"name": "{item}"}, "loop": many})).unwrap_err();
    assert!(e.message.contains("at most 50 traits"), "{}", e.message);
}

#[test]
fn plugin_data() {
    let ctx =
        act(json!({"op": "set-plugin-data", "args": {"path": "test_key", "value": "test_value"}}))
            .unwrap();
    assert_eq!(ctx.plugin_data["test_key"], "test_value");
    let ctx =
        act(json!({"op": "set-plugin-data", "args": {"path": "a.b", "value": "{inventory[cpu]}"}}))
            .unwrap();
    assert_eq!(ctx.plugin_data["a"]["b"]["architecture"], "x86_64");
    let r = rule(json!({"actions": [
        {"op": "extend-plugin-data", "args": {"path": "test_list", "value": "item1"}},
        {"op": "extend-plugin-data", "args": {"path": "test_list", "value": "item2"}},
        {"op": "extend-plugin-data", "args": {"path": "test_list", "value": "item2", "unique": true}},
        {"op": "unset-plugin-data", "args": {"path": "plugin"}},
        {"op": "unset-plugin-data", "args": {"path": "not.there"}}
    ]}));
    let (ctx, result) = run(&[r]);
    let applied = result.unwrap();
    assert_eq!(ctx.plugin_data["test_list"], json!(["item1", "item2"]));
    assert!(!ctx.plugin_data.contains_key("plugin"));
    assert!(applied
        .log
        .iter()
        .any(|l| l.message == "Path not.there not found"));
    let e = act(json!({"op": "extend-plugin-data", "args": {"path": "plugin", "value": 1}}))
        .unwrap_err();
    assert_eq!(
        e.message,
        "Failed to extend plugin data at plugin: cannot extend a str"
    );
    // A named `plugin_data` argument (Ironic's signature has one) is accepted and ignored.
    let ctx =
        act(json!({"op": "set-plugin-data", "args": {"path": "k", "value": 1, "plugin_data": {}}}))
            .unwrap();
    assert_eq!(ctx.plugin_data["k"], 1);
}

#[test]
fn port_attributes_by_uuid_or_mac() {
    let ctx = act(json!({"op": "set-port-attribute", "args": {"port_id": PORT0, "path": "/physical_network", "value": "physnet1"}})).unwrap();
    assert_eq!(ctx.ports[0]["physical_network"], "physnet1");
    let ctx = act(json!({"op": "set-port-attribute", "args": {"port_id": MAC1.to_uppercase(), "path": "extra/switch", "value": "sw1"}})).unwrap();
    assert_eq!(ctx.ports[1]["extra"]["switch"], "sw1");
    let ctx = act(json!({"op": "extend-port-attribute", "args": {"port_id": MAC1, "path": "extra/tags", "value": "b"}})).unwrap();
    assert_eq!(ctx.ports[1]["extra"]["tags"], json!(["a", "b"]));
    let ctx =
        act(json!({"op": "del-port-attribute", "args": {"port_id": MAC1, "path": "extra.tags"}}))
            .unwrap();
    assert_eq!(ctx.ports[1]["extra"], json!({}));
    let e = act(json!({"op": "set-port-attribute", "args": {"port_id": "00:11:22:33:44:55", "path": "extra", "value": {}}})).unwrap_err();
    assert_eq!(e.message, "Port 00:11:22:33:44:55 could not be found.");
    let e = act(json!({"op": "set-port-attribute", "args": {"port_id": PORT0, "path": "/node_uuid", "value": "x"}})).unwrap_err();
    assert_eq!(
        e.message,
        "port field 'node_uuid' cannot be changed by inspection rules"
    );
    let e = act(json!({"op": "extend-port-attribute", "args": {"port_id": PORT0, "path": "physical_network", "value": "x"}})).unwrap_err();
    assert!(
        e.message.starts_with(&format!(
            "Failed to extend attribute physical_network for port {PORT0}"
        )),
        "{}",
        e.message
    );
}

#[test]
fn a_loop_runs_the_action_per_item() {
    // Loop items may hold templates: inside a loop values are formatted twice.
    let ctx = act(json!({
        "op": "set-attribute",
        "args": {"path": "{item[path]}", "value": "{item[value]}"},
        "loop": [
            {"path": "driver_info/ipmi_username", "value": "cidadmin"},
            {"path": "driver_info/ipmi_password", "value": "cidpassword"},
            {"path": "driver_info/ipmi_address", "value": "{inventory[bmc_address]}"}
        ]
    }))
    .unwrap();
    assert_eq!(
        ctx.node["driver_info"],
        json!({"ipmi_username": "cidadmin", "ipmi_password": "cidpassword", "ipmi_address": "192.168.1.100"})
    );
    let ctx = act(json!({
        "op": "set-attribute",
        "args": {"path": "{item[path]}", "value": "{item[value]}"},
        "loop": {"path": "driver_info/ipmi_address", "value": "{inventory[bmc_address]}"}
    }))
    .unwrap();
    assert_eq!(ctx.node["driver_info"]["ipmi_address"], "192.168.1.100");
    // Per-NIC port updates from the inventory.
    let ctx = act(json!({
        "op": "set-port-attribute",
        "args": {"port_id": "{item[mac_address]}", "path": "extra/nic", "value": "{item[name]}"},
        "loop": [
            {"mac_address": "2a:03:9c:53:4e:46", "name": "eth0"},
            {"mac_address": MAC1, "name": "eth1"}
        ]
    }))
    .unwrap();
    assert_eq!(ctx.ports[0]["extra"]["nic"], "eth0");
    assert_eq!(ctx.ports[1]["extra"]["nic"], "eth1");
}

#[test]
fn api_call_is_refused_at_run_time_too() {
    // A stored rule that bypassed validation still cannot call out.
    let mut r = rule(json!({"actions": [{"op": "log", "args": {"msg": "m"}}]}));
    r.actions[0] =
        serde_json::from_value(json!({"op": "api-call", "args": {"url": "http://x"}})).unwrap();
    let e = run(&[r]).1.unwrap_err();
    assert_eq!(e.at, "action 1 (api-call)");
    assert!(e.message.contains("not supported"), "{}", e.message);
}

#[test]
fn the_context_helper_matches_a_real_node() {
    let ctx = context();
    let n: Node = serde_json::from_value(Value::Object(ctx.node)).unwrap();
    assert_eq!(n.traits, node().traits);
}
