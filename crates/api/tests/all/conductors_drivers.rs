//! The conductor registry, the hash ring's `conductor` field, and the drivers API.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(conductors_and_ring, |app: TestApp| async move {
    let r = app.call("GET", "/v1/conductors", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["conductors"][0],
        json!({"hostname": "test-conductor", "conductor_group": "", "alive": true,
               "links": [{"href": "http://ferric.test:6385/v1/conductors/test-conductor", "rel": "self"},
                         {"href": "http://ferric.test:6385/conductors/test-conductor", "rel": "bookmark"}]})
    );
    let r = app.call("GET", "/v1/conductors/test-conductor", None).await;
    assert_eq!(
        r.body["drivers"],
        json!(["fake-hardware", "ipmi", "redfish"])
    );
    assert!(r.body["updated_at"].is_string());
    assert_eq!(
        app.call("GET", "/v1/conductors/nope", None).await.status,
        404
    );
    assert_eq!(
        app.call_v("GET", "/v1/conductors", None, Some("1.48"))
            .await
            .status,
        404
    );

    let n = app
        .node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    assert_eq!(n["conductor"], "test-conductor");
    app.node(json!({"driver": "fake-hardware", "name": "other", "conductor_group": "rack-b"}))
        .await;
    let r = app.call("GET", "/v1/nodes/other", None).await;
    assert_eq!(
        r.body["conductor"],
        Value::Null,
        "no conductor serves group rack-b"
    );
    let r = app
        .call("GET", "/v1/nodes?conductor=test-conductor", None)
        .await;
    assert_eq!(r.body["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["nodes"][0]["name"], "n");
    let r = app.call("GET", "/v1/nodes?conductor=elsewhere", None).await;
    assert_eq!(r.body["nodes"], json!([]));
});

both_backends!(drivers, |app: TestApp| async move {
    let r = app.call("GET", "/v1/drivers", None).await;
    assert_eq!(r.status, 200);
    let d = &r.body["drivers"][0];
    assert_eq!(d["name"], "fake-hardware");
    assert_eq!(d["hosts"], json!(["test-conductor"]));
    assert_eq!(d["type"], "dynamic");
    assert!(d.get("default_boot_interface").is_none());
    let r = app.call("GET", "/v1/drivers?detail=true", None).await;
    let d = &r.body["drivers"][0];
    assert_eq!(d["default_boot_interface"], "fake");
    assert_eq!(d["default_network_interface"], "noop");
    assert_eq!(
        d["enabled_console_interfaces"],
        json!(["fake", "no-console"])
    );
    assert!(
        d.get("default_firmware_interface").is_none(),
        "firmware appears at 1.86"
    );
    let r = app.call("GET", "/v1/drivers?type=classic", None).await;
    assert_eq!(r.body, json!({"drivers": []}));
    assert_eq!(
        app.call("GET", "/v1/drivers?type=weird", None).await.status,
        400
    );
    let r = app.call("GET", "/v1/drivers/fake-hardware", None).await;
    assert_eq!(r.body["default_power_interface"], "fake");
    let r = app.call("GET", "/v1/drivers/nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.fault(), "Driver nope could not be found.");
    let r = app
        .call("GET", "/v1/drivers/fake-hardware/properties", None)
        .await;
    assert!(r.body["fake_deploy_delay"].is_string());
});
