//! Runbooks (API 1.92, traits 1.112): version gates, validation, ownership, the
//! traits sub-resource, and a manual clean run from a runbook on fake hardware.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::{TestApp, PASSWORD};

fn body(name: &str) -> Value {
    json!({"name": name, "steps": [
        {"interface": "deploy", "step": "erase_devices", "args": {}, "order": 2},
        {"interface": "bios", "step": "apply_configuration",
         "args": {"settings": [], "admin_password": "pw"}, "order": "1"},
    ]})
}

both_backends!(runbook_versions_and_crud, |app: TestApp| async move {
    // Below 1.92 there are no runbooks: 404 for GET, 405 for the rest.
    let r = app.call_v("GET", "/v1/runbooks", None, Some("1.91")).await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let r = app
        .call_v("POST", "/v1/runbooks", Some(body("CUSTOM_A")), Some("1.91"))
        .await;
    assert_eq!(r.status, 405, "{}", r.raw);

    let r = app
        .call_v("POST", "/v1/runbooks", Some(body("CUSTOM_A")), Some("1.92"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with(r.body["uuid"].as_str().unwrap()));
    assert_eq!(r.body["steps"][1]["args"]["admin_password"], "******");
    assert!(r.body.get("traits").is_none(), "traits are 1.112");
    assert_eq!(r.body["steps"][1]["order"], 1, "a digit string is an order");
    // 1.92 names are traits; 1.112 names are any unreserved string.
    let r = app
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(body("my-runbook")),
            Some("1.92"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = app
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(body("my-runbook")),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["traits"], json!([]));
    let r = app
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(body("bad name")),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);

    let list = app.call_v("GET", "/v1/runbooks", None, Some("1.112")).await;
    let first = list.body["runbooks"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["links", "name", "uuid"]);
    let detail = app
        .call_v("GET", "/v1/runbooks?detail=true", None, Some("1.112"))
        .await;
    assert_eq!(detail.body["runbooks"].as_array().unwrap().len(), 2);
    assert!(detail.body["runbooks"][0]["steps"].is_array());

    for (bad, why) in [
        (json!({"name": "CUSTOM_B", "steps": []}), "no steps"),
        (json!({"name": "CUSTOM_B"}), "steps missing"),
        (
            json!({"name": "CUSTOM_B", "steps": [{"interface": "deploy", "step": "x"}]}),
            "no order",
        ),
        (
            json!({"name": "CUSTOM_B", "steps": [{"interface": "console", "step": "x", "order": 1}]}),
            "interface",
        ),
        (
            json!({"name": "CUSTOM_B", "steps": [{"interface": "deploy", "step": "x", "order": -1}]}),
            "order",
        ),
        (
            json!({"name": "CUSTOM_B", "steps": [{"interface": "deploy", "step": "x", "order": 1, "priority": 1}]}),
            "priority",
        ),
        (
            json!({"name": "CUSTOM_B", "steps": [
            {"interface": "deploy", "step": "x", "order": 1},
            {"interface": "deploy", "step": "x", "order": 2}]}),
            "duplicate",
        ),
        (
            json!({"name": "CUSTOM_B", "steps": [{"interface": "deploy", "step": "x", "order": 1}], "traits": ["CUSTOM_X"]}),
            "traits in POST",
        ),
        (
            json!({"name": "CUSTOM_B", "public": true, "owner": "p1", "steps": [{"interface": "deploy", "step": "x", "order": 1}]}),
            "public with owner",
        ),
    ] {
        let r = app
            .call_v("POST", "/v1/runbooks", Some(bad), Some("1.112"))
            .await;
        assert_eq!(r.status, 400, "{why}: {}", r.raw);
    }
    let r = app
        .call_v("POST", "/v1/runbooks", Some(body("CUSTOM_A")), Some("1.92"))
        .await;
    assert_eq!(r.status, 409, "{}", r.raw);
    let r = app
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "CUSTOM_D", "description": "x",
            "steps": [{"interface": "deploy", "step": "x", "order": 1}]})),
            Some("1.111"),
        )
        .await;
    assert_eq!(r.status, 406, "description is 1.112: {}", r.raw);

    let r = app
        .call_v(
            "PATCH",
            "/v1/runbooks/CUSTOM_A",
            Some(json!([{"op": "add", "path": "/extra/team", "value": "a"},
                        {"op": "replace", "path": "/description", "value": "wipe"}])),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["extra"]["team"], "a");
    assert_eq!(r.body["description"], "wipe");
    let r = app
        .call_v(
            "PATCH",
            "/v1/runbooks/CUSTOM_A",
            Some(json!([{"op": "replace", "path": "/steps", "value": []}])),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);

    // Traits (1.112): replace, add one, remove one, remove all.
    let r = app
        .call_v("GET", "/v1/runbooks/CUSTOM_A/traits", None, Some("1.111"))
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/runbooks/CUSTOM_A/traits",
            Some(json!({"traits": ["CUSTOM_GPU", "CUSTOM_GPU", "CUSTOM_NVME"]})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/runbooks/CUSTOM_A/traits/CUSTOM_FPGA",
            None,
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with("/traits/CUSTOM_FPGA"));
    let r = app
        .call_v(
            "PUT",
            "/v1/runbooks/CUSTOM_A/traits/not-a-trait",
            None,
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = app
        .call_v(
            "DELETE",
            "/v1/runbooks/CUSTOM_A/traits/CUSTOM_NONE",
            None,
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204, "a missing trait is no error: {}", r.raw);
    let r = app
        .call_v(
            "DELETE",
            "/v1/runbooks/CUSTOM_A/traits/CUSTOM_NVME",
            None,
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call_v("GET", "/v1/runbooks/CUSTOM_A/traits", None, Some("1.112"))
        .await;
    assert_eq!(r.body, json!({"traits": ["CUSTOM_GPU", "CUSTOM_FPGA"]}));
    let r = app
        .call_v(
            "DELETE",
            "/v1/runbooks/CUSTOM_A/traits",
            None,
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call_v("GET", "/v1/runbooks/CUSTOM_A", None, Some("1.112"))
        .await;
    assert_eq!(r.body["traits"], json!([]));

    let r = app
        .call_v("DELETE", "/v1/runbooks/CUSTOM_A", None, Some("1.92"))
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call_v("GET", "/v1/runbooks/CUSTOM_A", None, Some("1.92"))
        .await;
    assert_eq!(r.status, 404);
});

both_backends!(runbook_ownership, |app: TestApp| async move {
    let app = app.with_users(&[
        ("mgr", "project=p1:roles=manager"),
        ("other", "project=p2:roles=manager"),
        ("reader", "project=p2:roles=reader"),
    ]);
    let admin = app.as_user("admin", PASSWORD);
    let mgr = app.as_user("mgr", PASSWORD);
    let other = app.as_user("other", PASSWORD);
    let reader = app.as_user("reader", PASSWORD);
    let steps = json!([{"interface": "deploy", "step": "erase_devices", "order": 1}]);

    let r = mgr
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "mine", "steps": steps})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["owner"], "p1", "a project's runbook is its own");
    let r = mgr
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "theirs", "owner": "p2", "steps": steps})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = mgr
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "pub", "public": true, "steps": steps})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = admin
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "shared", "public": true, "steps": steps})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);

    // p2 sees the public one but not p1's.
    let r = other
        .call_v("GET", "/v1/runbooks", None, Some("1.112"))
        .await;
    let names: Vec<&str> = r.body["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shared"], "{}", r.raw);
    let r = other
        .call_v("GET", "/v1/runbooks/mine", None, Some("1.112"))
        .await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = reader
        .call_v("GET", "/v1/runbooks/shared", None, Some("1.112"))
        .await;
    assert_eq!(r.status, 200, "public runbooks are readable: {}", r.raw);
    let r = other
        .call_v("DELETE", "/v1/runbooks/mine", None, Some("1.112"))
        .await;
    assert_eq!(r.status, 403, "{}", r.raw);
    // Only the system hands a runbook to another owner.
    let r = mgr
        .call_v(
            "PATCH",
            "/v1/runbooks/mine",
            Some(json!([{"op": "replace", "path": "/owner", "value": "p2"}])),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = admin
        .call_v(
            "PATCH",
            "/v1/runbooks/mine",
            Some(json!([{"op": "replace", "path": "/public", "value": true}])),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["owner"],
        Value::Null,
        "a public runbook has no owner"
    );
});

