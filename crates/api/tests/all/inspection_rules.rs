//! Inspection rules (API 1.96): the version gate, CRUD, validation errors that name
//! the bad condition or action, sensitive rules, and the system-only policy.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

fn rule() -> Value {
    json!({
        "description": "big memory",
        "priority": 50,
        "conditions": [{"op": "gt", "args": {"values": ["{inventory[memory][physical_mb]}", 1024]}}],
        "actions": [{"op": "add-trait", "args": {"name": "CUSTOM_BIG"}}],
    })
}

both_backends!(rules_crud_and_validation, |app: TestApp| async move {
    let r = app
        .call_v("GET", "/v1/inspection_rules", None, Some("1.95"))
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let r = app
        .call_v("POST", "/v1/inspection_rules", Some(rule()), Some("1.95"))
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);

    let r = app
        .call_v("POST", "/v1/inspection_rules", Some(rule()), Some("1.96"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["uuid"].as_str().unwrap().to_string();
    assert_eq!(r.body["phase"], "main");
    assert_eq!(r.body["actions"][0]["op"], "add-trait");
    assert!(r.header("location").unwrap().ends_with(&id));

    let list = app
        .call_v("GET", "/v1/inspection_rules", None, Some("1.96"))
        .await;
    let first = list.body["inspection_rules"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["description", "links", "phase", "priority", "uuid"]);

    for (bad, names) in [
        (
            json!({"actions": [{"op": "frobnicate", "args": {}}]}),
            "action 1",
        ),
        (
            json!({"conditions": [{"op": "eqq", "args": {"values": [1, 1]}}],
                "actions": [{"op": "fail", "args": {"msg": "x"}}]}),
            "condition 1",
        ),
        (
            json!({"actions": [{"op": "fail", "args": {"msg": "x"}},
                            {"op": "set-attribute", "args": {"path": "/extra/x"}}]}),
            "action 2",
        ),
        (json!({"actions": []}), "actions"),
        (
            json!({"priority": 10000, "actions": [{"op": "fail", "args": {"msg": "x"}}]}),
            "priority",
        ),
        (
            json!({"phase": "late", "actions": [{"op": "fail", "args": {"msg": "x"}}]}),
            "phase",
        ),
    ] {
        let r = app
            .call_v(
                "POST",
                "/v1/inspection_rules",
                Some(bad.clone()),
                Some("1.96"),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
        assert!(
            r.fault().to_lowercase().contains(names),
            "{names}: {}",
            r.fault()
        );
    }

    let r = app
        .call_v(
            "PATCH",
            &format!("/v1/inspection_rules/{id}"),
            Some(json!([{"op": "replace", "path": "/priority", "value": 70}])),
            Some("1.96"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["priority"], 70);
    let r = app
        .call_v(
            "PATCH",
            &format!("/v1/inspection_rules/{id}"),
            Some(json!([{"op": "replace", "path": "/actions/0/op", "value": "nope"}])),
            Some("1.96"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(r.fault().contains("action 1"), "{}", r.fault());

    // A sensitive rule never shows what it does, and stays sensitive.
    let mut secret = rule();
    secret["sensitive"] = json!(true);
    let r = app
        .call_v("POST", "/v1/inspection_rules", Some(secret), Some("1.96"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["conditions"], Value::Null);
    assert_eq!(r.body["actions"], Value::Null);
    let secret_id = r.body["uuid"].as_str().unwrap().to_string();
    let r = app
        .call_v(
            "PATCH",
            &format!("/v1/inspection_rules/{secret_id}"),
            Some(json!([{"op": "replace", "path": "/sensitive", "value": false}])),
            Some("1.96"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);

    let r = app
        .call_v(
            "DELETE",
            &format!("/v1/inspection_rules/{id}"),
            None,
            Some("1.96"),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call_v(
            "GET",
            &format!("/v1/inspection_rules/{id}"),
            None,
            Some("1.96"),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .call_v("DELETE", "/v1/inspection_rules", None, Some("1.96"))
        .await;
    assert_eq!(r.status, 204);
    let list = app
        .call_v("GET", "/v1/inspection_rules", None, Some("1.96"))
        .await;
    assert_eq!(list.body["inspection_rules"], json!([]));
});

both_backends!(
    patch_paths_take_escapes_from_1_98,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let patch = json!([{"op": "add", "path": "/extra/rack~1row~0a", "value": 1}]);
        let r = app
            .call_v("PATCH", "/v1/nodes/n", Some(patch.clone()), Some("1.97"))
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let r = app
            .call_v("PATCH", "/v1/nodes/n", Some(patch), Some("1.98"))
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.body["extra"]["rack/row~a"], 1, "{}", r.raw);
    }
);
