//! Chassis: create, list, show, patch, delete, and the nodes of a chassis.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(chassis_lifecycle, |app: TestApp| async move {
    let r = app
        .call(
            "POST",
            "/v1/chassis",
            Some(json!({"description": "rack 1", "extra": {"row": 3}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let uuid = r.body["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location").unwrap(),
        format!("http://ferric.test:6385/v1/chassis/{uuid}")
    );
    assert_eq!(
        r.body["nodes"][0][0]["href"],
        format!("http://ferric.test:6385/v1/chassis/{uuid}/nodes")
    );
    let r = app.call("GET", "/v1/chassis", None).await;
    assert_eq!(r.body["chassis"][0]["description"], "rack 1");
    assert!(r.body["chassis"][0].get("extra").is_none());
    let r = app.call("GET", "/v1/chassis/detail", None).await;
    assert_eq!(r.body["chassis"][0]["extra"]["row"], 3);
    let r = app
        .call(
            "PATCH",
            &format!("/v1/chassis/{uuid}"),
            Some(json!([{"op": "replace", "path": "/description", "value": "rack 2"}])),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["description"], "rack 2");
    assert!(r.body["updated_at"].is_string());

    let node = app
        .node(json!({"driver": "fake-hardware", "chassis_uuid": uuid}))
        .await;
    let r = app
        .call("GET", &format!("/v1/chassis/{uuid}/nodes"), None)
        .await;
    assert_eq!(r.body["nodes"][0]["uuid"], node["uuid"]);
    let r = app
        .call("DELETE", &format!("/v1/chassis/{uuid}"), None)
        .await;
    assert_eq!(r.status, 400, "Ironic refuses with 400 while nodes remain");
    assert_eq!(
        r.fault(),
        format!("Cannot complete the requested action because chassis {uuid} contains nodes.")
    );
    let r = app
        .call(
            "DELETE",
            &format!("/v1/nodes/{}", node["uuid"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call("DELETE", &format!("/v1/chassis/{uuid}"), None)
        .await;
    assert_eq!(r.status, 204);
    let r = app.call("GET", &format!("/v1/chassis/{uuid}"), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.fault(), format!("Chassis {uuid} could not be found."));
});

both_backends!(chassis_refusals, |app: TestApp| async move {
    let r = app
        .call("POST", "/v1/chassis", Some(json!({"bogus": 1})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.fault(),
        "Schema error for chassis: Additional properties are not allowed ('bogus' was unexpected)"
    );
    let r = app.call("GET", "/v1/chassis/not-a-uuid", None).await;
    assert_eq!(r.status, 400);
    let r = app
        .call(
            "POST",
            "/v1/chassis",
            Some(json!({"description": "x".repeat(256)})),
        )
        .await;
    assert_eq!(r.status, 400);
});
