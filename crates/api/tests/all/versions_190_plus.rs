//! The microversions after 1.89, each one below, at and above its boundary: OVN
//! VTEP keys (1.90–1.104), the `.json` suffix (1.91), GET vmedia (1.93), port
//! `node_ident` (1.94), `disable_power_off` (1.95), port and port group fields and
//! filters (1.97–1.106), `instance_name` (1.104), `disable_ramdisk` with service
//! (1.108) and abort in `wait call-back` (1.110).

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

const MAC: &str = "52:54:00:12:34:56";

both_backends!(
    vtep_keys_live_from_1_90_to_1_104,
    |app: TestApp| async move {
        let node = app
            .node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let uuid = node["uuid"].as_str().unwrap();
        let vtep =
            json!({"port_id": "p1", "vtep-logical-switch": "ls1", "vtep-physical-switch": "ps1"});
        for (version, status) in [("1.89", 406), ("1.90", 201), ("1.105", 406)] {
            let mac = if status == 201 {
                MAC
            } else {
                "52:54:00:00:00:01"
            };
            let r = app
                .call_v(
                    "POST",
                    "/v1/ports",
                    Some(json!({"node_uuid": uuid, "address": mac, "local_link_connection": vtep})),
                    Some(version),
                )
                .await;
            assert_eq!(r.status, status, "{version}: {}", r.raw);
        }
        let r = app
            .call_v(
                "POST",
                "/v1/ports",
                Some(json!({"node_uuid": uuid, "address": "52:54:00:00:00:02",
                "local_link_connection": {"port_id": "p1", "vtep-logical-switch": "ls1"}})),
                Some("1.90"),
            )
            .await;
        assert_eq!(r.status, 400, "the two keys go together: {}", r.raw);
        let old = app
            .call_v(
                "GET",
                &format!("/v1/ports/detail?address={MAC}"),
                None,
                Some("1.89"),
            )
            .await;
        assert_eq!(
            old.body["ports"][0]["local_link_connection"],
            json!({}),
            "{}",
            old.raw
        );
        let new = app
            .call_v(
                "GET",
                &format!("/v1/ports/detail?address={MAC}"),
                None,
                Some("1.90"),
            )
            .await;
        assert_eq!(
            new.body["ports"][0]["local_link_connection"]["vtep-logical-switch"],
            "ls1"
        );
    }
);

both_backends!(json_suffix_is_a_name_from_1_91, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n1"}))
        .await;
    app.node(json!({"driver": "fake-hardware", "name": "n2.json"}))
        .await;
    let r = app
        .call_v("GET", "/v1/nodes/n1.json", None, Some("1.90"))
        .await;
    assert_eq!(r.status, 200, "stripped below 1.91: {}", r.raw);
    assert_eq!(r.body["name"], "n1");
    let r = app
        .call_v("GET", "/v1/nodes/n1.json", None, Some("1.91"))
        .await;
    assert_eq!(r.status, 404, "a name from 1.91: {}", r.raw);
    let r = app
        .call_v("GET", "/v1/nodes/n2.json", None, Some("1.91"))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["name"], "n2.json");
});

both_backends!(vmedia_can_be_read_from_1_93, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app
        .call_v("GET", "/v1/nodes/n/vmedia", None, Some("1.92"))
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    let r = app
        .call_v(
            "POST",
            "/v1/nodes/n/vmedia",
            Some(json!({"device_type": "cdrom", "image_url": "http://127.0.0.1/boot.iso"})),
            Some("1.93"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .call_v("GET", "/v1/nodes/n/vmedia", None, Some("1.93"))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let cd = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["media_types"] == json!(["CD"]))
        .cloned()
        .unwrap();
    assert_eq!(
        cd,
        json!({"media_types": ["CD"], "inserted": true, "image": "http://127.0.0.1/boot.iso"})
    );
});

