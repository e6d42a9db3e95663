//! In-band inspection through the API: a manageable node with the `agent` inspect
//! interface waits in `inspect wait`; `POST /v1/continue_inspection` with the
//! inventory finds it by MAC, the conductor records the inventory and properties and
//! the node is `manageable` again; refusals change nothing.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

const MAC: &str = "52:54:00:12:34:77";

fn data(mac: &str) -> Value {
    json!({
        "inventory": {
            "interfaces": [{"name": "eth0", "mac_address": mac}],
            "cpu": {"count": 4, "architecture": "x86_64", "model_name": "Test CPU"},
            "memory": {"total": 8_589_934_592u64, "physical_mb": 8192},
            "disks": [{"name": "/dev/sda", "size": 107_374_182_400u64}],
        },
        "root_disk": {"name": "/dev/sda", "size": 107_374_182_400u64},
        "boot_interface": format!("01-{}", mac.replace(':', "-")),
        "error": null,
    })
}

both_backends!(
    agent_inspection_records_the_inventory,
    |app: TestApp| async move {
        let node = app
            .node(json!({"driver": "fake-hardware", "name": "i", "inspect_interface": "agent"}))
            .await;
        let uuid = node["uuid"].as_str().unwrap().to_string();
        app.port(&uuid, MAC).await;
        let r = app.provision("i", "manage").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        app.settle("i", "manageable").await;

        // Not inspecting yet: nobody is waiting for this data.
        let r = app
            .call_v("POST", "/v1/continue_inspection", Some(data(MAC)), None)
            .await;
        assert_eq!(r.status, 404, "{}", r.raw);

        let r = app.provision("i", "inspect").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let waiting = app.settle("i", "inspect wait").await;
        assert!(waiting["inspection_started_at"].is_string());

        for (bad, why) in [
            (json!({"inventory": {"interfaces": []}}), "no interfaces"),
            (json!({"inventory": "x"}), "no inventory"),
            (json!([1, 2]), "must be a JSON object"),
            (
                json!({"inventory": {"interfaces": [{"name": "eth0"}]}}),
                "mac_address",
            ),
        ] {
            let r = app
                .call_v("POST", "/v1/continue_inspection", Some(bad), None)
                .await;
            assert_eq!(r.status, 400, "{}", r.raw);
            assert!(r.raw.contains(why), "{why}: {}", r.raw);
        }
        let r = app
            .call_v(
                "POST",
                "/v1/continue_inspection",
                Some(data("52:54:00:00:00:01")),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "an unknown MAC: {}", r.raw);
        let r = app
            .call_v(
                "POST",
                "/v1/continue_inspection?colour=red",
                Some(data(MAC)),
                None,
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        let stranger = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";
        let r = app
            .call_v(
                "POST",
                &format!("/v1/continue_inspection?node_uuid={stranger}"),
                Some(data(MAC)),
                None,
            )
            .await;
        assert_eq!(
            r.status, 404,
            "node_uuid must name the MACs' node: {}",
            r.raw
        );
        let after = app.call("GET", "/v1/nodes/i", None).await.body;
        assert_eq!(
            after["provision_state"], "inspect wait",
            "refusals change nothing"
        );
        assert_eq!(after["properties"], json!({}));

        // The agent posts without a version header and is told its node. Its logs
        // are not kept.
        let mut with_logs = data(MAC);
        with_logs["logs"] = json!("H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAAAA==");
        let r = app
            .call_v(
                "POST",
                &format!("/v1/continue_inspection?node_uuid={uuid}"),
                Some(with_logs),
                None,
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        assert_eq!(r.body, json!({"uuid": uuid}));
        let done = app.settle("i", "manageable").await;
        assert_eq!(
            done["properties"],
            json!({"cpus": 4, "cpu_arch": "x86_64", "memory_mb": 8192, "local_gb": 99})
        );
        assert!(done["inspection_finished_at"].is_string());
        assert!(done["last_error"].is_null(), "{}", done["last_error"]);
        assert_eq!(done["power_state"], "power off");
        let dii = &done["driver_internal_info"];
        assert!(dii.get("inspection_ramdisk_booting").is_none(), "{dii}");
        assert!(dii.get("inspection_data_received").is_none(), "{dii}");

        let inv = app
            .call_v("GET", "/v1/nodes/i/inventory", None, Some("1.81"))
            .await;
        assert_eq!(inv.status, 200, "{}", inv.raw);
        assert_eq!(inv.body["inventory"]["cpu"]["model_name"], "Test CPU");
        assert_eq!(inv.body["plugin_data"]["root_disk"]["name"], "/dev/sda");
        assert!(inv.body["plugin_data"].get("inventory").is_none());
        assert!(inv.body["plugin_data"].get("logs").is_none(), "{}", inv.raw);

        // Data for a node no longer waiting is refused.
        let r = app
            .call_v("POST", "/v1/continue_inspection", Some(data(MAC)), None)
            .await;
        assert_eq!(r.status, 404, "{}", r.raw);

        // From 1.84 the answer is the lookup's, with the agent token.
        let r = app.provision("i", "inspect").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        app.settle("i", "inspect wait").await;
        let r = app
            .call_v(
                "POST",
                "/v1/continue_inspection",
                Some(data(MAC)),
                Some("1.84"),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.raw);
        assert_eq!(r.body["node"]["uuid"], json!(uuid));
        assert!(
            r.body["config"]["agent_token"]
                .as_str()
                .is_some_and(|t| t.len() >= 32),
            "{}",
            r.raw
        );
        app.settle("i", "manageable").await;
        let inv = app
            .call_v("GET", "/v1/nodes/i/inventory", None, Some("1.81"))
            .await;
        assert_eq!(inv.status, 200);
        let done = app.call("GET", "/v1/nodes/i", None).await.body;
        assert!(
            done["driver_internal_info"]
                .get("agent_secret_token")
                .is_none(),
            "the token goes with the inspection: {}",
            done["driver_internal_info"]
        );

        // An aborted inspection powers the machine off and leaves nothing behind.
        let r = app.provision("i", "inspect").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let waiting = app.settle("i", "inspect wait").await;
        assert_eq!(waiting["power_state"], "power on");
        let r = app.provision("i", "abort").await;
        assert_eq!(r.status, 202, "{}", r.raw);
        let aborted = app.settle("i", "inspect failed").await;
        assert_eq!(aborted["power_state"], "power off");
        let dii = &aborted["driver_internal_info"];
        assert!(dii.get("inspection_ramdisk_booting").is_none(), "{dii}");
        let r = app
            .call_v("POST", "/v1/continue_inspection", Some(data(MAC)), None)
            .await;
        assert_eq!(
            r.status, 404,
            "an aborted inspection takes no data: {}",
            r.raw
        );
    }
);

/// A manageable node with the agent inspect interface, waiting for its data.
async fn waiting_node(app: &TestApp, name: &str, mac: &str) {
    let node = app
        .node(json!({"driver": "fake-hardware", "name": name, "inspect_interface": "agent"}))
        .await;
    app.port(node["uuid"].as_str().unwrap(), mac).await;
    app.provision(name, "manage").await;
    app.settle(name, "manageable").await;
    let r = app.provision(name, "inspect").await;
    assert_eq!(r.status, 202, "{}", r.raw);
    app.settle(name, "inspect wait").await;
}

both_backends!(inspection_rules_run_at_the_end, |app: TestApp| async move {
    for body in [
        json!({"description": "memory class", "priority": 10,
               "conditions": [{"op": "!lt", "args": {"values": ["{inventory[memory][physical_mb]}", 4096]}}],
               "actions": [{"op": "add-trait", "args": {"name": "CUSTOM_BIG_MEMORY"}},
                           {"op": "set-attribute", "args": {"path": "/properties/memory_class", "value": "big"}}]}),
        json!({"description": "mark the first machine's NIC",
               "conditions": [{"op": "eq", "args": {"values": ["{inventory[interfaces][0][mac_address]}", MAC]}}],
               "actions": [{"op": "set-port-attribute", "args": {"port_id": MAC, "path": "/extra/inspected", "value": true}}]}),
        json!({"description": "not for this rack", "priority": 5,
               "conditions": [{"op": "eq", "args": {"values": ["{inventory[cpu][model_name]}", "Test CPU"]}},
                              {"op": "is-true", "args": {"value": "{node.extra[reject]}"}}],
               "actions": [{"op": "fail", "args": {"msg": "this CPU is not welcome"}}]}),
    ] {
        let r = app
            .call_v("POST", "/v1/inspection_rules", Some(body), Some("1.96"))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    waiting_node(&app, "ok", MAC).await;
    let r = app
        .call_v("POST", "/v1/continue_inspection", Some(data(MAC)), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let n = app.settle("ok", "manageable").await;
    assert_eq!(n["properties"]["memory_class"], "big", "{n}");
    let traits = app.call("GET", "/v1/nodes/ok/traits", None).await;
    assert_eq!(
        traits.body["traits"],
        json!(["CUSTOM_BIG_MEMORY"]),
        "{}",
        traits.raw
    );
    let port = app
        .call("GET", &format!("/v1/ports/detail?address={MAC}"), None)
        .await;
    assert_eq!(
        port.body["ports"][0]["extra"]["inspected"], true,
        "{}",
        port.raw
    );

    // A rule's fail action fails the inspection, naming the rule.
    let other = "52:54:00:12:34:78";
    waiting_node(&app, "bad", other).await;
    let r = app
        .call(
            "PATCH",
            "/v1/nodes/bad",
            Some(json!([{"op": "add", "path": "/extra/reject", "value": true}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = app
        .call_v("POST", "/v1/continue_inspection", Some(data(other)), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let n = app.settle("bad", "inspect failed").await;
    let error = n["last_error"].as_str().unwrap();
    assert!(
        error.contains("not for this rack") && error.contains("this CPU is not welcome"),
        "{error}"
    );
});
