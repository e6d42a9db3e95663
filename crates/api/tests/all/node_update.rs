//! Node updates by JSON patch, and node deletion rules.

use ferric_types::provision::ProvisionState;
use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::{Reply, TestApp};

async fn patch(app: &TestApp, node: &str, ops: Value) -> Reply {
    app.call("PATCH", &format!("/v1/nodes/{node}"), Some(ops))
        .await
}

/// Puts a node straight into a provision state (the conductor's job, later).
async fn force_state(
    app: &TestApp,
    name: &str,
    state: ProvisionState,
    target: Option<ProvisionState>,
) {
    let mut node = app.db.node_get_by_name(name).await.unwrap();
    let before = node.updated_at;
    node.provision_state = state;
    node.target_provision_state = target;
    node.updated_at = Some(ferric_types::Timestamp::now());
    app.db.node_update(&node, before).await.unwrap();
}

both_backends!(patch_semantics, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n", "properties": {"cpus": 4}, "extra": {"a": 1}})).await;
    let r = patch(
        &app,
        "n",
        json!([
            {"op": "replace", "path": "/properties/cpus", "value": 8},
            {"op": "add", "path": "/extra/foo", "value": "bar"},
            {"op": "remove", "path": "/extra/a"},
            {"op": "add", "path": "/driver_info/ipmi_password", "value": "pw"},
            {"op": "replace", "path": "/description", "value": "desc"},
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["properties"]["cpus"], 8);
    assert_eq!(r.body["extra"], json!({"foo": "bar"}));
    assert_eq!(r.body["driver_info"]["ipmi_password"], "******");
    assert!(r.body["updated_at"].is_string());

    let r = patch(
        &app,
        "n",
        json!([{"op": "remove", "path": "/extra"}, {"op": "remove", "path": "/description"}]),
    )
    .await;
    assert_eq!(r.body["extra"], json!({}));
    assert_eq!(r.body["description"], Value::Null);
    let r = patch(&app, "n", json!([])).await;
    assert_eq!(r.status, 200);

    let refused = [
        (json!([{"op": "remove", "path": "/extra/missing"}]), 400, "Couldn't apply patch '{'op': 'remove', 'path': '/extra/missing'}'. Reason: can't remove a non-existent object 'missing'"),
        (json!([{"op": "replace", "path": "/provision_state", "value": "active"}]), 400, ""),
        (json!([{"op": "add", "path": "/traits", "value": []}]), 400, ""),
        (json!([{"op": "replace", "path": "/uuid", "value": "x"}]), 400, ""),
        (json!([{"op": "add", "path": "/bad.path", "value": 1}]), 400, ""),
        (json!([{"op": "move", "path": "/extra/a", "from": "/extra/b"}]), 400, "Schema error for patch: Additional properties are not allowed ('from' was unexpected)"),
        (json!({"op": "replace", "path": "/extra/a", "value": 1}), 400, ""),
        (json!([{"op": "add", "path": "/extra/a"}]), 400, ""),
        (json!([{"op": "replace", "path": "/name", "value": "a b"}]), 400, "Node n: Cannot change name to invalid name 'a b'"),
        (json!([{"op": "replace", "path": "/driver", "value": "nope"}]), 400, ""),
        (json!([{"op": "add", "path": "/protected", "value": true}]), 409, ""),
        (json!([{"op": "add", "path": "/protected_reason", "value": "why"}]), 400, ""),
        (json!([{"op": "replace", "path": "/chassis_uuid", "value": "11111111-2222-3333-4444-555555555555"}]), 400, "Chassis 11111111-2222-3333-4444-555555555555 could not be found."),
        (json!([{"op": "replace", "path": "/boot_interface", "value": "ipmitool"}]), 400, ""),
        (json!([{"op": "replace", "path": "/network_data", "value": {}}]), 406, ""),
    ];
    let before = app.call("GET", "/v1/nodes/n", None).await.body;
    for (ops, status, fault) in refused {
        let r = patch(&app, "n", ops.clone()).await;
        assert_eq!(r.status, status, "{ops}: {}", r.raw);
        if !fault.is_empty() {
            assert_eq!(r.fault(), fault, "{ops}");
        }
    }
    let after = app.call("GET", "/v1/nodes/n", None).await.body;
    assert_eq!(before, after, "refused patches change nothing");
    let r = app
        .call_v(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "add", "path": "/owner", "value": "p"}])),
            Some("1.40"),
        )
        .await;
    assert_eq!(r.status, 406);

    app.node(json!({"driver": "fake-hardware", "name": "other"}))
        .await;
    let r = patch(
        &app,
        "n",
        json!([{"op": "replace", "path": "/name", "value": "other"}]),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.fault(), "A node with name other already exists.");
    let r = patch(&app, "n", json!([{"op": "remove", "path": "/name"}])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], Value::Null);
});