both_backends!(
    ports_name_their_node_by_ident_from_1_94,
    |app: TestApp| async move {
        let node = app
            .node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let body = json!({"node_ident": "n", "address": MAC});
        let r = app
            .call_v("POST", "/v1/ports", Some(body.clone()), Some("1.93"))
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "POST",
                "/v1/ports",
                Some(json!({"address": MAC})),
                Some("1.94"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let both = json!({"node_ident": "n", "node_uuid": node["uuid"], "address": MAC});
        let r = app
            .call_v("POST", "/v1/ports", Some(both), Some("1.94"))
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let r = app
            .call_v(
                "POST",
                "/v1/ports",
                Some(json!({"node_ident": "nope", "address": MAC})),
                Some("1.94"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let r = app
            .call_v("POST", "/v1/ports", Some(body), Some("1.94"))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["node_uuid"], node["uuid"]);
    }
);

both_backends!(
    disable_power_off_keeps_the_machine_on,
    |app: TestApp| async move {
        let r = app
            .call_v(
                "POST",
                "/v1/nodes",
                Some(json!({"driver": "fake-hardware", "name": "n", "disable_power_off": true})),
                Some("1.94"),
            )
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "POST",
                "/v1/nodes",
                Some(json!({"driver": "fake-hardware", "name": "n", "disable_power_off": true})),
                Some("1.95"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["disable_power_off"], true);
        let r = app.call_v("GET", "/v1/nodes/n", None, Some("1.94")).await;
        assert!(
            r.body.get("disable_power_off").is_none(),
            "hidden below 1.95"
        );
        for target in ["power off", "soft power off"] {
            let r = app
                .call_v(
                    "PUT",
                    "/v1/nodes/n/states/power",
                    Some(json!({"target": target})),
                    Some("1.95"),
                )
                .await;
            assert_eq!(r.status, 409, "{target}: {}", r.raw);
        }
        let r = app
            .call_v(
                "PUT",
                "/v1/nodes/n/states/power",
                Some(json!({"target": "rebooting"})),
                Some("1.95"),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        app.settle("n", "enroll").await;
        let r = app
            .call_v(
                "PATCH",
                "/v1/nodes/n",
                Some(json!([{"op": "replace", "path": "/disable_power_off", "value": false}])),
                Some("1.95"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.body["disable_power_off"], false);
    }
);

both_backends!(
    port_and_portgroup_fields_of_1_97_to_1_111,
    |app: TestApp| async move {
        let node = app
            .node(json!({"driver": "fake-hardware", "name": "n", "conductor_group": "rack1"}))
            .await;
        let uuid = node["uuid"].as_str().unwrap();
        for (field, value, since) in [
            ("description", json!("uplink"), "1.97"),
            ("vendor", json!("purple"), "1.100"),
            ("category", json!("storage"), "1.101"),
            ("available_for_dynamic_portgroup", json!(false), "1.111"),
        ] {
            let minor: u16 = since[2..].parse().unwrap();
            let below = format!("1.{}", minor - 1);
            let r = app
                .call_v(
                    "POST",
                    "/v1/ports",
                    Some(json!({"node_uuid": uuid, "address": MAC, field: value})),
                    Some(&below),
                )
                .await;
            assert_eq!(r.status, 406, "{field} at {below}: {}", r.raw);
        }
        let r = app
            .call_v(
                "POST",
                "/v1/ports",
                Some(json!({"node_uuid": uuid, "address": MAC,
            "description": "uplink", "vendor": "purple", "category": "storage",
            "available_for_dynamic_portgroup": false})),
                Some("1.111"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["vendor"], "purple");
        let r = app
            .call_v(
                "POST",
                "/v1/ports",
                Some(json!({"node_uuid": uuid, "address": "52:54:00:00:00:09",
            "vendor": "x".repeat(33)})),
                Some("1.111"),
            )
            .await;
        assert_eq!(r.status, 400, "vendor is at most 32: {}", r.raw);
        let r = app
            .call_v(
                "GET",
                &format!("/v1/ports/detail?address={MAC}"),
                None,
                Some("1.99"),
            )
            .await;
        let port = r.body["ports"][0].as_object().unwrap();
        assert!(
            port.contains_key("description") && !port.contains_key("vendor"),
            "{}",
            r.raw
        );
        let r = app
            .call_v(
                "GET",
                &format!("/v1/ports/detail?address={MAC}"),
                None,
                Some("1.111"),
            )
            .await;
        assert_eq!(r.body["ports"][0]["available_for_dynamic_portgroup"], false);

        // description_contains (1.97) and conductor_groups (1.99).
        let r = app
            .call_v(
                "GET",
                "/v1/ports?description_contains=upl",
                None,
                Some("1.96"),
            )
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/ports?description_contains=upl",
                None,
                Some("1.97"),
            )
            .await;
        assert_eq!(r.body["ports"].as_array().unwrap().len(), 1, "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/ports?conductor_groups=RACK1,other",
                None,
                Some("1.99"),
            )
            .await;
        assert_eq!(r.body["ports"].as_array().unwrap().len(), 1, "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/ports?conductor_groups=other",
                None,
                Some("1.99"),
            )
            .await;
        assert_eq!(r.body["ports"], json!([]), "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/ports?conductor_groups=rack1&node=n",
                None,
                Some("1.99"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/ports?conductor_groups=rack1",
                None,
                Some("1.98"),
            )
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);

        // Port groups: physical_network (1.102), category (1.103), shard filter (1.106).
        let r = app
            .call_v(
                "POST",
                "/v1/portgroups",
                Some(json!({"node_uuid": uuid, "name": "bond0", "physical_network": "fabric"})),
                Some("1.101"),
            )
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "POST",
                "/v1/portgroups",
                Some(json!({"node_uuid": uuid, "name": "bond0",
            "physical_network": "fabric", "category": "bond"})),
                Some("1.111"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["physical_network"], "fabric");
        assert_eq!(r.body["dynamic_portgroup"], false);
        let r = app
            .call_v("GET", "/v1/portgroups/bond0", None, Some("1.102"))
            .await;
        assert!(r.body.get("category").is_none(), "{}", r.raw);
        let r = app
            .call_v("GET", "/v1/portgroups?shard=s1", None, Some("1.105"))
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v("GET", "/v1/portgroups?shard=s1", None, Some("1.106"))
            .await;
        assert_eq!(r.body["portgroups"], json!([]), "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/portgroups?conductor_groups=rack1",
                None,
                Some("1.106"),
            )
            .await;
        assert_eq!(
            r.body["portgroups"].as_array().unwrap().len(),
            1,
            "{}",
            r.raw
        );
        let r = app
            .call_v("GET", "/v1/portgroups?shard=s1&node=n", None, Some("1.106"))
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
    }
);

both_backends!(instance_name_from_1_104, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app
        .call_v(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "add", "path": "/instance_name", "value": "web1"}])),
            Some("1.103"),
        )
        .await;
    assert_eq!(r.status, 406, "{}", r.raw);
    // A display_name in instance_info names the instance when nothing else has.
    let r = app
        .call_v(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "add", "path": "/instance_info/display_name", "value": "web0"}])),
            Some("1.104"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["instance_name"], "web0");
    let r = app
        .call_v(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "replace", "path": "/instance_name", "value": "web1"}])),
            Some("1.104"),
        )
        .await;
    assert_eq!(r.body["instance_name"], "web1");
    let r = app
        .call_v(
            "PATCH",
            "/v1/nodes/n",
            Some(json!([{"op": "replace", "path": "/instance_name", "value": ""}])),
            Some("1.104"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = app
        .call_v("GET", "/v1/nodes?instance_name=web1", None, Some("1.104"))
        .await;
    assert_eq!(r.body["nodes"].as_array().unwrap().len(), 1, "{}", r.raw);
    let r = app
        .call_v("GET", "/v1/nodes?instance_name=web1", None, Some("1.103"))
        .await;
    assert_eq!(r.status, 406, "{}", r.raw);
    let r = app.call_v("GET", "/v1/nodes/n", None, Some("1.103")).await;
    assert!(r.body.get("instance_name").is_none());
});

