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

    let r = app
        .net("DELETE", &format!("/v2.0/networks/{net}"), None)
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkInUse");
    let r = app.net("GET", "/v2.0/networks/nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkNotFound");
});
