//! The network service's Neutron-shaped API on both databases: networks, subnets
//! and VIF ports with address allocation, the conflicts, and Neutron's error body.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(networks_subnets_ports, |app: TestApp| async move {
    let r = app.net("GET", "/", None).await;
    assert_eq!(r.body["versions"][0]["id"], "v2.0");
    let r = app
        .net(
            "POST",
            "/v2.0/networks",
            Some(json!({"network": {"name": "prov", "role": "provisioning",
                "provider:network_type": "vlan", "provider:physical_network": "physnet1",
                "provider:segmentation_id": "200"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["network"]["provider:segmentation_id"], 200);
    assert_eq!(r.body["network"]["role"], "provisioning");
    let net = r.body["network"]["id"].as_str().unwrap().to_string();

    let r = app
        .net(
            "POST",
            "/v2.0/networks",
            Some(json!({"network": {"name": "x", "role": "bogus"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["NeutronError"]["type"], "InvalidInput");

    let r = app
        .net(
            "POST",
            "/v2.0/subnets",
            Some(json!({"subnet": {"network_id": net, "cidr": "10.9.0.0/29", "ip_version": 4}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["subnet"]["gateway_ip"], "10.9.0.1");
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "10.9.0.2", "end": "10.9.0.6"}])
    );

    // Five addresses: five ports get one each, the sixth finds none.
    for i in 0..5 {
        let r = app
            .net(
                "POST",
                "/v2.0/ports",
                Some(json!({"port": {"network_id": net, "name": format!("p{i}")}})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(
            r.body["port"]["fixed_ips"][0]["ip_address"],
            format!("10.9.0.{}", i + 2)
        );
    }
    let r = app
        .net(
            "POST",
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net}})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "IpAddressGenerationFailure");

    let r = app
        .net(
            "GET",
            &format!("/v2.0/ports?network_id={net}&name=p3"),
            None,
        )
        .await;
    let port = r.body["ports"][0].clone();
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 1);
    let r = app
        .net(
            "PUT",
            &format!("/v2.0/ports/{}", port["id"].as_str().unwrap()),
            Some(json!({"port": {"binding:host_id": "node-1", "binding:vnic_type": "baremetal",
                "mac_address": "52:54:00:00:00:09",
                "extra_dhcp_opts": [{"opt_name": "tag:ipxe,67", "opt_value": "http://x/boot.ipxe"}],
                "binding:profile": {"local_link_information": [{"switch_id": "aa:bb:cc:dd:ee:ff", "port_id": "swp1"}]}}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["port"]["status"], "ACTIVE");
    assert_eq!(r.body["port"]["binding:vif_type"], "other");
    assert_eq!(r.body["port"]["extra_dhcp_opts"][0]["ip_version"], 4);
    // DHCP options merge as Neutron's do: replaced or added by name, removed by a
    // null value, the others kept.
    let r = app
        .net(
            "PUT",
            &format!("/v2.0/ports/{}", port["id"].as_str().unwrap()),
            Some(json!({"port": {"extra_dhcp_opts": [
                {"opt_name": "server-ip-address", "opt_value": "10.0.0.1"},
                {"opt_name": "tag:ipxe,67", "opt_value": "http://y/boot.ipxe"}]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let names = |body: &serde_json::Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = body["port"]["extra_dhcp_opts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["opt_name"].as_str().unwrap().to_string(),
                    o["opt_value"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&r.body),
        vec![
            ("server-ip-address".to_string(), "10.0.0.1".to_string()),
            ("tag:ipxe,67".to_string(), "http://y/boot.ipxe".to_string())
        ]
    );
    let r = app
        .net(
            "PUT",
            &format!("/v2.0/ports/{}", port["id"].as_str().unwrap()),
            Some(json!({"port": {"extra_dhcp_opts": [{"opt_name": "tag:ipxe,67", "opt_value": null}]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        names(&r.body),
        vec![("server-ip-address".to_string(), "10.0.0.1".to_string())]
    );

    let r = app
        .net("DELETE", &format!("/v2.0/networks/{net}"), None)
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkInUse");
    let r = app.net("GET", "/v2.0/networks/nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkNotFound");
});

both_backends!(vif_attach_and_detach, |mut app: TestApp| async move {
    app.version = "1.89";
    let node = app
        .node(json!({"driver": "fake-hardware", "name": "bm0", "network_interface": "flat"}))
        .await;
    let node = node["uuid"].as_str().unwrap().to_string();
    let pg = app
        .call(
            "POST",
            "/v1/portgroups",
            Some(
                json!({"node_uuid": node, "name": "bond0", "mode": "802.3ad",
                "standalone_ports_supported": false}),
            ),
        )
        .await;
    assert_eq!(pg.status, 201, "{}", pg.raw);
    let pg = pg.body["uuid"].as_str().unwrap().to_string();
    let link = |port: &str| json!({"switch_id": "aa:bb:cc:dd:ee:ff", "port_id": port});
    for (mac, group, sw, physnet) in [
        ("52:54:00:10:00:01", Some(&pg), "swp1", "physnet1"),
        ("52:54:00:10:00:02", Some(&pg), "swp2", "physnet1"),
        ("52:54:00:10:00:03", None, "swp3", "physnet1"),
        ("52:54:00:10:00:04", None, "swp4", "physnet2"),
    ] {
        let mut body = json!({"node_uuid": node, "address": mac, "local_link_connection": link(sw),
            "physical_network": physnet});
        if let Some(g) = group {
            body["portgroup_uuid"] = json!(g);
            body["pxe_enabled"] = json!(false);
        }
        let r = app.call("POST", "/v1/ports", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let net = app
        .net(
            "POST",
            "/v2.0/networks",
            Some(
                json!({"network": {"name": "t", "provider:network_type": "vlan",
                "provider:physical_network": "physnet1", "provider:segmentation_id": 300}}),
            ),
        )
        .await;
    let net = net.body["network"]["id"].as_str().unwrap().to_string();
    let mut vifs = Vec::new();
    for _ in 0..3 {
        let r = app
            .net(
                "POST",
                "/v2.0/ports",
                Some(json!({"port": {"network_id": net}})),
            )
            .await;
        vifs.push(r.body["port"]["id"].as_str().unwrap().to_string());
    }
    // The bond first; it takes its first port's MAC.
    let r = app
        .call(
            "POST",
            &format!("/v1/nodes/{node}/vifs"),
            Some(json!({"id": vifs[0]})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .net("GET", &format!("/v2.0/ports/{}", vifs[0]), None)
        .await;
    assert_eq!(r.body["port"]["mac_address"], "52:54:00:10:00:01");
    assert_eq!(r.body["port"]["binding:host_id"], node);
    assert_eq!(r.body["port"]["binding:vnic_type"], "baremetal");
    let r = app
        .call(
            "GET",
            &format!("/v1/portgroups/{pg}?fields=internal_info"),
            None,
        )
        .await;
    assert_eq!(r.body["internal_info"]["tenant_vif_port_id"], vifs[0]);
    // Then the standalone port on physnet1; the physnet2 port never.
    let r = app
        .call(
            "POST",
            &format!("/v1/nodes/{node}/vifs"),
            Some(json!({"id": vifs[1]})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .net("GET", &format!("/v2.0/ports/{}", vifs[1]), None)
        .await;
    assert_eq!(r.body["port"]["mac_address"], "52:54:00:10:00:03");
    let r = app
        .call(
            "POST",
            &format!("/v1/nodes/{node}/vifs"),
            Some(json!({"id": vifs[2]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(
        r.fault().contains("not enough free physical ports"),
        "{}",
        r.fault()
    );
    let r = app
        .call(
            "POST",
            &format!("/v1/nodes/{node}/vifs"),
            Some(json!({"id": vifs[0]})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.raw);
    let r = app
        .call("GET", &format!("/v1/nodes/{node}/vifs"), None)
        .await;
    assert_eq!(r.body["vifs"].as_array().unwrap().len(), 2, "{}", r.raw);

    let r = app
        .call(
            "DELETE",
            &format!("/v1/nodes/{node}/vifs/{}", vifs[0]),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app
        .net("GET", &format!("/v2.0/ports/{}", vifs[0]), None)
        .await;
    assert_eq!(r.body["port"]["binding:host_id"], "");
    assert!(r.body["port"]["mac_address"]
        .as_str()
        .unwrap()
        .starts_with("fa:16:3e"));
    let r = app
        .call(
            "DELETE",
            &format!("/v1/nodes/{node}/vifs/{}", vifs[0]),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    let r = app
        .call_v("GET", &format!("/v1/nodes/{node}/vifs"), None, Some("1.27"))
        .await;
    assert_eq!(r.status, 404);
});

both_backends!(
    noop_and_flat_vifs_are_only_recorded,
    |app: TestApp| async move {
        for (name, iface) in [("noop0", "noop"), ("flat0", "flat")] {
            let node = app
                .node(json!({"driver": "fake-hardware", "name": name, "network_interface": iface}))
                .await;
            let uuid = node["uuid"].as_str().unwrap().to_string();
            let r = app
                .call(
                    "POST",
                    &format!("/v1/nodes/{name}/vifs"),
                    Some(json!({"id": "tenant-vif-1"})),
                )
                .await;
            assert_eq!(r.status, 400, "{iface}: no free port yet: {}", r.raw);
            for (i, pxe) in [(1, false), (2, true)] {
                let mac = format!("52:54:00:20:{:02x}:{i:02x}", name.len());
                let mac = if iface == "noop" {
                    mac
                } else {
                    mac.replace(":20:", ":21:")
                };
                let body = json!({"node_uuid": uuid, "address": mac, "pxe_enabled": pxe});
                let r = app.call("POST", "/v1/ports", Some(body)).await;
                assert_eq!(r.status, 201, "{}", r.raw);
            }
            // No network service knows these ids: they are recorded as they are.
            let r = app
                .call(
                    "POST",
                    &format!("/v1/nodes/{name}/vifs"),
                    Some(json!({"id": "tenant-vif-1"})),
                )
                .await;
            assert_eq!(r.status, 204, "{iface}: {}", r.raw);
            let r = app
                .call(
                    "POST",
                    &format!("/v1/nodes/{name}/vifs"),
                    Some(json!({"id": "tenant-vif-1"})),
                )
                .await;
            assert_eq!(r.status, 409, "{iface}: twice: {}", r.raw);
            let r = app
                .call(
                    "POST",
                    &format!("/v1/nodes/{name}/vifs"),
                    Some(json!({"id": "tenant-vif-2"})),
                )
                .await;
            assert_eq!(r.status, 204, "{iface}: {}", r.raw);
            let r = app
                .call("GET", &format!("/v1/nodes/{name}/vifs"), None)
                .await;
            let mut ids: Vec<&str> = r.body["vifs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap())
                .collect();
            ids.sort();
            assert_eq!(ids, ["tenant-vif-1", "tenant-vif-2"], "{iface}");
            let ports = app
                .call("GET", &format!("/v1/nodes/{name}/ports/detail"), None)
                .await;
            let carrier = ports.body["ports"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["internal_info"]["tenant_vif_port_id"] == "tenant-vif-1")
                .cloned()
                .unwrap();
            assert_eq!(carrier["pxe_enabled"], true, "pxe-enabled ports first");
            let r = app
                .call(
                    "DELETE",
                    &format!("/v1/nodes/{name}/vifs/tenant-vif-1"),
                    None,
                )
                .await;
            assert_eq!(r.status, 204, "{}", r.raw);
            let r = app
                .call(
                    "DELETE",
                    &format!("/v1/nodes/{name}/vifs/tenant-vif-1"),
                    None,
                )
                .await;
            assert_eq!(r.status, 400, "{}", r.raw);
            let r = app
                .call("GET", &format!("/v1/nodes/{name}/vifs"), None)
                .await;
            assert_eq!(r.body, json!({"vifs": [{"id": "tenant-vif-2"}]}), "{iface}");
        }
    }
);