both_backends!(
    service_disable_ramdisk_and_deploy_wait_abort,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        for (verb, want) in [
            ("manage", "manageable"),
            ("provide", "available"),
            ("active", "active"),
        ] {
            let r = app.provision("n", verb).await;
            assert_eq!(r.status, 202, "{}", r.raw);
            app.settle("n", want).await;
        }
        let r = app
        .call_v("PUT", "/v1/nodes/n/states/provision",
            Some(json!({"target": "service", "service_steps": [{"interface": "deploy", "step": "x"}],
                "disable_ramdisk": true})), Some("1.107"))
        .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "PUT",
                "/v1/nodes/n/states/provision",
                Some(json!({"target": "rebuild", "disable_ramdisk": true})),
                Some("1.108"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);

        let waiting = app
        .node(json!({"driver": "fake-hardware", "name": "w", "driver_info": {"fake_wait_deploy": true}}))
        .await;
        assert_eq!(waiting["name"], "w");
        for verb in ["manage", "provide"] {
            app.provision("w", verb).await;
            let want = if verb == "manage" {
                "manageable"
            } else {
                "available"
            };
            app.settle("w", want).await;
        }
        let r = app.provision("w", "active").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let n = app.settle("w", "wait call-back").await;
        assert_eq!(n["provision_state"], "wait call-back");
        let abort = json!({"target": "abort"});
        let r = app
            .call_v(
                "PUT",
                "/v1/nodes/w/states/provision",
                Some(abort.clone()),
                Some("1.109"),
            )
            .await;
        assert_eq!(r.status, 406, "{}", r.raw);
        let r = app
            .call_v(
                "PUT",
                "/v1/nodes/w/states/provision",
                Some(abort),
                Some("1.110"),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        // The fake deploy step cannot stop midway: the abort waits for it to end.
        let history = app
            .call_v("GET", "/v1/nodes/w/history", None, Some("1.110"))
            .await;
        let events: Vec<&str> = history.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e: &Value| e["event"].as_str())
            .collect();
        assert!(
            events
                .iter()
                .any(|e| e.starts_with("Abort requested; step deploy.deploy")),
            "{events:?}"
        );
    }
);

