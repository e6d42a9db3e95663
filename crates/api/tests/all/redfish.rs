//! Real-BMC nodes through the API: a redfish node against sushy-tools' emulator and an
//! ipmi node against a pyghmi BMC (see `crates/drivers/tests/` for the emulators):
//! enroll, manage (verification reaches the BMC), power, boot device, bad
//! credentials, and a BMC that stops answering faulting the node until it answers.

use std::time::Duration;

use ferric_conductor::{Conductor, ConductorConfig};
use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

fn emulator() -> String {
    std::env::var("FERRIC_TEST_REDFISH_URL")
        .expect("FERRIC_TEST_REDFISH_URL is not set: start the emulator with lab/sushy.sh (lab/run-tests.sh does)")
}

async fn settle(app: &TestApp, node: &str, field: &str, want: Value) -> Value {
    for _ in 0..600 {
        let r = app.call("GET", &format!("/v1/nodes/{node}"), None).await;
        if r.body[field] == want && r.body["reservation"].is_null() {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = app.call("GET", &format!("/v1/nodes/{node}"), None).await;
    panic!("{node}: {field} never became {want}: {}", r.raw);
}

both_backends!(redfish_node_through_the_api, |app: TestApp| async move {
    let url = emulator();
    // The two backends' runs go at once: each drives an emulated system of its own.
    let system = match app.db.backend() {
        ferric_db::Backend::Sqlite => "00000000-0000-4000-8000-000000000003",
        ferric_db::Backend::Postgres => "00000000-0000-4000-8000-000000000004",
    };
    let r = app
        .call("POST", "/v1/nodes", Some(json!({"driver": "redfish", "name": "rf",
            "driver_info": {"redfish_address": url, "redfish_system_id": system, "redfish_password": "pw"}})))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["power_interface"], "redfish");
    assert_eq!(r.body["management_interface"], "redfish");
    assert_eq!(r.body["driver_info"]["redfish_password"], "******");
    let r = app.call("GET", "/v1/nodes/rf/validate", None).await;
    assert_eq!(r.body["power"], json!({"result": true}), "{}", r.raw);

    app.call(
        "PUT",
        "/v1/nodes/rf/states/provision",
        Some(json!({"target": "manage"})),
    )
    .await;
    settle(&app, "rf", "provision_state", json!("manageable")).await;
    for (target, state) in [
        ("power on", "power on"),
        ("power off", "power off"),
        ("rebooting", "power on"),
    ] {
        let r = app
            .call(
                "PUT",
                "/v1/nodes/rf/states/power",
                Some(json!({"target": target})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let n = settle(&app, "rf", "power_state", json!(state)).await;
        assert_eq!(n["last_error"], Value::Null, "{n}");
    }
    let r = app
        .call(
            "PUT",
            "/v1/nodes/rf/management/boot_device",
            Some(json!({"boot_device": "pxe", "persistent": true})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call("GET", "/v1/nodes/rf/management/boot_device", None)
        .await;
    assert_eq!(r.body, json!({"boot_device": "pxe", "persistent": true}));
    // The emulator saw it too.
    let seen: Value = reqwest_free_get(&format!("{url}/redfish/v1/Systems/{system}")).await;
    assert_eq!(seen["Boot"]["BootSourceOverrideTarget"], "Pxe");

    // A BMC that stops answering faults the node after repeated failures; it heals.
    let r = app
        .call("PATCH", "/v1/nodes/rf", Some(json!([{"op": "replace", "path": "/driver_info/redfish_address", "value": "http://127.0.0.1:9"},
                                                   {"op": "add", "path": "/driver_info/redfish_timeout", "value": 1}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let conductor = Conductor::new(
        app.db.clone(),
        ConductorConfig {
            host: "test-conductor".into(),
            group: String::new(),
            workers: 4,
            ..ferric_conductor::ConductorConfig::default()
        },
    );
    for _ in 0..3 {
        conductor.sync_power_states().await.unwrap();
    }
    let n = app.call("GET", "/v1/nodes/rf", None).await.body;
    assert_eq!(n["fault"], "power failure", "{n}");
    assert!(
        n["maintenance_reason"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{n}"
    );
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/rf",
            Some(json!([{"op": "replace", "path": "/driver_info/redfish_address", "value": url}])),
        )
        .await;
    assert_eq!(r.status, 200);
    let report = conductor.sync_power_states().await.unwrap();
    assert_eq!(report.recovered, 1, "{report:?}");
    let n = app.call("GET", "/v1/nodes/rf", None).await.body;
    assert_eq!(n["fault"], Value::Null);
    assert_eq!(n["maintenance"], false);
});

both_backends!(
    redfish_bad_settings_fail_clearly,
    |app: TestApp| async move {
        let r = app
            .call(
                "POST",
                "/v1/nodes",
                Some(json!({"driver": "redfish", "name": "nobmc"})),
            )
            .await;
        assert_eq!(r.status, 201);
        let r = app.call("GET", "/v1/nodes/nobmc/validate", None).await;
        assert_eq!(r.body["power"]["result"], false);
        assert!(
            r.body["power"]["reason"]
                .as_str()
                .unwrap()
                .contains("redfish_address"),
            "{}",
            r.raw
        );
        app.call(
            "PUT",
            "/v1/nodes/nobmc/states/provision",
            Some(json!({"target": "manage"})),
        )
        .await;
        let n = settle(&app, "nobmc", "provision_state", json!("enroll")).await;
        assert!(
            n["last_error"]
                .as_str()
                .unwrap()
                .contains("redfish_address"),
            "{n}"
        );
    }
);

/// A GET with the standard library only (tests need no HTTP client crate).
async fn reqwest_free_get(url: &str) -> Value {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        serde_json::from_str(body).unwrap()
    })
    .await
    .unwrap()
}

both_backends!(ipmi_node_through_the_api, |app: TestApp| async move {
    let dir = std::env::var("FERRIC_TEST_IPMI_DIR")
        .expect("FERRIC_TEST_IPMI_DIR is not set: lab/run-tests.sh starts the BMCs");
    let first: u16 = std::env::var("FERRIC_TEST_IPMI_PORT")
        .expect("FERRIC_TEST_IPMI_PORT")
        .parse()
        .unwrap();
    // The two backends' runs go in parallel: each gets its own BMC.
    let port = first + u16::from(app.db.backend() == ferric_db::Backend::Postgres);
    let r = app
        .call("POST", "/v1/nodes", Some(json!({"driver": "ipmi", "name": "bmc",
            "driver_info": {"ipmi_address": "127.0.0.1", "ipmi_port": port, "ipmi_username": "admin",
                            "ipmi_password": "wrong-one", "ipmi_timeout": 10}})))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["power_interface"], "ipmitool");
    // A wrong password: validation says so, manage fails back to enroll, nothing changes.
    let r = app.call("GET", "/v1/nodes/bmc/validate", None).await;
    assert_eq!(r.body["power"]["result"], false);
    assert!(
        r.body["power"]["reason"]
            .as_str()
            .unwrap()
            .contains("rejected the credentials"),
        "{}",
        r.raw
    );
    assert!(!r.raw.contains("wrong-one"));
    app.call(
        "PUT",
        "/v1/nodes/bmc/states/provision",
        Some(json!({"target": "manage"})),
    )
    .await;
    let n = settle(&app, "bmc", "provision_state", json!("enroll")).await;
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("rejected the credentials"),
        "{n}"
    );

    let r = app
        .call("PATCH", "/v1/nodes/bmc", Some(json!([{"op": "replace", "path": "/driver_info/ipmi_password", "value": "password"}])))
        .await;
    assert_eq!(r.status, 200);
    app.call(
        "PUT",
        "/v1/nodes/bmc/states/provision",
        Some(json!({"target": "manage"})),
    )
    .await;
    settle(&app, "bmc", "provision_state", json!("manageable")).await;
    let state = || {
        serde_json::from_str::<Value>(
            &std::fs::read_to_string(format!("{dir}/bmc-{port}.json")).unwrap(),
        )
        .unwrap()
    };
    for (target, want, bmc) in [
        ("power on", "power on", "on"),
        ("rebooting", "power on", "on"),
        ("power off", "power off", "off"),
    ] {
        let r = app
            .call(
                "PUT",
                "/v1/nodes/bmc/states/power",
                Some(json!({"target": target})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let n = settle(&app, "bmc", "power_state", json!(want)).await;
        assert_eq!(n["last_error"], Value::Null, "{n}");
        assert_eq!(state()["power"], bmc, "{target}");
    }
    let r = app
        .call(
            "PUT",
            "/v1/nodes/bmc/management/boot_device",
            Some(json!({"boot_device": "cdrom", "persistent": true})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(state()["boot_device"], "cdrom");
    let r = app
        .call("GET", "/v1/nodes/bmc/management/boot_device", None)
        .await;
    assert_eq!(r.body, json!({"boot_device": "cdrom", "persistent": true}));
});
