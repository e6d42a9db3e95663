//! The node lifecycle through the conductor on fake-hardware: provision verbs, power,
//! boot devices, locks, failures, and recovery after a crash.

use std::time::Duration;

use ferric_conductor::{Conductor, ConductorConfig};
use ferric_types::fsm::{self, VERBS};
use ferric_types::provision::ProvisionState;
use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

/// Polls the node until `field` equals `want` (10 s at most).
async fn wait_for(app: &TestApp, node: &str, field: &str, want: Value) -> Value {
    for _ in 0..500 {
        let r = app.call("GET", &format!("/v1/nodes/{node}"), None).await;
        if r.body[field] == want && r.body["reservation"].is_null() {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = app.call("GET", &format!("/v1/nodes/{node}"), None).await;
    panic!("node {node}: {field} never became {want}: {}", r.raw);
}

async fn provision(app: &TestApp, node: &str, body: Value) -> crate::harness::Reply {
    app.call(
        "PUT",
        &format!("/v1/nodes/{node}/states/provision"),
        Some(body),
    )
    .await
}

both_backends!(full_lifecycle, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_deploy_delay": 0.2}}),
    )
    .await;
    let r = provision(&app, "n", json!({"target": "manage"})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("http://ferric.test:6385/v1/nodes/n/states")
    );
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    assert_eq!(
        provision(&app, "n", json!({"target": "provide"}))
            .await
            .status,
        202
    );
    let n = wait_for(&app, "n", "provision_state", json!("available")).await;
    assert_eq!(n["target_provision_state"], Value::Null);

    let r = provision(
        &app,
        "n",
        json!({"target": "active", "configdrive": "http://example.invalid/cd.iso"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let during = app.call("GET", "/v1/nodes/n", None).await.body;
    assert_eq!(during["provision_state"], "deploying");
    assert_eq!(during["target_provision_state"], "active");
    assert_eq!(during["reservation"], "test-conductor");
    assert_eq!(during["instance_info"]["configdrive"], "******");
    let r = provision(&app, "n", json!({"target": "active"})).await;
    assert_eq!(r.status, 409, "a locked node refuses: {}", r.raw);
    let n = wait_for(&app, "n", "provision_state", json!("active")).await;
    assert_eq!(n["power_state"], "power on");
    assert_eq!(n["last_error"], Value::Null);

    assert_eq!(
        provision(&app, "n", json!({"target": "rebuild"}))
            .await
            .status,
        202
    );
    wait_for(&app, "n", "provision_state", json!("active")).await;
    let r = provision(&app, "n", json!({"target": "deleted"})).await;
    assert_eq!(r.status, 202);
    let n = wait_for(&app, "n", "provision_state", json!("available")).await;
    assert_eq!(n["power_state"], "power off");
    assert_eq!(
        n["instance_info"],
        json!({}),
        "tear down clears the instance"
    );

    // Manual clean ends in manageable.
    assert_eq!(
        provision(&app, "n", json!({"target": "manage"}))
            .await
            .status,
        202
    );
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    let steps = json!([{"interface": "deploy", "step": "erase_devices_metadata"}]);
    let r = provision(&app, "n", json!({"target": "clean", "clean_steps": steps})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    assert_eq!(
        provision(&app, "n", json!({"target": "inspect"}))
            .await
            .status,
        202
    );
    let n = wait_for(&app, "n", "provision_state", json!("manageable")).await;
    assert!(n["inspection_finished_at"].is_string());
    assert_eq!(
        provision(&app, "n", json!({"target": "adopt"}))
            .await
            .status,
        202
    );
    wait_for(&app, "n", "provision_state", json!("active")).await;
    let r = provision(
        &app,
        "n",
        json!({"target": "rescue", "rescue_password": "pw"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    wait_for(&app, "n", "provision_state", json!("rescue")).await;
    assert_eq!(
        provision(&app, "n", json!({"target": "unrescue"}))
            .await
            .status,
        202
    );
    wait_for(&app, "n", "provision_state", json!("active")).await;
});

both_backends!(
    illegal_verbs_are_400_in_every_resting_state,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let path = [
            ("manage", "manageable"),
            ("provide", "available"),
            ("active", "active"),
        ];
        let mut states = vec!["enroll"];
        states.extend(path.iter().map(|(_, s)| *s));
        for (i, state) in states.iter().enumerate() {
            let current: ProvisionState = state.parse().unwrap();
            for verb in VERBS.iter().filter(|v| v.since <= 65) {
                if fsm::next(current, verb.event).is_some() {
                    continue;
                }
                let r = provision(&app, "n", json!({"target": verb.name})).await;
                assert_eq!(r.status, 400, "{} in {state}: {}", verb.name, r.raw);
                assert!(
                    r.fault()
                        .contains(&format!("while it is in state \"{state}\"")),
                    "{}",
                    r.fault()
                );
            }
            if let Some((verb, next)) = path.get(i) {
                assert_eq!(
                    provision(&app, "n", json!({"target": verb})).await.status,
                    202
                );
                wait_for(&app, "n", "provision_state", json!(next)).await;
            }
        }
        let n = app.call("GET", "/v1/nodes/n", None).await.body;
        assert_eq!(n["provision_state"], "active");
        for (body, status) in [
            (json!({"target": "bogus"}), 400),
            (json!({}), 400),
            (json!({"target": "deleted", "bogus": 1}), 400),
            (json!({"target": "deleted", "configdrive": "x"}), 400),
            (json!({"target": "rescue"}), 400),
            (json!({"target": "rescue", "rescue_password": ""}), 400),
            (json!({"target": "unhold"}), 406),
            (json!({"target": "undeploy"}), 406),
            (json!({"target": "deleted", "deploy_steps": []}), 406),
        ] {
            let r = provision(&app, "n", body.clone()).await;
            assert_eq!(r.status, status, "{body}: {}", r.raw);
        }
        let r = app.call("PUT", "/v1/nodes/n/maintenance", None).await;
        assert_eq!(r.status, 202);
        assert_eq!(
            provision(&app, "n", json!({"target": "rebuild"}))
                .await
                .status,
            400,
            "maintenance refuses rebuild"
        );
    }
);

both_backends!(concurrent_requests_one_wins, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_verify_delay": 0.5}}),
    )
    .await;
    let (a, b) = tokio::join!(
        provision(&app, "n", json!({"target": "manage"})),
        provision(&app, "n", json!({"target": "manage"}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409], "{} / {}", a.raw, b.raw);
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
});

both_backends!(failures_land_in_failure_states, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_fail_deploy": true}}),
    )
    .await;
    provision(&app, "n", json!({"target": "manage"})).await;
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    provision(&app, "n", json!({"target": "provide"})).await;
    wait_for(&app, "n", "provision_state", json!("available")).await;
    provision(&app, "n", json!({"target": "active"})).await;
    let n = wait_for(&app, "n", "provision_state", json!("deploy failed")).await;
    assert_eq!(n["target_provision_state"], "active");
    assert!(
        n["last_error"].as_str().unwrap().contains("deploy of node"),
        "{n}"
    );
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "remove", "path": "/driver_info/fake_fail_deploy"}])),
        )
        .await;
    assert_eq!(r.status, 200, "deploy failed allows updates: {}", r.raw);
    provision(&app, "n", json!({"target": "active"})).await;
    let n = wait_for(&app, "n", "provision_state", json!("active")).await;
    assert_eq!(n["last_error"], Value::Null);
});

