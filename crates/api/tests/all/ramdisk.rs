//! The ramdisk agent's endpoints: `GET /v1/lookup` and `POST /v1/heartbeat/{node}` —
//! who may look a node up and when, the token handed out once, the node view an
//! agent gets, and every heartbeat refusal (token, callback URL, TLS, certificate).

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

const MAC: &str = "52:54:00:12:34:99";

/// A direct-deploy node in `clean wait`, waiting for its agent (an automated
/// clean).
async fn waiting_node(app: &TestApp) -> String {
    cleaning_node(app, false).await
}

/// A direct-deploy node in `clean wait`, in a manual clean or an automated one.
async fn cleaning_node(app: &TestApp, manual: bool) -> String {
    let node = app
        .node(
            json!({"driver": "fake-hardware", "deploy_interface": "direct", "name": "r",
                     "properties": {"root_device": {"size": ">= 10"}},
                     "driver_info": {"fake_password": "secret"}}),
        )
        .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    app.port(&uuid, MAC).await;
    let lookup = format!("/v1/lookup?addresses={MAC}");
    let r = app.call("GET", &lookup, None).await;
    assert_eq!(
        r.status, 404,
        "an enrolled node cannot be looked up: {}",
        r.raw
    );
    let clean = if manual {
        json!({"target": "clean", "clean_steps": [{"interface": "deploy", "step": "erase_devices_metadata"}]})
    } else {
        json!({"target": "provide"})
    };
    for body in [json!({"target": "manage"}), clean] {
        let r = app
            .call("PUT", "/v1/nodes/r/states/provision", Some(body.clone()))
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        app.settle(
            "r",
            if body["target"] == "manage" {
                "manageable"
            } else {
                "clean wait"
            },
        )
        .await;
    }
    uuid
}