both_backends!(
    health_is_read_during_power_sync,
    |app: TestApp| async move {
        use ferric_conductor::{Conductor, ConductorConfig};
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let conductor = Conductor::new(
            app.db.clone(),
            ConductorConfig {
                host: "test-conductor".into(),
                workers: 4,
                ..ConductorConfig::default()
            },
        );
        conductor.sync_power_states().await.unwrap();
        let r = app.call_v("GET", "/v1/nodes/n", None, Some("1.109")).await;
        assert_eq!(r.body["health"], "OK", "{}", r.raw);
        let r = app.call_v("GET", "/v1/nodes/n", None, Some("1.108")).await;
        assert!(r.body.get("health").is_none());
        let r = app
            .call_v(
                "PATCH",
                "/v1/nodes/n",
                Some(json!([{"op": "add", "path": "/health", "value": "OK"}])),
                Some("1.109"),
            )
            .await;
        assert_eq!(r.status, 400, "health is read-only: {}", r.raw);
        let r = app
            .call(
                "PATCH",
                "/v1/nodes/n",
                Some(
                    json!([{"op": "add", "path": "/driver_info/fake_health", "value": "Critical"}]),
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        conductor.sync_power_states().await.unwrap();
        let r = app.call_v("GET", "/v1/nodes/n", None, Some("1.109")).await;
        assert_eq!(r.body["health"], "Critical");
        let history = app
            .call_v(
                "GET",
                "/v1/nodes/n/history?detail=true",
                None,
                Some("1.115"),
            )
            .await;
        let change = history.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["event_type"] == "monitoring"
                    && e["event"].as_str().unwrap().contains("to Critical")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{}", history.raw));
        // 1.115: the entry tells the node's state when it was written.
        assert_eq!(change["state"], "enroll");
        assert!(change["duration_seconds"].is_null() || change["duration_seconds"].is_number());
        let old = app
            .call_v(
                "GET",
                "/v1/nodes/n/history?detail=true",
                None,
                Some("1.114"),
            )
            .await;
        assert!(old.body["history"][0].get("state").is_none(), "{}", old.raw);
    }
);

both_backends!(
    firmware_is_cached_after_verify_and_clean,
    |app: TestApp| async move {
        app.node(json!({"driver": "fake-hardware", "name": "n"}))
            .await;
        let r = app
            .call_v("GET", "/v1/nodes/n/firmware", None, Some("1.114"))
            .await;
        assert_eq!(
            r.body,
            json!({"firmware": []}),
            "nothing read yet: {}",
            r.raw
        );
        app.provision("n", "manage").await;
        app.settle("n", "manageable").await;
        let r = app
            .call_v("GET", "/v1/nodes/n/firmware", None, Some("1.114"))
            .await;
        let bmc = r.body["firmware"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["component"] == "bmc")
            .cloned()
            .unwrap_or_else(|| panic!("{}", r.raw));
        assert_eq!(bmc["current_version"], "2.0.0");
        assert_eq!(bmc["model"], "fake-bmc");
        let r = app
            .call_v("GET", "/v1/nodes/n/firmware", None, Some("1.113"))
            .await;
        assert!(r.body["firmware"][0].get("model").is_none(), "{}", r.raw);
        let r = app
            .call_v(
                "GET",
                "/v1/nodes/n/firmware?fields=component,model",
                None,
                Some("1.113"),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        // A newer BIOS after a clean is the last version flashed.
        let r = app
        .call("PATCH", "/v1/nodes/n", Some(json!([{"op": "add", "path": "/driver_info/fake_bios_version", "value": "1.1.0"}])))
        .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        app.provision("n", "provide").await;
        app.settle("n", "available").await;
        let r = app
        .call_v("GET", "/v1/nodes/n/firmware?fields=component,initial_version,current_version,last_version_flashed", None, Some("1.114"))
        .await;
        let bios = r.body["firmware"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["component"] == "bios")
            .cloned()
            .unwrap();
        assert_eq!(
            bios,
            json!({"component": "bios", "initial_version": "1.0.0", "current_version": "1.1.0",
               "last_version_flashed": "1.1.0"})
        );
    }
);
