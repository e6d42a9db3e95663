//! The `neutron` network interface against an external Neutron (`[network]
//! neutron_url`), on SQLite and PostgreSQL: one ferricd plays Neutron (its
//! Neutron-shaped API, the one the real `openstack network` client is tested
//! against), another manages a virtual node (an agent in test mode on a file disk)
//! and asks the first for every flip, as Ironic asks Neutron.
//!
//! Covered: attaching a VIF gives Neutron's port the NIC's MAC; cleaning and
//! deploying create the node's port on the cleaning/provisioning network (bound to
//! the node, with its `local_link_information`) and delete it after; the deployed
//! node's VIF is bound to it; detaching unbinds it and gives it a MAC of its own;
//! with Neutron gone, undeploying stops in `error` with Neutron's absence in
//! `last_error`.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// The ferricd playing Neutron, and its network API's base URL.
async fn neutron(database_url: Option<String>) -> (Ferric, String, std::path::PathBuf) {
    let dir = scratch("neutron");
    let port = free_port();
    let f = Ferric::start_with(
        &dir,
        database_url,
        "",
        &["--network-api-listen".into(), format!("127.0.0.1:{port}")],
    )
    .await;
    (f, format!("http://127.0.0.1:{port}/v2.0"), dir)
}

async fn net(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut rb = http.request(method, &url);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

async fn history(ferric: &Ferric, uuid: &str) -> String {
    ferric
        .call(
            reqwest::Method::GET,
            &format!("/nodes/{uuid}/history"),
            None,
        )
        .await
        .1
        .to_string()
}

/// `database` gives each ferricd a database of its own.
async fn scenario(database: fn() -> Option<String>) {
    let http = reqwest::Client::new();
    let (neutron_ferric, n_url, n_dir) = neutron(database()).await;
    let prov = net(&http, reqwest::Method::POST, format!("{n_url}/networks"),
        Some(json!({"network": {"name": "prov", "role": "provisioning", "provider:network_type": "vlan",
            "provider:physical_network": "physnet1", "provider:segmentation_id": 100}}))).await;
    let prov_id = prov["network"]["id"].as_str().unwrap().to_string();
    net(
        &http,
        reqwest::Method::POST,
        format!("{n_url}/subnets"),
        Some(json!({"subnet": {"network_id": prov_id, "cidr": "10.90.0.0/24"}})),
    )
    .await;
    let tenant = net(
        &http,
        reqwest::Method::POST,
        format!("{n_url}/networks"),
        Some(
            json!({"network": {"name": "tenant-a", "provider:network_type": "vlan",
            "provider:physical_network": "physnet1", "provider:segmentation_id": 200}}),
        ),
    )
    .await;
    let tenant_id = tenant["network"]["id"].as_str().unwrap().to_string();
    let vif = net(
        &http,
        reqwest::Method::POST,
        format!("{n_url}/ports"),
        Some(json!({"port": {"network_id": tenant_id, "name": "vif"}})),
    )
    .await;
    let vif_id = vif["port"]["id"].as_str().unwrap().to_string();
    let port_of = |id: String| {
        let (http, url) = (http.clone(), n_url.clone());
        async move {
            net(
                &http,
                reqwest::Method::GET,
                format!("{url}/ports/{id}"),
                None,
            )
            .await["port"]
                .clone()
        }
    };

    let dir = scratch("ext-neutron");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let image = image_bytes(3 * MIB + 77, 11);
    std::fs::write(images.join("img.raw"), &image).unwrap();
    let sha = sha256_hex(&images.join("img.raw"));
    let (img_port, slow_started, _) = serve_images(images.clone()).await;
    let config = format!(
        "[network]\nneutron_url = \"{}\"\nprovisioning_network = \"prov\"\ncleaning_network = \"{prov_id}\"\n",
        n_url.trim_end_matches("/v2.0")
    );
    let ferric = Ferric::start_with(&dir, database(), &config, &[]).await;
    let mac = "52:54:00:aa:00:07";
    let vm = VirtualNode::new(&dir, mac, 64 * MIB, slow_started);
    let (status, node) = ferric
        .call(reqwest::Method::POST, "/nodes",
            Some(json!({"driver": "fake-hardware", "deploy_interface": "direct", "network_interface": "neutron", "name": "ext-1"})))
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let llc =
        json!({"switch_id": "02:00:00:00:00:aa", "port_id": "Ethernet1/7", "switch_info": "tor1"});
    let (status, port) = ferric
        .call(reqwest::Method::POST, "/ports",
            Some(json!({"node_uuid": uuid, "address": mac, "physical_network": "physnet1", "local_link_connection": llc})))
        .await;
    assert_eq!(status, 201, "{port}");
    let watcher = vm.run(ferric.api.clone(), uuid.clone());
    let budget = Duration::from_secs(90);

    // Attaching: Neutron's port takes the NIC's MAC; it is bound only at deploy.
    let (status, body) = ferric
        .call(
            reqwest::Method::POST,
            &format!("/nodes/{uuid}/vifs"),
            Some(json!({"id": vif_id})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let p = port_of(vif_id.clone()).await;
    assert_eq!(p["mac_address"], mac);
    assert_eq!(p["binding:vnic_type"], "baremetal");
    assert_eq!(p["binding:host_id"], "");
    let (status, body) = ferric
        .call(
            reqwest::Method::POST,
            &format!("/nodes/{uuid}/vifs"),
            Some(json!({"id": "0f0e0d0c-0b0a-4909-8807-060504030201"})),
        )
        .await;
    assert_eq!(status, 400, "a VIF Neutron does not have: {body}");

    // Cleaning runs on the cleaning network: a port of the node's, deleted after.
    ferric.provision(&uuid, "manage").await;
    ferric.wait_for(&uuid, &["manageable"], budget).await;
    ferric.provision(&uuid, "provide").await;
    let node = ferric
        .wait_for(&uuid, &["available", "clean failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "available", "{node}");
    let h = history(&ferric, &uuid).await;
    assert!(
        h.contains(&format!("({mac}) on network prov (cleaning)")),
        "{h}"
    );
    assert!(h.contains("deleted: off the cleaning network"), "{h}");
    let left = net(
        &http,
        reqwest::Method::GET,
        format!("{n_url}/ports?device_id={uuid}"),
        None,
    )
    .await;
    assert_eq!(
        left["ports"],
        json!([]),
        "no port of the node is left in Neutron"
    );

    // Deploying: on the provisioning network, then the VIF is bound to the node.
    ferric
        .patch_instance_info(&uuid, json!({"image_source": format!("http://127.0.0.1:{img_port}/img.raw"),
            "image_os_hash_algo": "sha256", "image_os_hash_value": sha, "image_disk_format": "raw"}))
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(
        node["driver_internal_info"]["network_roles"],
        json!(["tenant"])
    );
    let h = history(&ferric, &uuid).await;
    assert!(
        h.contains(&format!("({mac}) on network prov (provisioning)")),
        "{h}"
    );
    assert!(h.contains("deleted: off the provisioning network"), "{h}");
    let p = port_of(vif_id.clone()).await;
    assert_eq!(p["binding:host_id"], uuid.as_str());
    assert_eq!(p["binding:profile"]["local_link_information"], json!([llc]));
    let left = net(
        &http,
        reqwest::Method::GET,
        format!("{n_url}/ports?device_id={uuid}&device_owner=baremetal:provisioning"),
        None,
    )
    .await;
    assert_eq!(left["ports"], json!([]));

    // Detaching unbinds it and gives it a MAC of its own.
    let (status, body) = ferric
        .call(
            reqwest::Method::DELETE,
            &format!("/nodes/{uuid}/vifs/{vif_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let p = port_of(vif_id.clone()).await;
    assert_eq!(p["binding:host_id"], "");
    assert_ne!(p["mac_address"], mac);

    // Neutron gone: undeploying cannot take the node off its networks; it stops in
    // `error`, saying why.
    drop(neutron_ferric);
    ferric.provision(&uuid, "deleted").await;
    let node = ferric
        .wait_for(&uuid, &["available", "error", "clean failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "error", "{node}");
    let why = node["last_error"].as_str().unwrap_or_default();
    assert!(
        why.contains("Neutron at") && why.contains("unreachable"),
        "{why}"
    );

    watcher.abort();
    drop(vm);
    drop(ferric);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&n_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_neutron_sqlite() {
    scenario(|| None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_neutron_postgres() {
    scenario(|| Some(postgres_url())).await;
}