both_backends!(power_and_boot_devices, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let power = |body: Value| {
        let app = &app;
        async move {
            app.call("PUT", "/v1/nodes/n/states/power", Some(body))
                .await
        }
    };
    let r = power(json!({"target": "power on"})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    wait_for(&app, "n", "power_state", json!("power on")).await;
    assert_eq!(
        power(json!({"target": "soft power off", "timeout": 30}))
            .await
            .status,
        202
    );
    let n = wait_for(&app, "n", "power_state", json!("power off")).await;
    assert_eq!(n["target_power_state"], Value::Null);
    assert_eq!(power(json!({"target": "rebooting"})).await.status, 202);
    wait_for(&app, "n", "power_state", json!("power on")).await;
    for (body, status) in [
        (json!({"target": "sideways"}), 400),
        (json!({"target": "power on", "timeout": 0}), 400),
        (json!({}), 400),
    ] {
        assert_eq!(power(body.clone()).await.status, status, "{body}");
    }
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/power",
            Some(json!({"target": "soft power off"})),
            Some("1.26"),
        )
        .await;
    assert_eq!(r.status, 406);

    let r = app
        .call("GET", "/v1/nodes/n/management/boot_device", None)
        .await;
    assert_eq!(r.body, json!({"boot_device": "pxe", "persistent": false}));
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/boot_device",
            Some(json!({"boot_device": "disk", "persistent": true})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call("GET", "/v1/nodes/n/management/boot_device", None)
        .await;
    assert_eq!(r.body, json!({"boot_device": "disk", "persistent": true}));
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/boot_device",
            Some(json!({"boot_device": "floppy"})),
        )
        .await;
    assert_eq!(r.status, 400, "fake-hardware has no floppy");
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/boot_device",
            Some(json!({"boot_device": "tape"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .call("GET", "/v1/nodes/n/management/boot_device/supported", None)
        .await;
    assert_eq!(
        r.body,
        json!({"supported_boot_devices": ["pxe", "disk", "cdrom", "bios"]})
    );
    let r = app
        .call("PUT", "/v1/nodes/n/management/inject_nmi", Some(json!({})))
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/management/inject_nmi",
            Some(json!({})),
            Some("1.28"),
        )
        .await;
    assert_eq!(r.status, 404);
});

both_backends!(
    noop_management_accepts_any_boot_device,
    |app: TestApp| async move {
        let n = app
            .node(
                json!({"driver": "ipmi", "name": "manual", "management_interface": "noop",
                     "driver_info": {"ipmi_address": "127.0.0.1"}}),
            )
            .await;
        assert_eq!(n["management_interface"], "noop");
        let r = app
            .call(
                "PUT",
                "/v1/nodes/manual/management/boot_device",
                Some(json!({"boot_device": "floppy", "persistent": true})),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.raw);
        let r = app
            .call("GET", "/v1/nodes/manual/management/boot_device", None)
            .await;
        assert_eq!(r.body, json!({"boot_device": null, "persistent": null}));
        let r = app
            .call(
                "PUT",
                "/v1/nodes/manual/management/inject_nmi",
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        assert!(r.fault().contains("noop management"), "{}", r.raw);
        let r = app
            .call(
                "PATCH",
                "/v1/nodes/manual",
                Some(json!([{"op": "replace", "path": "/management_interface", "value": "shiny"}])),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        for driver in ["fake-hardware", "redfish"] {
            let r = app
                .call("GET", &format!("/v1/drivers/{driver}?detail=true"), None)
                .await;
            let enabled = r.body["enabled_management_interfaces"].to_string();
            assert!(enabled.contains("noop"), "{driver}: {}", r.raw);
        }
    }
);

both_backends!(
    restart_recovers_interrupted_nodes,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "busy"}))
            .await;
        app.node(json!({"driver": "fake-hardware", "name": "idle"}))
            .await;
        app.node(json!({"driver": "fake-hardware", "name": "scrubbing"}))
            .await;
        // A conductor called "crashed" died while deploying `busy` and while
        // manually cleaning `scrubbing`.
        let mut node = app.db.node_get_by_name("busy").await.unwrap();
        app.db.node_reserve(node.uuid, "crashed").await.unwrap();
        node.provision_state = ProvisionState::Deploying;
        node.target_provision_state = Some(ProvisionState::Active);
        node.target_power_state = Some("power on".into());
        app.db.node_save_locked(&node, "crashed").await.unwrap();
        let mut node = app.db.node_get_by_name("scrubbing").await.unwrap();
        app.db.node_reserve(node.uuid, "crashed").await.unwrap();
        node.provision_state = ProvisionState::Cleaning;
        node.target_provision_state = Some(ProvisionState::Manageable);
        app.db.node_save_locked(&node, "crashed").await.unwrap();
        let restarted = Conductor::new(
            app.db.clone(),
            ConductorConfig {
                host: "crashed".into(),
                group: String::new(),
                workers: 4,
                ..ferric_conductor::ConductorConfig::default()
            },
        );
        assert_eq!(restarted.recover().await.unwrap(), 2);
        let scrubbing = app.call("GET", "/v1/nodes/scrubbing", None).await.body;
        assert_eq!(scrubbing["provision_state"], "clean failed");
        assert_eq!(
            scrubbing["target_provision_state"], "manageable",
            "a manual clean cut by a restart fails as it would inline"
        );
        let busy = app.call("GET", "/v1/nodes/busy", None).await.body;
        assert_eq!(busy["provision_state"], "deploy failed");
        assert_eq!(busy["reservation"], Value::Null);
        assert_eq!(busy["target_power_state"], Value::Null);
        assert!(
            busy["last_error"].as_str().unwrap().contains("restarted"),
            "{busy}"
        );
        let idle = app.call("GET", "/v1/nodes/idle", None).await.body;
        assert_eq!(idle["provision_state"], "enroll");
    }
);