/// The agent token the node's first lookup hands out (by its port's MAC).
async fn first_lookup_token(app: &TestApp) -> String {
    let r = app
        .call("GET", &format!("/v1/lookup?addresses={MAC}"), None)
        .await;
    r.body["config"]["agent_token"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends!(lookup, |app: TestApp| async move {
    let uuid = waiting_node(&app).await;
    let lookup = format!("/v1/lookup?addresses={MAC}");
    let r = app.call_v("GET", &lookup, None, Some("1.21")).await;
    assert_eq!(r.status, 404, "lookup appeared in 1.22");
    for bad in [
        "/v1/lookup",
        "/v1/lookup?addresses=nonsense",
        "/v1/lookup?addresses=",
    ] {
        let r = app.call("GET", bad, None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
    }
    let r = app
        .call("GET", "/v1/lookup?addresses=52:54:00:00:00:01", None)
        .await;
    assert_eq!(r.status, 404);

    let r = app
        .call("GET", &format!("{lookup},52:54:00:00:00:01"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["node"]["uuid"], uuid);
    let mut keys: Vec<&str> = r.body["node"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "driver_internal_info",
            "instance_info",
            "links",
            "properties",
            "uuid"
        ]
    );
    assert_eq!(r.body["node"]["properties"]["root_device"]["size"], ">= 10");
    let config = &r.body["config"];
    assert_eq!(config["heartbeat_timeout"], 300);
    assert_eq!(config["agent_token_required"], true);
    let token = config["agent_token"].as_str().unwrap().to_string();
    assert!(token.len() >= 32, "{token}");
    assert_eq!(
        r.body["node"]["driver_internal_info"]["agent_secret_token"],
        "******"
    );

    // Once issued, the token is never shown again; lookup by UUID works too.
    let r = app.call("GET", &lookup, None).await;
    assert_eq!(r.body["config"]["agent_token"], "******");
    let r = app
        .call("GET", &format!("/v1/lookup?node_uuid={uuid}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["config"]["agent_token"], "******");
    let r = app.call("GET", "/v1/nodes/r", None).await;
    assert_eq!(
        r.body["driver_internal_info"]["agent_secret_token"], "******",
        "the token is masked in the API too"
    );
});

both_backends!(heartbeat, |app: TestApp| async move {
    let uuid: ferric_types::NodeId = waiting_node(&app).await.parse().unwrap();
    let token = first_lookup_token(&app).await;
    let hb = |body: Value| {
        let app = &app;
        async move {
            app.call_v("POST", "/v1/heartbeat/r", Some(body), Some("1.89"))
                .await
        }
    };
    let good = json!({"callback_url": "https://127.0.0.1:1", "agent_version": "test",
                      "agent_token": token, "agent_verify_ca": "-----BEGIN CERTIFICATE-----\nA\n"});

    let r = app
        .call_v("POST", "/v1/heartbeat/r", Some(good.clone()), Some("1.21"))
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .call_v("POST", "/v1/heartbeat/r", Some(good.clone()), Some("1.67"))
        .await;
    assert_eq!(r.status, 400, "agent_verify_ca needs 1.68: {}", r.raw);
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("callback_url");
    assert_eq!(hb(bad).await.status, 400);
    let mut bad = good.clone();
    bad["agent_token"] = json!("wrong");
    let r = hb(bad).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().contains("agent token"), "{}", r.raw);
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("agent_token");
    assert_eq!(hb(bad).await.status, 400);
    let mut bad = good.clone();
    bad["callback_url"] = json!("http://127.0.0.1:1");
    let r = hb(bad).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().contains("TLS is required"), "{}", r.raw);
    let mut bad = good.clone();
    bad["callback_url"] = json!("ftp://127.0.0.1");
    assert_eq!(hb(bad).await.status, 400);
    let mut bad = good.clone();
    bad["surprise"] = json!(1);
    assert_eq!(hb(bad).await.status, 400);
    let r = app
        .call_v(
            "POST",
            "/v1/heartbeat/nope",
            Some(good.clone()),
            Some("1.89"),
        )
        .await;
    assert_eq!(r.status, 404);

    let r = hb(good.clone()).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    assert!(r.raw.is_empty());
    // The conductor records the agent (the heartbeat is processed after the 202).
    let mut recorded = Value::Null;
    for _ in 0..250 {
        let r = app.call("GET", "/v1/nodes/r", None).await;
        if r.body["driver_internal_info"]["agent_url"] == "https://127.0.0.1:1" {
            recorded = r.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded["driver_internal_info"]["agent_version"], "test");
    assert!(recorded["driver_internal_info"]["agent_last_heartbeat"].is_string());
    // Its certificate is not one: the conductor cannot talk to the agent, and
    // cleaning fails at once with the cause, instead of waiting for the time-out.
    let failed = app.settle("r", "clean failed").await;
    let why = failed["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("the agent's certificate"), "{failed}");
    assert!(!why.contains(&token), "{why}");

    // A heartbeat for a node someone else holds waits for the lock; it is not lost.
    let first = recorded["driver_internal_info"]["agent_last_heartbeat"].clone();
    app.db
        .node_reserve(uuid, "another-conductor")
        .await
        .unwrap();
    let r = hb(good.clone()).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = app.call("GET", "/v1/nodes/r", None).await.body;
    assert_eq!(held["driver_internal_info"]["agent_last_heartbeat"], first);
    app.db
        .node_release(uuid, "another-conductor")
        .await
        .unwrap();
    let mut later = Value::Null;
    for _ in 0..250 {
        let n = app.call("GET", "/v1/nodes/r", None).await.body;
        if n["driver_internal_info"]["agent_last_heartbeat"] != first {
            later = n;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        later["driver_internal_info"]["agent_last_heartbeat"].is_string(),
        "the heartbeat was processed once the lock was free"
    );

    let mut moved = good.clone();
    moved["callback_url"] = json!("https://127.0.0.1:2");
    let r = hb(moved).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().contains("callback_url"), "{}", r.raw);
    let mut other_cert = good.clone();
    other_cert["agent_verify_ca"] = json!("-----BEGIN CERTIFICATE-----\nB\n");
    assert_eq!(hb(other_cert).await.status, 400);

    // A heartbeat that waited while the lock holder forgot the agent (a power-off
    // wipes its token) is dropped: nothing of that agent comes back.
    let mut held = app
        .db
        .node_reserve(uuid, "another-conductor")
        .await
        .unwrap();
    assert_eq!(hb(good.clone()).await.status, 202);
    held.driver_internal_info.remove("agent_secret_token");
    held.driver_internal_info.remove("agent_url");
    app.db
        .node_save_locked(&held, "another-conductor")
        .await
        .unwrap();
    app.db
        .node_release(uuid, "another-conductor")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = app.settle("r", "clean failed").await;
    let dii = &after["driver_internal_info"];
    assert!(
        dii.get("agent_url").is_none(),
        "stale heartbeat applied: {after}"
    );
    assert_eq!(
        dii["agent_last_heartbeat"],
        later["driver_internal_info"]["agent_last_heartbeat"]
    );
});

both_backends!(
    a_manual_clean_failed_by_its_agent_stays_manual,
    |app: TestApp| async move {
        cleaning_node(&app, true).await;
        let n = app.call("GET", "/v1/nodes/r", None).await.body;
        assert_eq!(n["target_provision_state"], "manageable", "{n}");
        let token = first_lookup_token(&app).await;
        // An agent whose certificate is not one: the step fails on its heartbeat.
        let r = app
            .call_v(
                "POST",
                "/v1/heartbeat/r",
                Some(
                    json!({"callback_url": "https://127.0.0.1:1", "agent_version": "test",
                            "agent_token": token,
                            "agent_verify_ca": "-----BEGIN CERTIFICATE-----\nA\n"}),
                ),
                Some("1.89"),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let failed = app.settle("r", "clean failed").await;
        assert_eq!(
            failed["target_provision_state"], "manageable",
            "a manual clean failed through a heartbeat fails as it would inline: {failed}"
        );
    }
);