both_backends!(runbook_runs_a_manual_clean, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_clean_delay": 0.2}}),
    )
    .await;
    app.provision("n", "manage").await;
    app.settle("n", "manageable").await;
    let r = app
        .call_v(
            "POST",
            "/v1/runbooks",
            Some(json!({"name": "CUSTOM_WIPE", "steps": [
                {"interface": "deploy", "step": "erase_devices", "order": 2},
                {"interface": "bios", "step": "apply_configuration",
                 "args": {"settings": [{"name": "x", "value": "y"}]}, "order": 1},
            ]})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let clean = |v: &'static str, extra: Value| {
        let app = app.clone();
        async move {
            let mut body = json!({"target": "clean", "runbook": "CUSTOM_WIPE"});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            app.call_v("PUT", "/v1/nodes/n/states/provision", Some(body), Some(v))
                .await
        }
    };
    let r = clean("1.91", json!({})).await;
    assert_eq!(r.status, 406, "{}", r.raw);
    // 1.112: the runbook has no traits yet; below, the name must be a node trait.
    let r = clean("1.112", json!({})).await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(r.fault().contains("has no traits"), "{}", r.raw);
    let r = clean("1.92", json!({})).await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(r.fault().contains("not been approved"), "{}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/runbooks/CUSTOM_WIPE/traits",
            Some(json!({"traits": ["CUSTOM_LAB"]})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = clean("1.112", json!({})).await;
    assert_eq!(r.status, 400, "the node lacks CUSTOM_LAB: {}", r.raw);
    let r = app.call("PUT", "/v1/nodes/n/traits/CUSTOM_LAB", None).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = clean(
        "1.112",
        json!({"clean_steps": [{"interface": "deploy", "step": "erase_devices"}]}),
    )
    .await;
    assert_eq!(r.status, 400, "steps and a runbook: {}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": "provide", "runbook": "CUSTOM_WIPE"})),
            Some("1.112"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let n = app.call("GET", "/v1/nodes/n", None).await.body;
    assert_eq!(
        n["provision_state"], "manageable",
        "refusals change nothing"
    );

    let r = clean("1.112", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    tokio::time::sleep(Duration::from_millis(80)).await;
    let during = app.call("GET", "/v1/nodes/n", None).await.body;
    assert_eq!(
        during["clean_step"]["step"], "apply_configuration",
        "order 1 runs first"
    );
    app.settle("n", "manageable").await;
});
