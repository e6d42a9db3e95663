//! Node creation: defaults, interface resolution, masking, and every refusal.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(
    create_fills_defaults_and_masks_secrets,
    |app: TestApp| async move {
        let r = app
        .call(
            "POST",
            "/v1/nodes",
            Some(json!({
                "driver": "fake-hardware", "name": "node-0", "properties": {"cpus": 4},
                "resource_class": "baremetal",
                "driver_info": {"ipmi_password": "secret", "redfish_password": "x", "ipmi_username": "admin",
                                "snmp_auth_key": "k", "nested": {"auth_token": "t"}},
                "instance_info": {"image_url": "http://u:p@img", "configdrive": "abc", "image_source": "img"},
            })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        let n = &r.body;
        assert_eq!(n["provision_state"], "enroll");
        assert_eq!(n["power_state"], serde_json::Value::Null);
        assert_eq!(n["boot_interface"], "fake");
        assert_eq!(n["network_interface"], "noop");
        assert_eq!(n["storage_interface"], "noop");
        assert_eq!(n["resource_class"], "baremetal");
        assert_eq!(n["conductor_group"], "");
        assert_eq!(n["traits"], json!([]));
        assert_eq!(n["driver_info"]["ipmi_password"], "******");
        assert_eq!(n["driver_info"]["redfish_password"], "******");
        assert_eq!(n["driver_info"]["snmp_auth_key"], "******");
        assert_eq!(n["driver_info"]["nested"]["auth_token"], "******");
        assert_eq!(n["driver_info"]["ipmi_username"], "admin");
        assert_eq!(n["instance_info"]["image_url"], "******");
        assert_eq!(n["instance_info"]["configdrive"], "******");
        assert_eq!(n["instance_info"]["image_source"], "img");
        assert!(
            n.get("firmware_interface").is_none(),
            "firmware_interface is newer than 1.65"
        );
        assert!(!r.raw.contains("secret"), "no secret in any response");
        let uuid = n["uuid"].as_str().unwrap();
        assert_eq!(
            r.header("location").unwrap(),
            format!("http://ferric.test:6385/v1/nodes/{uuid}")
        );
        // The secret is stored, only hidden.
        let stored = app.db.node_get(uuid.parse().unwrap()).await.unwrap();
        assert_eq!(stored.driver_info["ipmi_password"], "secret");
        let shown = app.call("GET", "/v1/nodes/node-0", None).await;
        assert!(!shown.raw.contains("secret"));
        assert_eq!(
            shown.body["ports"][0]["href"],
            format!("http://ferric.test:6385/v1/nodes/{uuid}/ports")
        );
    }
);

both_backends!(old_versions_see_old_shapes, |app: TestApp| async move {
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware"})),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.body["provision_state"],
        serde_json::Value::Null,
        "available shows as null before 1.2"
    );
    assert!(r.body.get("name").is_none());
    assert!(r.body.get("states").is_none());
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "name": "x"})),
            None,
        )
        .await;
    assert_eq!(r.status, 406);
    assert_eq!(r.fault(), "Request not acceptable.");
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware"})),
            Some("1.10"),
        )
        .await;
    assert_eq!(r.body["provision_state"], "available");
    let r = app
        .call_v(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "owner": "p"})),
            Some("1.40"),
        )
        .await;
    assert_eq!(r.status, 406);
});

both_backends!(create_refusals_change_nothing, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "node-0", "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"})).await;
    let cases = [
        (json!({"driver": "fake-hardware", "name": "node-0"}), 409, "A node with name node-0 already exists."),
        (
            json!({"driver": "fake-hardware", "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}),
            409,
            "A node with UUID aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee already exists.",
        ),
        (json!({"driver": "nope"}), 400, "No valid host was found. Reason: No conductor service registered which supports driver nope for conductor group \"\". Ensure the driver is valid and enabled."),
        (json!({"driver": "fake-hardware", "bogus": 1}), 400, "Schema error for node: Additional properties are not allowed ('bogus' was unexpected)"),
        (json!({"driver": "fake-hardware", "provision_state": "active"}), 400, "Schema error for node: Additional properties are not allowed ('provision_state' was unexpected)"),
        (json!({"driver": "fake-hardware", "name": "a b"}), 400, "Cannot create node with invalid name 'a b'"),
        (json!({"driver": "fake-hardware", "name": "11111111-2222-3333-4444-555555555555"}), 400, "Cannot create node with invalid name '11111111-2222-3333-4444-555555555555'"),
        (json!({"driver": "fake-hardware", "uuid": "not-a-uuid"}), 400, "Expected UUID for uuid: not-a-uuid"),
        (json!({"driver": "fake-hardware", "chassis_uuid": "11111111-2222-3333-4444-555555555555"}), 400, "Chassis 11111111-2222-3333-4444-555555555555 could not be found."),
        (json!({"name": "x"}), 400, "Schema error for node: 'driver' is a required property"),
        (json!([1]), 400, "Schema error for node: [1] is not of type 'object'"),
        (json!({"driver": "fake-hardware", "driver_info": "x"}), 400, "Schema error for node: 'x' is not of type 'object', 'null'"),
        (json!({"driver": "fake-hardware", "resource_class": "x".repeat(81)}), 400, ""),
        (json!({"driver": "fake-hardware", "deploy_interface": "bogus"}), 400, ""),
        (json!({"driver": "fake-hardware", "power_interface": "ipmitool"}), 400, ""),
        (json!({"driver": "fake-hardware", "conductor_group": "bad group"}), 400, ""),
        (json!({"driver": "fake-hardware", "retired_reason": "old"}), 400, "The retired_reason field can only be set when retired is True"),
        (json!({"driver": "fake-hardware", "network_data": {}}), 406, "Request not acceptable."),
    ];
    for (body, status, fault) in cases {
        let r = app.call("POST", "/v1/nodes", Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.raw);
        if !fault.is_empty() {
            assert_eq!(r.fault(), fault, "{body}");
        }
    }
    assert_eq!(app.db.node_count(&[]).await.unwrap(), 1);
});

both_backends!(explicit_interfaces_and_fields, |app: TestApp| async move {
    let n = app
        .node(json!({
            "driver": "fake-hardware", "console_interface": "no-console", "conductor_group": "Rack-A",
            "owner": "p1", "lessee": "p2", "description": "first", "automated_clean": false,
            "retired": true, "retired_reason": "old", "maintenance": true,
        }))
        .await;
    assert_eq!(n["console_interface"], "no-console");
    assert_eq!(n["conductor_group"], "rack-a");
    assert_eq!(n["automated_clean"], false);
    assert_eq!(n["retired_reason"], "old");
    assert_eq!(n["maintenance"], true);
    let r = app
        .call(
            "GET",
            &format!("/v1/nodes/{}/states", n["uuid"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"console_enabled": false, "last_error": null, "power_state": null, "provision_state": "enroll",
               "target_power_state": null, "target_provision_state": null, "provision_updated_at": null,
               "raid_config": {}, "target_raid_config": {}})
    );
});
