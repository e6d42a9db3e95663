//! Deploy templates: CRUD, validation, secret masking, and their steps joining the
//! deploys of nodes with the matching trait.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(templates_crud, |app: TestApp| async move {
    let body = json!({"name": "CUSTOM_RAID1", "steps": [
        {"interface": "raid", "step": "apply_configuration", "args": {"create_root_volume": true}, "priority": 90},
        {"interface": "bios", "step": "apply_configuration", "args": {"settings": [], "admin_password": "pw"}, "priority": 80},
    ]});
    let r = app.call("POST", "/v1/deploy_templates", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["steps"][1]["args"]["admin_password"], "******");
    let r = app.call("GET", "/v1/deploy_templates", None).await;
    let keys: Vec<&str> = r.body["deploy_templates"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["links", "name", "uuid"]);
    let r = app
        .call("GET", "/v1/deploy_templates/CUSTOM_RAID1", None)
        .await;
    assert_eq!(r.body["steps"][0]["priority"], 90);
    let r = app
        .call(
            "PATCH",
            "/v1/deploy_templates/CUSTOM_RAID1",
            Some(json!([{"op": "add", "path": "/extra/team", "value": "a"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    for (body, status) in [
        (
            json!({"name": "CUSTOM_RAID1", "steps": [{"interface": "raid", "step": "x", "args": {}, "priority": 1}]}),
            409,
        ),
        (
            json!({"name": "not-a-trait", "steps": [{"interface": "raid", "step": "x", "args": {}, "priority": 1}]}),
            400,
        ),
        (json!({"name": "CUSTOM_X", "steps": []}), 400),
        (
            json!({"name": "CUSTOM_X", "steps": [{"interface": "raid", "step": "x", "priority": 1}]}),
            400,
        ),
        (
            json!({"name": "CUSTOM_X", "steps": [{"interface": "console", "step": "x", "args": {}, "priority": 1}]}),
            400,
        ),
        (
            json!({"name": "CUSTOM_X", "steps": [
            {"interface": "raid", "step": "x", "args": {}, "priority": 1},
            {"interface": "raid", "step": "x", "args": {}, "priority": 2}]}),
            400,
        ),
        (json!({"name": "CUSTOM_X"}), 400),
    ] {
        let r = app
            .call("POST", "/v1/deploy_templates", Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.raw);
    }
    assert_eq!(
        app.call_v("GET", "/v1/deploy_templates", None, Some("1.54"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.call_v(
            "POST",
            "/v1/deploy_templates",
            Some(json!({})),
            Some("1.54")
        )
        .await
        .status,
        405
    );
    assert_eq!(
        app.call("DELETE", "/v1/deploy_templates/CUSTOM_RAID1", None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.call("GET", "/v1/deploy_templates/CUSTOM_RAID1", None)
            .await
            .status,
        404
    );
});

both_backends!(templates_join_deploys, |app: TestApp| async move {
    let r = app
        .call(
            "POST",
            "/v1/deploy_templates",
            Some(json!({"name": "CUSTOM_RAID1", "steps": [
            {"interface": "raid", "step": "apply_configuration", "args": {}, "priority": 90}]})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .call(
            "POST",
            "/v1/deploy_templates",
            Some(json!({"name": "CUSTOM_BROKEN", "steps": [
            {"interface": "deploy", "step": "no_such_step", "args": {}, "priority": 10}]})),
        )
        .await;
    assert_eq!(r.status, 201);
    app.node(json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_fail_apply_configuration": true}})).await;
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        app.call(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": verb})),
        )
        .await;
        app.settle("n", state).await;
    }
    // Without the trait the template does not apply: the deploy succeeds.
    app.call(
        "PUT",
        "/v1/nodes/n/states/provision",
        Some(json!({"target": "active"})),
    )
    .await;
    app.settle("n", "active").await;
    app.call("PUT", "/v1/nodes/n/traits/CUSTOM_RAID1", None)
        .await;
    app.call(
        "PUT",
        "/v1/nodes/n/states/provision",
        Some(json!({"target": "rebuild"})),
    )
    .await;
    let n = app.settle("n", "deploy failed").await;
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("Deploy step raid.apply_configuration failed"),
        "{n}"
    );
    // A template naming a step the driver lacks refuses the deploy up front.
    app.call("PUT", "/v1/nodes/n/traits/CUSTOM_BROKEN", None)
        .await;
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": "active"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(r.fault().contains("no_such_step"), "{}", r.fault());
});
