//! Every operator, true and false; negation; `multiple` with loops; list-form args;
//! run-time errors.

use serde_json::json;

use super::fixtures::{condition_error, holds};

#[test]
fn eq_lt_gt_chain_over_values() {
    assert!(holds(json!({"op": "eq", "args": {"values": [5, 5, 5.0]}})));
    assert!(!holds(json!({"op": "eq", "args": {"values": [5, 10]}})));
    assert!(holds(json!({"op": "lt", "args": {"values": [1, 5, 10]}})));
    assert!(!holds(json!({"op": "lt", "args": {"values": [10, 5]}})));
    assert!(holds(json!({"op": "gt", "args": {"values": [10, 5]}})));
    assert!(!holds(json!({"op": "gt", "args": {"values": [5, 5]}})));
    assert!(holds(json!({"op": "eq", "args": {"values": []}})));
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{node.driver}", "fake-hardware"]}})
    ));
    assert!(!holds(
        json!({"op": "eq", "args": {"values": ["{node.driver}", "other"]}})
    ));
    // A whole reference keeps its JSON type, so numbers compare as numbers.
    assert!(holds(
        json!({"op": "gt", "args": {"values": ["{inventory[memory][physical_mb]}", 4096]}})
    ));
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", 4]}})
    ));
    // force_strings compares text.
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", "4"], "force_strings": true}})
    ));
    // A rule written for Ironic, where references are text, still holds.
    assert!(holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", "4"]}})
    ));
    assert!(holds(
        json!({"op": "gt", "args": {"values": ["{inventory[memory][physical_mb]}", "4096"]}})
    ));
    assert!(holds(
        json!({"op": "one-of", "args": {"value": "{inventory[cpu][count]}", "values": ["2", "4"]}})
    ));
    assert!(!holds(
        json!({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", "four"]}})
    ));
}

#[test]
fn comparisons_of_unlike_types_fail_the_rule() {
    let e = condition_error(json!({"op": "lt", "args": {"values": ["a", 1]}}));
    assert_eq!(e.at, "condition 1 (lt)");
    assert_eq!(
        e.message,
        "'<' not supported between instances of 'str' and 'int'"
    );
    let e =
        condition_error(json!({"op": "gt", "args": {"values": ["{inventory[bmc_address]}", 1]}}));
    assert_eq!(
        e.message,
        "'>' not supported between instances of 'str' and 'int'"
    );
    let e = condition_error(json!({"op": "eq", "args": {"values": "{inventory[bmc_address]}"}}));
    assert!(
        e.message.contains("Expected list for 'values', got: str"),
        "{}",
        e.message
    );
}

#[test]
fn is_empty() {
    assert!(holds(json!({"op": "is-empty", "args": {"value": ""}})));
    assert!(holds(json!({"op": "is-empty", "args": {"value": null}})));
    assert!(holds(json!({"op": "is-empty", "args": {"value": []}})));
    assert!(holds(json!({"op": "is-empty", "args": {"value": {}}})));
    assert!(holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[empty_field]}"}})
    ));
    assert!(holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[i.do.not.exist]}"}})
    ));
    assert!(!holds(
        json!({"op": "is-empty", "args": {"value": "{inventory[bmc_address]}"}})
    ));
    assert!(!holds(
        json!({"op": "is-empty", "args": {"value": "not empty"}})
    ));
    assert!(!holds(json!({"op": "is-empty", "args": {"value": 0}})));
}

#[test]
fn in_net() {
    assert!(holds(
        json!({"op": "in-net", "args": {"address": "192.168.1.5", "subnet": "192.168.1.0/24"}})
    ));
    assert!(!holds(
        json!({"op": "in-net", "args": {"address": "10.0.0.1", "subnet": "192.168.1.0/24"}})
    ));
    assert!(holds(
        json!({"op": "in-net", "args": {"address": "{inventory[bmc_address]}", "subnet": "192.168.0.0/16"}})
    ));
    assert!(holds(
        json!({"op": "in-net", "args": {"address": "fe80::1", "subnet": "fe80::/10"}})
    ));
    let e = condition_error(
        json!({"op": "in-net", "args": {"address": "{node.name}x", "subnet": "10.0.0.0/8"}}),
    );
    assert!(e.message.contains("valid IP address"), "{}", e.message);
    let e = condition_error(
        json!({"op": "in-net", "args": {"address": "10.0.0.1", "subnet": "{inventory[bmc_address]}/99"}}),
    );
    assert!(e.message.starts_with("invalid value:"), "{}", e.message);
}

