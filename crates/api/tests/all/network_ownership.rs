//! Neutron's ownership rules on the network API: each project sees and changes its
//! own networks, subnets and ports and the shared networks; provider attributes and
//! port bindings are for administrators and the service; another project's objects
//! are "not found".

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::{TestApp, PASSWORD};

const USERS: [(&str, &str); 4] = [
    ("alice", "project=acme:roles=member"),
    ("bob", "project=beta:roles=member"),
    ("rita", "project=acme:roles=reader"),
    ("svc", "project=service:roles=service"),
];

fn ids(r: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = r[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn network(who: &TestApp, body: Value) -> (u16, Value) {
    let r = who
        .net("POST", "/v2.0/networks", Some(json!({ "network": body })))
        .await;
    (r.status.as_u16(), r.body)
}

async fn projects_own_their_networks(app: TestApp) {
    let app = app.with_users(&USERS);
    let admin = app.as_user("admin", PASSWORD);
    let alice = app.as_user("alice", PASSWORD);
    let bob = app.as_user("bob", PASSWORD);
    let rita = app.as_user("rita", PASSWORD);
    let svc = app.as_user("svc", PASSWORD);

    let (status, shared) = network(
        &admin,
        json!({"name": "shared-net", "shared": true, "provider:network_type": "vlan",
               "provider:physical_network": "physnet1", "provider:segmentation_id": 300}),
    )
    .await;
    assert_eq!(status, 201, "{shared}");
    let shared_id = shared["network"]["id"].as_str().unwrap().to_string();
    assert_eq!(shared["network"]["provider:segmentation_id"], 300);

    let (status, mine) = network(&alice, json!({"name": "acme-net"})).await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["network"]["project_id"], "acme");
    assert!(
        mine["network"].get("provider:network_type").is_none(),
        "{mine}"
    );
    let acme_id = mine["network"]["id"].as_str().unwrap().to_string();

    // Admin-only attributes and other projects are refused, and nothing is created.
    let (status, body) = network(&alice, json!({"name": "n2", "shared": true})).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["NeutronError"]["message"],
        "(create_network:shared) is disallowed by policy"
    );
    let (status, _) = network(&alice, json!({"name": "n3", "provider:segmentation_id": 5})).await;
    assert_eq!(status, 403);
    let (status, body) = network(&alice, json!({"name": "n4", "project_id": "beta"})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = network(&rita, json!({"name": "n5"})).await;
    assert_eq!(status, 403);
    let r = admin.net("GET", "/v2.0/networks", None).await;
    assert_eq!(ids(&r.body, "networks"), ["acme-net", "shared-net"]);

    // Each project sees its own and the shared network; another's is not found.
    let r = bob.net("GET", "/v2.0/networks", None).await;
    assert_eq!(ids(&r.body, "networks"), ["shared-net"]);
    assert!(r.body["networks"][0]
        .get("provider:segmentation_id")
        .is_none());
    let r = rita.net("GET", "/v2.0/networks", None).await;
    assert_eq!(ids(&r.body, "networks"), ["acme-net", "shared-net"]);
    let r = bob
        .net("GET", &format!("/v2.0/networks/{acme_id}"), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["NeutronError"]["type"], "NetworkNotFound");
    let r = bob
        .net(
            "PUT",
            &format!("/v2.0/networks/{acme_id}"),
            Some(json!({"network": {"name": "x"}})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = bob
        .net("DELETE", &format!("/v2.0/networks/{shared_id}"), None)
        .await;
    assert_eq!(r.status, 403, "a visible network answers 403: {}", r.raw);
    let r = rita
        .net(
            "PUT",
            &format!("/v2.0/networks/{acme_id}"),
            Some(json!({"network": {"name": "y"}})),
        )
        .await;
    assert_eq!(r.status, 403, "a reader changes nothing");

    // Subnets: the network's project creates them.
    let subnet = |net: &str, cidr: &str| {
        Some(json!({"subnet": {"network_id": net, "cidr": cidr, "ip_version": 4}}))
    };
    let r = alice
        .net("POST", "/v2.0/subnets", subnet(&acme_id, "10.20.0.0/24"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let r = bob
        .net("POST", "/v2.0/subnets", subnet(&acme_id, "10.21.0.0/24"))
        .await;
    assert_eq!(r.status, 404);
    let r = admin
        .net("POST", "/v2.0/subnets", subnet(&shared_id, "10.22.0.0/24"))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let r = bob
        .net("POST", "/v2.0/subnets", subnet(&shared_id, "10.23.0.0/24"))
        .await;
    assert_eq!(r.status, 403);
    let r = bob.net("GET", "/v2.0/subnets", None).await;
    assert_eq!(r.body["subnets"].as_array().unwrap().len(), 1, "{}", r.raw);

    // Ports: bindings are the service's; members use their own and shared networks.
    let port = |net: &str, extra: Value| {
        let mut p = json!({"network_id": net, "name": "p"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Some(json!({ "port": p }))
    };
    let r = alice
        .net("POST", "/v2.0/ports", port(&acme_id, json!({})))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r.body["port"].get("binding:host_id").is_none(), "{}", r.raw);
    assert_eq!(r.body["port"]["project_id"], "acme");
    let acme_port = r.body["port"]["id"].as_str().unwrap().to_string();
    let profile = json!({"binding:profile": {"local_link_information": []}});
    let r = alice
        .net("POST", "/v2.0/ports", port(&acme_id, profile.clone()))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["NeutronError"]["message"],
        "(create_port:binding:profile) is disallowed by policy"
    );
    let r = alice
        .net(
            "POST",
            "/v2.0/ports",
            port(&acme_id, json!({"binding:host_id": "n1"})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = svc
        .net("POST", "/v2.0/ports", port(&acme_id, profile))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r.body["port"].get("binding:profile").is_some());
    let r = bob
        .net("POST", "/v2.0/ports", port(&shared_id, json!({})))
        .await;
    assert_eq!(
        r.status, 201,
        "a member may use a shared network: {}",
        r.raw
    );
    let r = bob
        .net(
            "POST",
            "/v2.0/ports",
            port(&shared_id, json!({"mac_address": "52:54:00:00:00:01"})),
        )
        .await;
    assert_eq!(r.status, 403, "only the network's project sets a MAC");
    let r = bob.net("GET", "/v2.0/ports", None).await;
    assert_eq!(r.body["ports"].as_array().unwrap().len(), 1, "{}", r.raw);
    let r = bob
        .net("DELETE", &format!("/v2.0/ports/{acme_port}"), None)
        .await;
    assert_eq!(r.status, 404);
    let r = rita
        .net("DELETE", &format!("/v2.0/ports/{acme_port}"), None)
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .net("GET", &format!("/v2.0/ports/{acme_port}"), None)
        .await;
    assert_eq!(r.body["port"]["binding:host_id"], "", "{}", r.raw);
    let r = alice
        .net("DELETE", &format!("/v2.0/ports/{acme_port}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
}
both_backends!(network_api_ownership, projects_own_their_networks);