both_backends!(power_sync_faults_and_recovers, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    app.node(
        json!({"driver": "fake-hardware", "name": "other-group", "conductor_group": "elsewhere",
                    "driver_info": {"fake_fail_power": true}}),
    )
    .await;
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/states/power",
            Some(json!({"target": "power on"})),
        )
        .await;
    assert_eq!(r.status, 202);
    wait_for(&app, "n", "power_state", json!("power on")).await;
    let conductor = Conductor::new(
        app.db.clone(),
        ConductorConfig {
            host: "test-conductor".into(),
            group: String::new(),
            workers: 4,
            ..ferric_conductor::ConductorConfig::default()
        },
    );
    let report = conductor.sync_power_states().await.unwrap();
    assert_eq!(
        report.checked, 1,
        "only the node of this conductor's group: {report:?}"
    );
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "add", "path": "/driver_info/fake_fail_power", "value": true}])),
        )
        .await;
    assert_eq!(r.status, 200);
    for round in 1..=3 {
        let report = conductor.sync_power_states().await.unwrap();
        let n = app.call("GET", "/v1/nodes/n", None).await.body;
        if round < 3 {
            assert_eq!(report.failed, 1, "{report:?}");
            assert_eq!(n["maintenance"], false);
        } else {
            assert_eq!(report.faulted, 1, "{report:?}");
            assert_eq!(n["maintenance"], true);
            assert_eq!(n["fault"], "power failure");
            assert_eq!(n["power_state"], "error");
            assert!(
                n["maintenance_reason"]
                    .as_str()
                    .unwrap()
                    .contains("3 times"),
                "{n}"
            );
        }
    }
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "remove", "path": "/driver_info/fake_fail_power"}])),
        )
        .await;
    assert_eq!(r.status, 200);
    let report = conductor.sync_power_states().await.unwrap();
    assert_eq!(report.recovered, 1, "{report:?}");
    let n = app.call("GET", "/v1/nodes/n", None).await.body;
    assert_eq!(n["maintenance"], false);
    assert_eq!(n["fault"], Value::Null);
    let r = app
        .call("GET", "/v1/nodes?fault=power%20failure", None)
        .await;
    assert_eq!(r.body["nodes"], json!([]));
});

