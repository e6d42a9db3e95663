//! Port groups: create, list, show by name, member ports, delete rules.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(portgroup_lifecycle, |app: TestApp| async move {
    let n = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let node = n["uuid"].as_str().unwrap().to_string();
    let r = app
        .call(
            "POST",
            "/v1/portgroups",
            Some(json!({
                "node_uuid": node, "name": "bond0", "address": "52:54:00:aa:bb:cc",
                "mode": "802.3ad", "properties": {"miimon": "100"},
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let pg = r.body["uuid"].as_str().unwrap().to_string();
    assert_eq!(r.body["standalone_ports_supported"], true);
    assert_eq!(
        r.body["ports"][0]["href"],
        format!("http://ferric.test:6385/v1/portgroups/{pg}/ports")
    );
    let r = app
        .call("POST", "/v1/portgroups", Some(json!({"node_uuid": node})))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["mode"], "active-backup");
    for (body, status, fault) in [
        (
            json!({"node_uuid": node, "name": "bond0"}),
            409,
            "A portgroup with name bond0 already exists.",
        ),
        (
            json!({"node_uuid": node, "address": "52:54:00:aa:bb:cc"}),
            409,
            "A portgroup with MAC address 52:54:00:aa:bb:cc already exists.",
        ),
        (
            json!({"name": "x"}),
            400,
            "Schema error for portgroup: 'node_uuid' is a required property",
        ),
        (json!({"node_uuid": node, "name": "bad name"}), 400, ""),
    ] {
        let r = app.call("POST", "/v1/portgroups", Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.raw);
        if !fault.is_empty() {
            assert_eq!(r.fault(), fault);
        }
    }

    let r = app.call("GET", "/v1/portgroups", None).await;
    let keys: Vec<&str> = r.body["portgroups"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["address", "links", "name", "uuid"]);
    let r = app.call("GET", "/v1/portgroups/bond0", None).await;
    assert_eq!(r.body["properties"]["miimon"], "100");
    let r = app.call("GET", "/v1/portgroups?node=n", None).await;
    assert_eq!(r.body["portgroups"].as_array().unwrap().len(), 2);
    let r = app.call("GET", "/v1/nodes/n/portgroups/detail", None).await;
    assert_eq!(r.body["portgroups"].as_array().unwrap().len(), 2);
    let r = app
        .call_v("GET", "/v1/portgroups", None, Some("1.22"))
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .call_v("GET", "/v1/portgroups/bond0", None, Some("1.25"))
        .await;
    assert!(r.body.get("mode").is_none(), "mode appears at 1.26");

    let r = app
        .call(
            "POST",
            "/v1/ports",
            Some(json!({"address": "52:54:00:00:00:01", "node_uuid": node, "portgroup_uuid": pg})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let port = r.body["uuid"].as_str().unwrap().to_string();
    let r = app.call("GET", "/v1/portgroups/bond0/ports", None).await;
    assert_eq!(r.body["ports"][0]["uuid"], port.as_str());
    let r = app.call("GET", "/v1/ports?portgroup=bond0", None).await;
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 1);
    let r = app
        .call(
            "PATCH",
            "/v1/portgroups/bond0",
            Some(json!([{"op": "replace", "path": "/standalone_ports_supported", "value": false}])),
        )
        .await;
    assert_eq!(
        r.status, 409,
        "a PXE-enabled member needs standalone support"
    );
    let r = app
        .call(
            "PATCH",
            "/v1/portgroups/bond0",
            Some(json!([{"op": "replace", "path": "/mode", "value": "balance-rr"}])),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["mode"], "balance-rr");
    let r = app
        .call(
            "PATCH",
            "/v1/portgroups/bond0",
            Some(json!([{"op": "remove", "path": "/mode"}])),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = app
        .call("DELETE", &format!("/v1/portgroups/{pg}"), None)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.fault(),
        format!("Cannot complete the requested action because portgroup {pg} contains ports.")
    );
    let r = app.call("DELETE", &format!("/v1/ports/{port}"), None).await;
    assert_eq!(r.status, 204);
    let r = app.call("DELETE", "/v1/portgroups/bond0", None).await;
    assert_eq!(r.status, 204);
});
