//! Volume connectors and targets (API 1.32): CRUD, filters, fields and pages,
//! uniqueness, the powered-off rule for changes, nesting under nodes, and the
//! redaction of target properties.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::{TestApp, PASSWORD};

async fn set_power(app: &TestApp, node: &str, target: &str) {
    let r = app
        .call(
            "PUT",
            &format!("/v1/nodes/{node}/states/power"),
            Some(json!({"target": target})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    for _ in 0..250 {
        let n = app
            .call("GET", &format!("/v1/nodes/{node}"), None)
            .await
            .body;
        if n["reservation"].is_null() && n["target_power_state"].is_null() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{node} never settled its power");
}

both_backends!(connectors_crud_and_rules, |app: TestApp| async move {
    let node = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let iqn = json!({"node_uuid": uuid, "type": "iqn", "connector_id": "iqn.2004-01.org:n"});
    let r = app
        .call_v(
            "POST",
            "/v1/volume/connectors",
            Some(iqn.clone()),
            Some("1.31"),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let r = app
        .call_v(
            "POST",
            "/v1/volume/connectors",
            Some(iqn.clone()),
            Some("1.32"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["uuid"].as_str().unwrap().to_string();
    assert!(r.header("location").unwrap().ends_with(&id));
    let r = app
        .call_v("POST", "/v1/volume/connectors", Some(iqn), Some("1.32"))
        .await;
    assert_eq!(r.status, 409, "type and id are unique: {}", r.raw);
    for (bad, why) in [
        (
            json!({"node_uuid": uuid, "type": "nvme", "connector_id": "x"}),
            "type",
        ),
        (
            json!({"node_uuid": uuid, "type": "wwpn"}),
            "no connector_id",
        ),
        (
            json!({"node_uuid": "a3c8bd79-5a42-4f5b-9d35-c0f2dfc52d6e", "type": "wwpn", "connector_id": "x"}),
            "no node",
        ),
        (
            json!({"node_uuid": uuid, "type": "wwpn", "connector_id": "x", "bogus": 1}),
            "extra key",
        ),
    ] {
        let r = app
            .call_v("POST", "/v1/volume/connectors", Some(bad), Some("1.32"))
            .await;
        assert_eq!(r.status, 400, "{why}: {}", r.raw);
    }
    let r = app
        .call_v("POST", "/v1/volume/connectors",
            Some(json!({"node_uuid": uuid, "type": "wwpn", "connector_id": "10:00:00:00:00:00:00:01"})), Some("1.32"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);

    let list = app
        .call_v("GET", "/v1/volume/connectors", None, Some("1.32"))
        .await;
    let first = list.body["connectors"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["connector_id", "links", "node_uuid", "type", "uuid"]);
    let nested = app
        .call_v(
            "GET",
            "/v1/nodes/n/volume/connectors?detail=true",
            None,
            Some("1.43"),
        )
        .await;
    assert_eq!(nested.status, 200, "{}", nested.raw);
    assert_eq!(
        nested.body["connectors"].as_array().unwrap().len(),
        2,
        "{}",
        nested.raw
    );
    assert!(nested.body["connectors"][0].get("extra").is_some());
    let page = app
        .call_v(
            "GET",
            "/v1/volume/connectors?limit=1&fields=uuid,type",
            None,
            Some("1.32"),
        )
        .await;
    assert_eq!(page.body["connectors"].as_array().unwrap().len(), 1);
    assert!(
        page.body["next"].as_str().unwrap().contains("limit=1"),
        "{}",
        page.raw
    );
    let r = app
        .call_v("GET", "/v1/volume/connectors?node=nope", None, Some("1.32"))
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let root = app.call_v("GET", "/v1/volume", None, Some("1.32")).await;
    assert!(root.body["connectors"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with("/v1/volume/connectors"));

    // Changes need the machine off (fake hardware starts with no power state).
    set_power(&app, "n", "power on").await;
    let patch = json!([{"op": "add", "path": "/extra/rack", "value": "r1"}]);
    let r = app
        .call_v(
            "PATCH",
            &format!("/v1/volume/connectors/{id}"),
            Some(patch.clone()),
            Some("1.32"),
        )
        .await;
    assert_eq!(r.status, 400, "powered on: {}", r.raw);
    set_power(&app, "n", "power off").await;
    let r = app
        .call_v(
            "PATCH",
            &format!("/v1/volume/connectors/{id}"),
            Some(patch),
            Some("1.32"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["extra"]["rack"], "r1");
    let r = app
        .call_v("PATCH", &format!("/v1/volume/connectors/{id}"),
            Some(json!([{"op": "replace", "path": "/connector_id", "value": "10:00:00:00:00:00:00:01"},
                        {"op": "replace", "path": "/type", "value": "wwpn"}])), Some("1.32"))
        .await;
    assert_eq!(r.status, 409, "{}", r.raw);
    let r = app
        .call_v(
            "DELETE",
            &format!("/v1/volume/connectors/{id}"),
            None,
            Some("1.32"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call_v(
            "GET",
            &format!("/v1/volume/connectors/{id}"),
            None,
            Some("1.32"),
        )
        .await;
    assert_eq!(r.status, 404);
    // Deleting the node takes its connectors with it.
    let r = app.call("DELETE", "/v1/nodes/n", None).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let list = app
        .call_v("GET", "/v1/volume/connectors", None, Some("1.32"))
        .await;
    assert_eq!(list.body["connectors"], json!([]));
});

both_backends!(
    targets_boot_indexes_and_redaction,
    |app: TestApp| async move {
        let app = app.with_users(&[
            ("owner", "project=p1:roles=member"),
            ("ops", "system=all:roles=reader"),
        ]);
        let admin = app.as_user("admin", PASSWORD);
        let node = admin
            .node(json!({"driver": "fake-hardware", "name": "n", "owner": "p1"}))
            .await;
        let uuid = node["uuid"].as_str().unwrap().to_string();
        let target = |boot_index: Value, volume_id: &str| {
            json!({"node_uuid": uuid, "volume_type": "iscsi", "boot_index": boot_index, "volume_id": volume_id,
               "properties": {"target_iqn": "iqn.x", "auth_password": "s3cret"}})
        };
        let r = admin
            .call_v(
                "POST",
                "/v1/volume/targets",
                Some(target(json!(0), "v0")),
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["properties"]["auth_password"], "******");
        let id = r.body["uuid"].as_str().unwrap().to_string();
        let r = admin
            .call_v(
                "POST",
                "/v1/volume/targets",
                Some(target(json!(0), "v1")),
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 409, "one boot index per node: {}", r.raw);
        let r = admin
            .call_v(
                "POST",
                "/v1/volume/targets",
                Some(target(json!("1"), "v1")),
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let r = admin
            .call_v(
                "POST",
                "/v1/volume/targets",
                Some(target(json!(1), "v1")),
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        let r = admin
            .call_v(
                "GET",
                "/v1/volume/targets?sort_key=boot_index&sort_dir=desc",
                None,
                Some("1.32"),
            )
            .await;
        assert_eq!(r.body["targets"][0]["boot_index"], 1, "{}", r.raw);

        // The node's owner sees its targets, but not their connection details.
        let owner = app.as_user("owner", PASSWORD);
        let r = owner
            .call_v(
                "GET",
                &format!("/v1/volume/targets/{id}"),
                None,
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert!(r.body["properties"]["redacted_contents"]
            .as_str()
            .unwrap()
            .contains("view_target_properties"));
        let r = app
            .as_user("ops", PASSWORD)
            .call_v(
                "GET",
                &format!("/v1/volume/targets/{id}"),
                None,
                Some("1.32"),
            )
            .await;
        assert_eq!(r.body["properties"]["target_iqn"], "iqn.x", "{}", r.raw);
        let r = owner
            .call_v("GET", "/v1/volume/targets", None, Some("1.32"))
            .await;
        assert_eq!(r.body["targets"].as_array().unwrap().len(), 2, "{}", r.raw);
        // Deleting is allowed in enroll whatever the power.
        let r = admin
            .call_v(
                "DELETE",
                &format!("/v1/volume/targets/{id}"),
                None,
                Some("1.32"),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.raw);
    }
);