#[test]
fn matches_is_anchored_and_contains_searches() {
    assert!(holds(
        json!({"op": "matches", "args": {"value": "abc123", "regex": "abc\\d+"}})
    ));
    assert!(!holds(
        json!({"op": "matches", "args": {"value": "xyz123", "regex": "abc\\d+"}})
    ));
    assert!(!holds(
        json!({"op": "matches", "args": {"value": "abc123x", "regex": "abc\\d+"}})
    ));
    assert!(!holds(
        json!({"op": "matches", "args": {"value": "xabc123", "regex": "abc\\d+"}})
    ));
    assert!(holds(
        json!({"op": "matches", "args": {"value": "abc", "regex": "abc$"}})
    ));
    assert!(holds(
        json!({"op": "contains", "args": {"value": "test-abc123-end", "regex": "abc\\d+"}})
    ));
    assert!(!holds(
        json!({"op": "contains", "args": {"value": "test-xyz-end", "regex": "abc\\d+"}})
    ));
    assert!(holds(
        json!({"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "(?i)dell"}})
    ));
    // Non-strings are matched as Python's str() of them.
    assert!(holds(
        json!({"op": "matches", "args": {"value": "{inventory[cpu][count]}", "regex": "[0-9]+"}})
    ));
    assert!(holds(
        json!({"op": "contains", "args": {"value": "{inventory[disks]}", "regex": "'model': 'test-disk-2'"}})
    ));
}

#[test]
fn a_regex_from_a_loop_is_checked_at_run_time() {
    let e = condition_error(
        json!({"op": "contains", "args": {"value": "x", "regex": "{item}"}, "loop": ["[unclosed"]}),
    );
    assert!(
        e.message.starts_with("invalid regular expression"),
        "{}",
        e.message
    );
}

#[test]
fn one_of() {
    assert!(holds(
        json!({"op": "one-of", "args": {"value": "b", "values": ["a", "b", "c"]}})
    ));
    assert!(!holds(
        json!({"op": "one-of", "args": {"value": "z", "values": ["a", "b", "c"]}})
    ));
    assert!(!holds(json!({"op": "one-of", "args": {"value": "test"}})));
    assert!(!holds(
        json!({"op": "one-of", "args": {"value": null, "values": ["a", "b"]}})
    ));
    assert!(holds(
        json!({"op": "one-of", "args": {"value": "{inventory[cpu][architecture]}", "values": ["x86_64", "aarch64"]}})
    ));
    let e = condition_error(json!({"op": "one-of", "args": {"value": "a", "values": 5}}));
    assert_eq!(e.message, "argument of type 'int' is not iterable");
}

#[test]
fn is_none_is_true_is_false() {
    assert!(holds(json!({"op": "is-none", "args": {"value": null}})));
    assert!(!holds(
        json!({"op": "is-none", "args": {"value": "something"}})
    ));
    assert!(holds(
        json!({"op": "is-none", "args": {"value": "{node.instance_uuid}"}})
    ));
    for v in [
        json!(true),
        json!("yes"),
        json!("TRUE"),
        json!(1),
        json!(0.1),
        json!("{plugin_data[auto_discovered]}"),
    ] {
        assert!(holds(json!({"op": "is-true", "args": {"value": v}})), "{v}");
    }
    for v in [
        json!(false),
        json!("no"),
        json!(0),
        json!(null),
        json!({}),
        json!([]),
        json!("maybe"),
    ] {
        assert!(
            !holds(json!({"op": "is-true", "args": {"value": v}})),
            "{v}"
        );
    }
    for v in [
        json!(false),
        json!("no"),
        json!("FALSE"),
        json!(0),
        json!(null),
    ] {
        assert!(
            holds(json!({"op": "is-false", "args": {"value": v}})),
            "{v}"
        );
    }
    for v in [
        json!(true),
        json!("yes"),
        json!(1),
        json!({}),
        json!("maybe"),
    ] {
        assert!(
            !holds(json!({"op": "is-false", "args": {"value": v}})),
            "{v}"
        );
    }
}

#[test]
fn a_bang_negates_every_operator() {
    let cases = [
        json!({"op": "eq", "args": {"values": [1, 1]}}),
        json!({"op": "lt", "args": {"values": [1, 2]}}),
        json!({"op": "gt", "args": {"values": [2, 1]}}),
        json!({"op": "is-empty", "args": {"value": ""}}),
        json!({"op": "in-net", "args": {"address": "10.0.0.1", "subnet": "10.0.0.0/8"}}),
        json!({"op": "matches", "args": {"value": "abc", "regex": "a.c"}}),
        json!({"op": "contains", "args": {"value": "abc", "regex": "b"}}),
        json!({"op": "one-of", "args": {"value": 1, "values": [1]}}),
        json!({"op": "is-none", "args": {"value": null}}),
        json!({"op": "is-true", "args": {"value": true}}),
        json!({"op": "is-false", "args": {"value": false}}),
    ];
    for mut c in cases {
        assert!(holds(c.clone()), "{c}");
        let op = c["op"].as_str().unwrap().to_string();
        c["op"] = json!(format!("!{op}"));
        assert!(!holds(c.clone()), "{c}");
    }
}

#[test]
fn multiple_combines_loop_results() {
    let eq = |multiple: &str| json!({"op": "eq", "args": {"values": [1, "{item}"]}, "loop": [1, 2, 3, 4], "multiple": multiple});
    assert!(holds(eq("any")));
    assert!(!holds(eq("all")));
    assert!(holds(eq("first")));
    assert!(!holds(eq("last")));
    let eq = |multiple: &str| json!({"op": "eq", "args": {"values": [4, "{item}"]}, "loop": [1, 2, 3, 4], "multiple": multiple});
    assert!(holds(eq("any")));
    assert!(!holds(eq("first")));
    assert!(holds(eq("last")));
    // Without `multiple`, any.
    assert!(holds(
        json!({"op": "eq", "args": {"values": [3, "{item}"]}, "loop": [1, 2, 3]})
    ));
    let all = json!({"op": "contains", "args": {"value": "{item}", "regex": "^test"}, "loop": ["test1", "test2"], "multiple": "all"});
    assert!(holds(all));
    let oneof = |multiple: &str| {
        json!({
            "op": "one-of",
            "args": {"value": "{inventory[cpu][architecture]}", "values": ["{item}"]},
            "loop": ["x86_64", "aarch64", "ppc64le"],
            "multiple": multiple
        })
    };
    assert!(holds(oneof("any")));
    assert!(!holds(oneof("all")));
    assert!(holds(oneof("first")));
    assert!(!holds(oneof("last")));
}

#[test]
fn loops_over_maps_and_inventory_items() {
    let dict_loop = json!({"op": "eq", "args": {"values": ["{item[a]}", "1"]}, "loop": {"a": 1}, "multiple": "last"});
    assert!(holds(dict_loop));
    let nics = json!({
        "op": "in-net",
        "args": {"address": "{item}", "subnet": "10.0.0.0/8"},
        "loop": ["{inventory[interfaces][0][ipv4_address]}", "{inventory[interfaces][1][ipv4_address]}"]
    });
    assert!(holds(nics.clone()));
    let mut all = nics;
    all["multiple"] = json!("all");
    assert!(!holds(all));
    // A negated loop negates each check, then combines.
    let neg = json!({"op": "!eq", "args": {"values": ["{item}", "b"]}, "loop": ["a", "b"], "multiple": "all"});
    assert!(!holds(neg));
}

#[test]
fn deprecated_list_args_still_work() {
    assert!(holds(
        json!({"op": "contains", "args": ["testvalue", "test"]})
    ));
    assert!(holds(json!({"op": "eq", "args": [[5, 5]]})));
    assert!(holds(json!({"op": "one-of", "args": ["b", ["a", "b"]]})));
    assert!(!holds(
        json!({"op": "!in-net", "args": ["10.1.2.3", "10.0.0.0/8"]})
    ));
}

#[test]
fn conditions_stop_at_the_first_false_one() {
    // The second condition would fail the inspection, but is never reached.
    let r = super::fixtures::rule(json!({
        "conditions": [
            {"op": "eq", "args": {"values": [1, 2]}},
            {"op": "lt", "args": {"values": ["a", 1]}}
        ],
        "actions": [{"op": "fail", "args": {"msg": "unreachable"}}]
    }));
    let applied = super::fixtures::run(&[r]).1.unwrap();
    assert!(applied.matched.is_empty());
    assert!(applied
        .log
        .iter()
        .any(|l| l.message == "skipped: condition 1 (eq) did not hold"));
}