both_backends!(interfaces_and_driver_changes, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = patch(
        &app,
        "n",
        json!([{"op": "replace", "path": "/console_interface", "value": "no-console"}]),
    )
    .await;
    assert_eq!(r.body["console_interface"], "no-console");
    let r = patch(
        &app,
        "n",
        json!([{"op": "remove", "path": "/console_interface"}]),
    )
    .await;
    assert_eq!(
        r.body["console_interface"], "fake",
        "removing an interface restores the default"
    );
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n?reset_interfaces=true",
            Some(json!([{"op": "add", "path": "/extra/x", "value": 1}])),
        )
        .await;
    assert_eq!(r.status, 400, "reset_interfaces needs a driver change");
    patch(
        &app,
        "n",
        json!([{"op": "replace", "path": "/raid_interface", "value": "no-raid"}]),
    )
    .await;
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n?reset_interfaces=true",
            Some(json!([{"op": "replace", "path": "/driver", "value": "fake-hardware"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);

    force_state(&app, "n", ProvisionState::Active, None).await;
    let r = patch(
        &app,
        "n",
        json!([{"op": "replace", "path": "/console_interface", "value": "no-console"}]),
    )
    .await;
    assert_eq!(r.status, 409, "interfaces are fixed while active");
    let r = patch(&app, "n", json!([{"op": "add", "path": "/protected", "value": true}, {"op": "add", "path": "/protected_reason", "value": "prod"}])).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["protected_reason"], "prod");
    let r = app.call("DELETE", "/v1/nodes/n", None).await;
    assert_eq!(r.status, 403);
    let r = patch(
        &app,
        "n",
        json!([{"op": "replace", "path": "/protected", "value": false}]),
    )
    .await;
    assert_eq!(
        r.body["protected_reason"],
        Value::Null,
        "unprotecting clears the reason"
    );

    force_state(
        &app,
        "n",
        ProvisionState::Deploying,
        Some(ProvisionState::Active),
    )
    .await;
    let r = patch(
        &app,
        "n",
        json!([{"op": "add", "path": "/extra/x", "value": 1}]),
    )
    .await;
    assert_eq!(r.status, 409);
    assert!(
        r.fault()
            .contains("while a state transition is in progress"),
        "{}",
        r.fault()
    );
});

both_backends!(
    instance_and_resource_class_rules,
    |app: TestApp| async move {
        app.node(
            json!({"driver": "fake-hardware", "name": "n", "resource_class": "a",
                    "instance_uuid": "11111111-2222-3333-4444-555555555555"}),
        )
        .await;
        let r = patch(&app, "n", json!([{"op": "replace", "path": "/instance_uuid", "value": "22222222-2222-3333-4444-555555555555"}])).await;
        assert_eq!(r.status, 409);
        let r = patch(
            &app,
            "n",
            json!([{"op": "replace", "path": "/resource_class", "value": "b"}]),
        )
        .await;
        assert_eq!(r.status, 200, "enroll allows resource class changes");
        force_state(&app, "n", ProvisionState::Active, None).await;
        let r = patch(
            &app,
            "n",
            json!([{"op": "replace", "path": "/resource_class", "value": "c"}]),
        )
        .await;
        assert_eq!(r.status, 409);
        let r = app.call("DELETE", "/v1/nodes/n", None).await;
        assert_eq!(r.status, 409, "an active node cannot be deleted");
        let r = app
            .call(
                "PUT",
                "/v1/nodes/n/maintenance",
                Some(json!({"reason": "dead"})),
            )
            .await;
        assert_eq!(r.status, 202);
        let r = app.call("DELETE", "/v1/nodes/n", None).await;
        assert_eq!(r.status, 204, "any state may be deleted in maintenance");
    }
);

both_backends!(delete_takes_ports_along, |app: TestApp| async move {
    let n = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let uuid = n["uuid"].as_str().unwrap();
    let pg = app
        .call(
            "POST",
            "/v1/portgroups",
            Some(json!({"node_uuid": uuid, "name": "bond0"})),
        )
        .await;
    assert_eq!(pg.status, 201, "{}", pg.raw);
    let r = app
        .call("POST", "/v1/ports", Some(json!({"node_uuid": uuid, "address": "52:54:00:00:00:01", "portgroup_uuid": pg.body["uuid"]})))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let r = app.call("DELETE", "/v1/nodes/n", None).await;
    assert_eq!(r.status, 204);
    assert_eq!(app.db.port_count(&[]).await.unwrap(), 0);
    let r = app.call("GET", "/v1/portgroups/bond0", None).await;
    assert_eq!(r.status, 404);
    let r = app.call("DELETE", "/v1/nodes/n", None).await;
    assert_eq!(r.status, 404);
    let r = app.call("GET", "/v1/nodes/bad%20name", None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fault(), "Expected UUID or name for node: bad name");
    let r = app
        .call_v("GET", &format!("/v1/nodes/{uuid}"), None, Some("1.4"))
        .await;
    assert_eq!(r.status, 404);
});