both_backends!(validate_and_console, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app.call("GET", "/v1/nodes/n/validate", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["power"], json!({"result": true}));
    assert_eq!(r.body["boot"], json!({"result": true}));
    assert!(r.body.get("firmware").is_none());
    let r2 = app.call("GET", "/v1/nodes/validate?node=n", None).await;
    assert_eq!(r2.body, r.body);
    let r = app
        .call_v("GET", "/v1/nodes/n/validate", None, Some("1.30"))
        .await;
    assert!(r.body.get("bios").is_none() && r.body.get("rescue").is_none());

    let r = app.call("GET", "/v1/nodes/n/states/console", None).await;
    assert_eq!(
        r.body,
        json!({"console_enabled": false, "console_info": null})
    );
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/states/console",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let r = app.call("GET", "/v1/nodes/n/states/console", None).await;
    assert_eq!(
        r.body,
        json!({"console_enabled": true, "console_info": {"type": "fake", "url": "fake://"}})
    );
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "replace", "path": "/driver", "value": "fake-hardware"}])),
        )
        .await;
    assert_eq!(r.status, 200, "same driver is no driver change");
    assert_eq!(
        app.call(
            "PUT",
            "/v1/nodes/n/states/console",
            Some(json!({"enabled": "yes"}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        app.call(
            "PUT",
            "/v1/nodes/n/states/console",
            Some(json!({"enabled": false}))
        )
        .await
        .status,
        202
    );

    app.node(
        json!({"driver": "fake-hardware", "name": "quiet", "console_interface": "no-console"}),
    )
    .await;
    let r = app
        .call(
            "PUT",
            "/v1/nodes/quiet/states/console",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = app.call("GET", "/v1/nodes/quiet/validate", None).await;
    assert_eq!(r.body["console"]["result"], Value::Null);
});

both_backends!(waits_time_out, |app: TestApp| async move {
    // An automated clean (`w`) and a manual one (`m`) both wait past their time.
    for (name, target) in [
        ("w", ProvisionState::Available),
        ("m", ProvisionState::Manageable),
    ] {
        app.node(json!({"driver": "fake-hardware", "name": name}))
            .await;
        let mut node = app.db.node_get_by_name(name).await.unwrap();
        let before = node.updated_at;
        node.provision_state = ProvisionState::CleanWait;
        node.target_provision_state = Some(target);
        node.provision_updated_at = Some(ferric_types::Timestamp::from_micros(0));
        node.updated_at = Some(ferric_types::Timestamp::now());
        app.db.node_update(&node, before).await.unwrap();
    }
    let conductor = Conductor::new(
        app.db.clone(),
        ConductorConfig {
            host: "test-conductor".into(),
            group: String::new(),
            workers: 4,
            ..ferric_conductor::ConductorConfig::default()
        },
    );
    let timeouts = ferric_conductor::WaitTimeouts::default();
    assert_eq!(conductor.fail_expired_waits(&timeouts).await.unwrap(), 2);
    let n = app.call("GET", "/v1/nodes/w", None).await.body;
    assert_eq!(n["provision_state"], "clean failed");
    assert_eq!(n["target_provision_state"], "available");
    let m = app.call("GET", "/v1/nodes/m", None).await.body;
    assert_eq!(m["provision_state"], "clean failed");
    assert_eq!(
        m["target_provision_state"], "manageable",
        "a manual clean that timed out fails as it would inline"
    );
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("Timeout reached"),
        "{n}"
    );
    assert_eq!(conductor.fail_expired_waits(&timeouts).await.unwrap(), 0);
});

both_backends!(
    clean_steps_are_planned_and_shown,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_clean_delay": 0.3}})).await;
        provision(&app, "n", json!({"target": "manage"})).await;
        wait_for(&app, "n", "provision_state", json!("manageable")).await;
        for steps in [
            json!([{"interface": "deploy", "step": "no_such_step"}]),
            json!([{"interface": "bios", "step": "apply_configuration"}]),
            json!([{"interface": "deploy", "step": "erase_devices", "args": {"bogus": 1}}]),
            json!([{"interface": "network", "step": "erase_devices"}]),
            json!([]),
        ] {
            let r = provision(&app, "n", json!({"target": "clean", "clean_steps": steps})).await;
            assert_eq!(r.status, 400, "{steps}: {}", r.raw);
        }
        let n = app.call("GET", "/v1/nodes/n", None).await.body;
        assert_eq!(
            n["provision_state"], "manageable",
            "refused cleans change nothing"
        );
        assert_eq!(n["reservation"], Value::Null);

        let steps = json!([
            {"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "x", "value": "y"}]}},
            {"interface": "deploy", "step": "erase_devices"},
        ]);
        let r = provision(&app, "n", json!({"target": "clean", "clean_steps": steps})).await;
        assert_eq!(r.status, 202, "{}", r.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let during = app.call("GET", "/v1/nodes/n", None).await.body;
        assert_eq!(during["provision_state"], "cleaning");
        assert_eq!(during["clean_step"]["step"], "apply_configuration");
        assert_eq!(during["clean_step"]["interface"], "bios");
        let n = wait_for(&app, "n", "provision_state", json!("manageable")).await;
        assert_eq!(n["clean_step"], json!({}));

        let r = app
        .call("PATCH", "/v1/nodes/n", Some(json!([{"op": "add", "path": "/driver_info/fake_fail_erase_devices", "value": true}])))
        .await;
        assert_eq!(r.status, 200);
        let r = provision(&app, "n", json!({"target": "clean", "clean_steps": [{"interface": "deploy", "step": "erase_devices"}]})).await;
        assert_eq!(r.status, 202);
        let n = wait_for(&app, "n", "provision_state", json!("clean failed")).await;
        assert!(
            n["last_error"]
                .as_str()
                .unwrap()
                .contains("Clean step deploy.erase_devices failed"),
            "{n}"
        );
        assert_eq!(n["target_provision_state"], "manageable");
    }
);

both_backends!(waiting_nodes_can_be_aborted, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_wait_clean": true}}),
    )
    .await;
    provision(&app, "n", json!({"target": "manage"})).await;
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    provision(&app, "n", json!({"target": "provide"})).await;
    let n = wait_for(&app, "n", "provision_state", json!("clean wait")).await;
    assert_eq!(n["target_provision_state"], "available");
    assert_eq!(
        n["clean_step"]["step"], "erase_devices_metadata",
        "the waiting step is shown"
    );
    let r = provision(&app, "n", json!({"target": "abort"})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let n = wait_for(&app, "n", "provision_state", json!("clean failed")).await;
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("aborted by request"),
        "{n}"
    );
    assert_eq!(n["clean_step"], json!({}));
    let r = provision(&app, "n", json!({"target": "abort"})).await;
    assert_eq!(r.status, 400, "nothing to abort in clean failed");
    assert_eq!(
        provision(&app, "n", json!({"target": "manage"}))
            .await
            .status,
        202
    );
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
});

