//! Ports: create, list with filters, nested listings, patch, delete, refusals.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(port_lifecycle, |app: TestApp| async move {
    let n = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let node = n["uuid"].as_str().unwrap().to_string();
    let r = app
        .call(
            "POST",
            "/v1/ports",
            Some(json!({"address": "52:54:00:AB:CD:EF", "node_uuid": node})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let port = r.body["uuid"].as_str().unwrap().to_string();
    assert_eq!(r.body["address"], "52:54:00:ab:cd:ef");
    assert_eq!(r.body["pxe_enabled"], true);
    assert_eq!(r.body["local_link_connection"], json!({}));
    assert_eq!(r.body["portgroup_uuid"], Value::Null);
    assert_eq!(
        r.header("location").unwrap(),
        format!("http://ferric.test:6385/v1/ports/{port}")
    );

    let r = app
        .call(
            "POST",
            "/v1/ports",
            Some(json!({"address": "52:54:00:ab:cd:ef", "node_uuid": node})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.fault(),
        "A port with MAC address 52:54:00:ab:cd:ef already exists."
    );

    let second = app
        .call("POST", "/v1/ports", Some(json!({
            "address": "52:54:00:00:00:02", "node_uuid": node, "pxe_enabled": false,
            "local_link_connection": {"switch_id": "0a:1b:2c:3d:4e:5f", "port_id": "Ethernet1/2", "switch_info": "tor-1"},
            "physical_network": "physnet1",
        })))
        .await;
    assert_eq!(second.status, 201, "{}", second.raw);

    let r = app.call("GET", "/v1/ports", None).await;
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 2);
    let keys: Vec<&str> = r.body["ports"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["address", "links", "uuid"]);
    for (query, count) in [
        ("node=n", 2),
        (&format!("node_uuid={node}") as &str, 2),
        ("address=52:54:00:00:00:02", 1),
        ("address=52:54:00:AB:CD:EF", 1),
    ] {
        let r = app.call("GET", &format!("/v1/ports?{query}"), None).await;
        assert_eq!(r.body["ports"].as_array().unwrap().len(), count, "{query}");
    }
    let r = app.call("GET", "/v1/ports?address=zz", None).await;
    assert_eq!(r.status, 400);
    let r = app.call("GET", "/v1/ports?node=nope", None).await;
    assert_eq!(r.status, 404);
    let r = app
        .call("GET", "/v1/ports/detail?address=52:54:00:00:00:02", None)
        .await;
    assert_eq!(r.body["ports"][0]["physical_network"], "physnet1");
    let r = app.call("GET", "/v1/nodes/n/ports/detail", None).await;
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 2);
    let r = app
        .call("GET", &format!("/v1/nodes/{node}/ports?limit=1"), None)
        .await;
    assert!(r.body["next"]
        .as_str()
        .unwrap()
        .contains(&format!("/v1/nodes/{node}/ports?")));

    let r = app
        .call(
            "PATCH",
            &format!("/v1/ports/{port}"),
            Some(json!([
                {"op": "add", "path": "/extra/a", "value": 1},
                {"op": "replace", "path": "/address", "value": "52:54:00:00:00:03"},
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["address"], "52:54:00:00:00:03");
    let r = app
        .call(
            "PATCH",
            &format!("/v1/ports/{port}"),
            Some(json!([{"op": "replace", "path": "/address", "value": "52:54:00:00:00:02"}])),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = app
        .call(
            "PATCH",
            &format!("/v1/ports/{port}"),
            Some(json!([{"op": "remove", "path": "/address"}])),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = app.call("DELETE", &format!("/v1/ports/{port}"), None).await;
    assert_eq!(r.status, 204);
    let r = app.call("DELETE", &format!("/v1/ports/{port}"), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.fault(), format!("Port {port} could not be found."));
});

both_backends!(port_refusals, |app: TestApp| async move {
    let n = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let node = n["uuid"].as_str().unwrap();
    let cases = [
        (
            json!({"address": "zz:zz", "node_uuid": node}),
            400,
            "Expected valid MAC address for address: zz:zz",
        ),
        (
            json!({"address": "52-54-00-11-22-33", "node_uuid": node}),
            400,
            "Expected valid MAC address for address: 52-54-00-11-22-33",
        ),
        (
            json!({"address": "52:54:00:00:00:01"}),
            400,
            "Schema error for port: 'node_uuid' is a required property",
        ),
        (
            json!({"node_uuid": node}),
            400,
            "Schema error for port: 'address' is a required property",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": "11111111-2222-3333-4444-555555555555"}),
            400,
            "Node 11111111-2222-3333-4444-555555555555 could not be found.",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": "n"}),
            400,
            "Expected UUID for node_uuid: n",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "bogus": 1}),
            400,
            "Schema error for port: Additional properties are not allowed ('bogus' was unexpected)",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "local_link_connection": {"port_id": "x"}}),
            400,
            "",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "local_link_connection": {"switch_id": "nope", "port_id": "x"}}),
            400,
            "",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "physical_network": ""}),
            400,
            "",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "is_smartnic": true}),
            400,
            "",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "portgroup_uuid": "11111111-2222-3333-4444-555555555555"}),
            400,
            "",
        ),
        (
            json!({"address": "52:54:00:00:00:01", "node_uuid": node, "name": "p"}),
            406,
            "",
        ),
    ];
    for (body, status, fault) in cases {
        let r = app.call("POST", "/v1/ports", Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.raw);
        if !fault.is_empty() {
            assert_eq!(r.fault(), fault, "{body}");
        }
    }
    assert_eq!(app.db.port_count(&[]).await.unwrap(), 0);
    let r = app.call("GET", "/v1/ports/52:54:00:12:34:56", None).await;
    assert_eq!(r.status, 400);
});
