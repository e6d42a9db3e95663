//! Allocations: picking and reserving a matching available node, refusals, backfill,
//! and freeing the node again.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

/// Creates an available node (enroll → manage → provide).
async fn available(app: &TestApp, name: &str, class: &str, traits: &[&str]) -> String {
    let n = app
        .node(json!({"driver": "fake-hardware", "name": name, "resource_class": class}))
        .await;
    if !traits.is_empty() {
        let r = app
            .call(
                "PUT",
                &format!("/v1/nodes/{name}/traits"),
                Some(json!({"traits": traits})),
            )
            .await;
        assert_eq!(r.status, 204);
    }
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        let r = app
            .call(
                "PUT",
                &format!("/v1/nodes/{name}/states/provision"),
                Some(json!({"target": verb})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        settle(app, &format!("/v1/nodes/{name}"), "provision_state", state).await;
    }
    n["uuid"].as_str().unwrap().to_string()
}

/// Polls `path` until `field` is `want` (and no lock is held).
async fn settle(app: &TestApp, path: &str, field: &str, want: &str) -> Value {
    for _ in 0..500 {
        let r = app.call("GET", path, None).await;
        if r.body[field] == want && r.body["reservation"].is_null() {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path}: {field} never became {want}");
}

both_backends!(allocation_lifecycle, |app: TestApp| async move {
    let gold = available(&app, "gold-1", "gold", &["CUSTOM_GPU"]).await;
    available(&app, "gold-2", "gold", &[]).await;
    available(&app, "silver-1", "silver", &[]).await;

    let r = app
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "gold", "traits": ["CUSTOM_GPU"], "name": "a1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["state"], "allocating");
    let a = settle(&app, "/v1/allocations/a1", "state", "active").await;
    assert_eq!(a["node_uuid"], gold.as_str(), "only gold-1 has the trait");
    let node = app.call("GET", "/v1/nodes/gold-1", None).await.body;
    assert_eq!(node["instance_uuid"], a["uuid"]);
    assert_eq!(node["allocation_uuid"], a["uuid"]);
    let r = app.call("GET", "/v1/nodes/gold-1/allocation", None).await;
    assert_eq!(r.body["name"], "a1");

    // Nothing else has the trait: the next one fails with a reason.
    let r = app
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "gold", "traits": ["CUSTOM_GPU"], "name": "a2"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let a2 = settle(&app, "/v1/allocations/a2", "state", "error").await;
    assert!(
        a2["last_error"]
            .as_str()
            .unwrap()
            .contains("No available node"),
        "{a2}"
    );

    let r = app.call("GET", "/v1/allocations?state=active", None).await;
    assert_eq!(r.body["allocations"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["allocations"][0]["resource_class"], "gold",
        "lists show whole allocations"
    );
    let r = app.call("GET", "/v1/allocations?node=gold-1", None).await;
    assert_eq!(r.body["allocations"][0]["name"], "a1");
    let r = app
        .call(
            "PATCH",
            "/v1/allocations/a1",
            Some(json!([{"op": "add", "path": "/extra/owner", "value": "team"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = app
        .call(
            "PATCH",
            "/v1/allocations/a1",
            Some(json!([{"op": "replace", "path": "/resource_class", "value": "x"}])),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = app.call("DELETE", "/v1/allocations/a1", None).await;
    assert_eq!(r.status, 204);
    let node = app.call("GET", "/v1/nodes/gold-1", None).await.body;
    assert_eq!(node["instance_uuid"], Value::Null);
    assert_eq!(node["allocation_uuid"], Value::Null);
    assert_eq!(
        app.call("GET", "/v1/nodes/gold-1/allocation", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.call("DELETE", "/v1/allocations/a2", None).await.status,
        204
    );
});

both_backends!(allocations_never_share_a_node, |app: TestApp| async move {
    for i in 0..4 {
        available(&app, &format!("n{i}"), "pool", &[]).await;
    }
    let mut names = Vec::new();
    for i in 0..5 {
        let r = app
            .call(
                "POST",
                "/v1/allocations",
                Some(json!({"resource_class": "pool", "name": format!("p{i}")})),
            )
            .await;
        assert_eq!(r.status, 201);
        names.push(format!("p{i}"));
    }
    let mut nodes = Vec::new();
    let mut errors = 0;
    for name in &names {
        let path = format!("/v1/allocations/{name}");
        let mut a = Value::Null;
        for _ in 0..500 {
            a = app.call("GET", &path, None).await.body;
            if a["state"] != "allocating" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match a["state"].as_str() {
            Some("active") => nodes.push(a["node_uuid"].as_str().unwrap().to_string()),
            Some("error") => errors += 1,
            other => panic!("{name}: {other:?}"),
        }
    }
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 4, "four nodes, four distinct owners");
    assert_eq!(errors, 1);
});

both_backends!(
    allocation_refusals_and_backfill,
    |app: TestApp| async move {
        let uuid = available(&app, "n", "gold", &[]).await;
        for (body, status) in [
            (json!({}), 400),
            (json!({"resource_class": "gold", "bogus": 1}), 400),
            (
                json!({"resource_class": "gold", "traits": ["bad-trait"]}),
                400,
            ),
            (
                json!({"resource_class": "gold", "candidate_nodes": ["no-such-node"]}),
                400,
            ),
            (json!({"resource_class": "gold", "name": "bad name"}), 400),
            (json!({"resource_class": "gold", "node": "n"}), 400),
        ] {
            let r = app
                .call("POST", "/v1/allocations", Some(body.clone()))
                .await;
            assert_eq!(r.status, status, "{body}: {}", r.raw);
        }
        assert_eq!(
            app.call_v("GET", "/v1/allocations", None, Some("1.51"))
                .await
                .status,
            404
        );

        // Deploy the node without an allocation, then backfill one.
        let r = app
            .call(
                "PUT",
                "/v1/nodes/n/states/provision",
                Some(json!({"target": "active"})),
            )
            .await;
        assert_eq!(r.status, 202);
        settle(&app, "/v1/nodes/n", "provision_state", "active").await;
        let r = app
            .call(
                "POST",
                "/v1/allocations",
                Some(json!({"node": "n", "name": "back"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["state"], "active");
        assert_eq!(r.body["node_uuid"], uuid.as_str());
        let node = app.call("GET", "/v1/nodes/n", None).await.body;
        assert_eq!(node["instance_uuid"], r.body["uuid"]);
        let r = app.call("DELETE", "/v1/allocations/back", None).await;
        assert_eq!(r.status, 409, "the node is active");
        let r = app.call("PUT", "/v1/nodes/n/maintenance", None).await;
        assert_eq!(r.status, 202);
        let r = app
            .call(
                "PATCH",
                "/v1/nodes/n",
                Some(json!([{"op": "remove", "path": "/instance_uuid"}])),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.body["allocation_uuid"], Value::Null);
        assert_eq!(
            app.call("GET", "/v1/allocations/back", None).await.status,
            404,
            "removing the instance ends the allocation"
        );
    }
);