both_backends!(newer_microversions, |app: TestApp| async move {
    let v = Some("1.77");
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "name": "n",
            "network_data": {"links": []}, "boot_mode": "uefi"})),
            v,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["network_data"], json!({"links": []}));
    assert_eq!(r.body["boot_mode"], "uefi");
    assert_eq!(r.body["secure_boot"], Value::Null);
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "boot_mode": "dos"})),
            v,
        )
        .await;
    assert_eq!(r.status, 400);

    // Boot mode and secure boot (1.76).
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/secure_boot",
            Some(json!({"target": true})),
            v,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/boot_mode",
            Some(json!({"target": "bios"})),
            v,
        )
        .await;
    assert_eq!(r.status, 400, "bios with secure boot on: {}", r.raw);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/boot_mode",
            Some(json!({"target": "floppy"})),
            v,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app.call_v("GET", "/v1/nodes/n/states", None, v).await;
    assert_eq!(r.body["boot_mode"], "uefi");
    assert_eq!(r.body["secure_boot"], true);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/boot_mode",
            Some(json!({"target": "bios"})),
            Some("1.75"),
        )
        .await;
    assert_eq!(r.status, 404);

    // deploy/undeploy verbs (1.73) and deploy_steps (1.69).
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        app.call_v(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": verb})),
            v,
        )
        .await;
        wait_for(&app, "n", "provision_state", json!(state)).await;
    }
    let bad = json!({"target": "deploy", "deploy_steps": [{"interface": "raid", "step": "nope", "args": {}, "priority": 5}]});
    let r = app
        .call_v("PUT", "/v1/nodes/n/states/provision", Some(bad), v)
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let incomplete = json!({"target": "deploy", "deploy_steps": [{"interface": "raid", "step": "apply_configuration"}]});
    assert_eq!(
        app.call_v("PUT", "/v1/nodes/n/states/provision", Some(incomplete), v)
            .await
            .status,
        400
    );
    let steps =
        json!([{"interface": "raid", "step": "apply_configuration", "args": {}, "priority": 50}]);
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": "deploy", "deploy_steps": steps})),
            v,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    wait_for(&app, "n", "provision_state", json!("active")).await;
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": "undeploy"})),
            v,
        )
        .await;
    assert_eq!(r.status, 202);
    wait_for(&app, "n", "provision_state", json!("available")).await;
    let r = app
        .call_v(
            "PUT",
            "/v1/nodes/n/states/provision",
            Some(json!({"target": "manage", "disable_ramdisk": true})),
            v,
        )
        .await;
    assert_eq!(r.status, 400, "disable_ramdisk only goes with clean");

    let r = app
        .call_v("GET", "/v1/drivers?fields=name,hosts", None, v)
        .await;
    assert_eq!(r.status, 200);
    let keys: Vec<&str> = r.body["drivers"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["hosts", "links", "name"]);
    assert_eq!(
        app.call_v("GET", "/v1/drivers?fields=bogus", None, v)
            .await
            .status,
        400
    );
    assert_eq!(
        app.call_v("GET", "/v1/drivers?fields=name", None, Some("1.76"))
            .await
            .status,
        406
    );
});

both_backends!(history_records_what_happened, |app: TestApp| async move {
    let v = Some("1.78");
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_fail_deploy": true}}),
    )
    .await;
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        provision(&app, "n", json!({"target": verb})).await;
        wait_for(&app, "n", "provision_state", json!(state)).await;
    }
    provision(&app, "n", json!({"target": "active"})).await;
    wait_for(&app, "n", "provision_state", json!("deploy failed")).await;
    app.call(
        "PUT",
        "/v1/nodes/n/maintenance",
        Some(json!({"reason": "checking"})),
    )
    .await;
    let r = app.call_v("GET", "/v1/nodes/n/history", None, v).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let events: Vec<&str> = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(
        events[0].contains("from \"enroll\" to \"verifying\""),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.contains("deploy of node")),
        "{events:?}"
    );
    assert_eq!(*events.last().unwrap(), "Maintenance set: checking");
    let first = &r.body["history"][0];
    assert!(first.get("event_type").is_none(), "short view");
    let errors = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["severity"] == "ERROR")
        .count();
    assert_eq!(errors, 1);
    let r = app
        .call_v("GET", "/v1/nodes/n/history?detail=true&limit=2", None, v)
        .await;
    assert_eq!(r.body["history"][0]["event_type"], "provisioning");
    assert_eq!(r.body["history"][0]["conductor"], "test-conductor");
    assert!(
        r.body["next"].as_str().unwrap().contains("/history?"),
        "{}",
        r.raw
    );
    let uuid = r.body["history"][0]["uuid"].as_str().unwrap();
    let one = app
        .call_v("GET", &format!("/v1/nodes/n/history/{uuid}"), None, v)
        .await;
    assert_eq!(one.body["event_type"], "provisioning");
    assert_eq!(
        app.call_v("GET", "/v1/nodes/n/history/nope", None, v)
            .await
            .status,
        404
    );
    assert_eq!(
        app.call_v("GET", "/v1/nodes/n/history", None, Some("1.77"))
            .await
            .status,
        404
    );
});

both_backends!(microversions_up_to_1_89, |app: TestApp| async move {
    let v = Some("1.89");
    let call = |m: &'static str, p: String, b: Option<Value>| {
        let app = &app;
        async move { app.call_v(m, &p, b, v).await }
    };
    // Shards (1.82).
    for (name, shard) in [
        ("a", Some("s1")),
        ("b", Some("s1")),
        ("c", Some("s2")),
        ("d", None),
    ] {
        let r = call(
            "POST",
            "/v1/nodes".into(),
            Some(json!({"driver": "fake-hardware", "name": name, "shard": shard})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let r = call("GET", "/v1/shards".into(), None).await;
    assert_eq!(
        r.body,
        json!({"shards": [{"name": "s1", "count": 2}, {"name": "s2", "count": 1}, {"name": "None", "count": 1}]})
    );
    let r = call("GET", "/v1/nodes?shard=s1,s2".into(), None).await;
    assert_eq!(r.body["nodes"].as_array().unwrap().len(), 3);
    let r = call("GET", "/v1/nodes?sharded=false".into(), None).await;
    assert_eq!(r.body["nodes"][0]["name"], "d");
    let a = call("GET", "/v1/nodes/a".into(), None).await.body;
    let r = call(
        "POST",
        "/v1/ports".into(),
        Some(json!({"address": "52:54:00:00:00:0a", "node_uuid": a["uuid"], "name": "eth0-a"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let r = call("GET", "/v1/ports?shard=s1".into(), None).await;
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 1);
    // Port names (1.88).
    let r = call("GET", "/v1/ports/eth0-a".into(), None).await;
    assert_eq!(r.body["address"], "52:54:00:00:00:0a");
    let r = call(
        "POST",
        "/v1/ports".into(),
        Some(json!({"address": "52:54:00:00:00:0b", "node_uuid": a["uuid"], "name": "eth0-a"})),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        app.call_v("GET", "/v1/ports/eth0-a", None, Some("1.87"))
            .await
            .status,
        400
    );

    // Parent and children (1.83): children stay out of plain listings.
    let r = call(
        "POST",
        "/v1/nodes".into(),
        Some(json!({"driver": "fake-hardware", "name": "dpu", "parent_node": "a"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["parent_node"], a["uuid"]);
    let names = |r: &crate::harness::Reply| -> Vec<String> {
        r.body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!names(&call("GET", "/v1/nodes".into(), None).await).contains(&"dpu".to_string()));
    assert!(
        names(&call("GET", "/v1/nodes?include_children=true".into(), None).await)
            .contains(&"dpu".to_string())
    );
    assert_eq!(
        names(&call("GET", "/v1/nodes?parent_node=a".into(), None).await),
        ["dpu"]
    );
    let r = call("GET", "/v1/nodes/a/children".into(), None).await;
    assert_eq!(r.body["children"].as_array().unwrap().len(), 1);
    let r = call(
        "POST",
        "/v1/nodes".into(),
        Some(json!({"driver": "fake-hardware", "parent_node": "ghost"})),
    )
    .await;
    assert_eq!(r.status, 400);

    // Inventory (1.81) and firmware (1.86).
    assert_eq!(
        call("GET", "/v1/nodes/a/inventory".into(), None)
            .await
            .status,
        404
    );
    assert_eq!(
        call("GET", "/v1/nodes/a/firmware".into(), None).await.body,
        json!({"firmware": []})
    );

    // Virtual media (1.89).
    let r = call(
        "POST",
        "/v1/nodes/a/vmedia".into(),
        Some(json!({"device_type": "cdrom", "image_url": "http://127.0.0.1/x.iso"})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let stored = app.db.node_get_by_name("a").await.unwrap();
    assert_eq!(
        stored.driver_internal_info["fake_virtual_media"]["cdrom"],
        "http://127.0.0.1/x.iso"
    );
    let r = call(
        "POST",
        "/v1/nodes/a/vmedia".into(),
        Some(json!({"device_type": "tape", "image_url": "http://x"})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        call(
            "DELETE",
            "/v1/nodes/a/vmedia?device_types=cdrom".into(),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.call_v("POST", "/v1/nodes/a/vmedia", Some(json!({})), Some("1.88"))
            .await
            .status,
        404
    );

    // Service (1.87) on an active node; unhold (1.85) has nothing to release.
    for (verb, state) in [
        ("manage", "manageable"),
        ("provide", "available"),
        ("deploy", "active"),
    ] {
        call(
            "PUT",
            "/v1/nodes/a/states/provision".into(),
            Some(json!({"target": verb})),
        )
        .await;
        wait_for(&app, "a", "provision_state", json!(state)).await;
    }
    let r = call(
        "PUT",
        "/v1/nodes/a/states/provision".into(),
        Some(json!({"target": "service"})),
    )
    .await;
    assert_eq!(r.status, 400, "service needs steps");
    let steps =
        json!([{"interface": "bios", "step": "apply_configuration", "args": {"settings": []}}]);
    let r = call(
        "PUT",
        "/v1/nodes/a/states/provision".into(),
        Some(json!({"target": "service", "service_steps": steps})),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    wait_for(&app, "a", "provision_state", json!("active")).await;
    let n = call("GET", "/v1/nodes/a".into(), None).await.body;
    assert_eq!(n["service_step"], json!({}));
    let r = call(
        "PUT",
        "/v1/nodes/a/states/provision".into(),
        Some(json!({"target": "unhold"})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        call("POST", "/v1/continue_inspection".into(), Some(json!({})))
            .await
            .status,
        400,
        "inspection data without an inventory"
    );
});

both_backends!(raid_and_bios_through_cleaning, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let target = json!({"logical_disks": [
        {"size_gb": 100, "raid_level": "1", "is_root_volume": true},
        {"size_gb": "MAX", "raid_level": "5"},
    ]});
    let r = app
        .call("PUT", "/v1/nodes/n/states/raid", Some(target.clone()))
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    for bad in [
        json!({"logical_disks": [{"size_gb": 0, "raid_level": "1"}]}),
        json!({"logical_disks": [{"size_gb": 10, "raid_level": "7"}]}),
        json!({"logical_disks": [{"size_gb": 10, "raid_level": "1", "colour": "red"}]}),
        json!({"bogus": []}),
    ] {
        assert_eq!(
            app.call("PUT", "/v1/nodes/n/states/raid", Some(bad.clone()))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        app.call_v(
            "PUT",
            "/v1/nodes/n/states/raid",
            Some(json!({})),
            Some("1.11")
        )
        .await
        .status,
        406
    );
    let r = app
        .call(
            "GET",
            "/v1/drivers/fake-hardware/raid/logical_disk_properties",
            None,
        )
        .await;
    assert!(r.body["raid_level"].is_string());

    provision(&app, "n", json!({"target": "manage"})).await;
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    let steps = json!([
        {"interface": "raid", "step": "delete_configuration"},
        {"interface": "raid", "step": "create_configuration"},
        {"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "ProcVirtualization", "value": "Disabled"}]}},
    ]);
    assert_eq!(
        provision(&app, "n", json!({"target": "clean", "clean_steps": steps}))
            .await
            .status,
        202
    );
    let n = wait_for(&app, "n", "provision_state", json!("manageable")).await;
    assert_eq!(n["raid_config"], target);
    let r = app.call("GET", "/v1/nodes/n/states", None).await;
    assert_eq!(r.body["target_raid_config"], target);

    let r = app.call("GET", "/v1/nodes/n/bios", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let virt = r.body["bios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ProcVirtualization")
        .unwrap()
        .clone();
    assert_eq!(virt["value"], "Disabled");
    let r = app
        .call("GET", "/v1/nodes/n/bios/ProcVirtualization", None)
        .await;
    assert_eq!(r.body["ProcVirtualization"]["value"], "Disabled");
    assert_eq!(
        app.call("GET", "/v1/nodes/n/bios/Nope", None).await.status,
        404
    );
    let r = app
        .call_v("GET", "/v1/nodes/n/bios?detail=true", None, Some("1.74"))
        .await;
    assert!(r.body["bios"][0].get("read_only").is_some());
    assert_eq!(
        app.call_v("GET", "/v1/nodes/n/bios", None, Some("1.39"))
            .await
            .status,
        404
    );

    app.node(json!({"driver": "fake-hardware", "name": "plain", "raid_interface": "no-raid", "bios_interface": "no-bios"})).await;
    assert_eq!(
        app.call("PUT", "/v1/nodes/plain/states/raid", Some(json!({})))
            .await
            .status,
        404
    );
    assert_eq!(
        app.call("GET", "/v1/nodes/plain/bios", None).await.body,
        json!({"bios": []})
    );
});

both_backends!(vendor_passthru, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app
        .call("GET", "/v1/nodes/n/vendor_passthru/methods", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["third_method_sync"]["async"], false);
    assert_eq!(r.body["second_method"]["http_methods"], json!(["POST"]));
    let r = app
        .call(
            "POST",
            "/v1/nodes/n/vendor_passthru?method=third_method_sync",
            Some(json!({"x": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body, json!({"x": 1}));
    let r = app
        .call(
            "POST",
            "/v1/nodes/n/vendor_passthru/second_method",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        app.call(
            "GET",
            "/v1/nodes/n/vendor_passthru?method=third_method_sync",
            None
        )
        .await
        .status,
        400
    );
    assert_eq!(
        app.call(
            "POST",
            "/v1/nodes/n/vendor_passthru?method=nope",
            Some(json!({}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        app.call("POST", "/v1/nodes/n/vendor_passthru", Some(json!({})))
            .await
            .status,
        400
    );
    app.node(json!({"driver": "fake-hardware", "name": "plain", "vendor_interface": "no-vendor"}))
        .await;
    let r = app
        .call("GET", "/v1/nodes/plain/vendor_passthru/methods", None)
        .await;
    assert_eq!(r.body, json!({}));
});

both_backends!(
    illegal_verbs_are_400_in_every_state,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let mut checked = 0;
        for state in ProvisionState::ALL {
            // Put the node straight into the state, unlocked, as a conductor would leave it.
            let mut node = app.db.node_get_by_name("n").await.unwrap();
            let before = node.updated_at;
            node.provision_state = *state;
            node.target_provision_state = fsm::target_of(*state, false);
            node.updated_at = Some(ferric_types::Timestamp::now());
            app.db.node_update(&node, before).await.unwrap();
            for verb in VERBS
                .iter()
                .filter(|v| fsm::next(*state, v.event).is_none())
            {
                let mut body = json!({"target": verb.name});
                if verb.name == "rescue" {
                    body["rescue_password"] = json!("pw");
                }
                let r = app
                    .call_v(
                        "PUT",
                        "/v1/nodes/n/states/provision",
                        Some(body),
                        Some("1.89"),
                    )
                    .await;
                assert_eq!(r.status, 400, "{} in {state}: {}", verb.name, r.raw);
                checked += 1;
            }
        }
        assert!(
            checked > 300,
            "{checked} illegal (state, verb) pairs checked"
        );
    }
);

both_backends!(indicators, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app
        .call("GET", "/v1/nodes/n/management/indicators", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let names: Vec<&str> = r.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["led-0@chassis", "led@system"]);
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/indicators/led@system",
            Some(json!({"state": "blinking"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call("GET", "/v1/nodes/n/management/indicators/led@system", None)
        .await;
    assert_eq!(r.body, json!({"state": "blinking"}));
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/indicators/led-0@chassis",
            Some(json!({"state": "on"})),
        )
        .await;
    assert_eq!(r.status, 400, "read-only");
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/management/indicators/led@system",
            Some(json!({"state": "purple"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        app.call("GET", "/v1/nodes/n/management/indicators/nope@disk", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.call_v(
            "GET",
            "/v1/nodes/n/management/indicators",
            None,
            Some("1.62")
        )
        .await
        .status,
        404
    );
});

both_backends!(non_abortable_steps_are_flagged, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "n", "driver_info": {"fake_wait_clean": true}}),
    )
    .await;
    provision(&app, "n", json!({"target": "manage"})).await;
    wait_for(&app, "n", "provision_state", json!("manageable")).await;
    let steps = json!([{"interface": "raid", "step": "delete_configuration"}]);
    assert_eq!(
        provision(&app, "n", json!({"target": "clean", "clean_steps": steps}))
            .await
            .status,
        202
    );
    let n = wait_for(&app, "n", "provision_state", json!("clean wait")).await;
    assert_eq!(n["clean_step"]["abortable"], false);
    let r = provision(&app, "n", json!({"target": "abort"})).await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let n = wait_for(&app, "n", "provision_state", json!("clean wait")).await;
    assert_eq!(
        n["driver_internal_info"]["abort_after"], true,
        "flagged, not aborted"
    );
});
