//! The demo's network isolation: the rack's leaf switches configured as `sim`
//! switches of Ferric's network service, a provisioning, a cleaning and a tenant
//! VLAN network, the nodes moved to the `neutron` network interface once
//! inspection has found where their NICs are cabled, a tenant VIF on each node
//! before it deploys — and, at the end, what the switches saw: each switch port's
//! changes, checked against the boot NICs inspection linked (the only ports Ferric
//! may have touched).

use std::collections::{BTreeMap, BTreeSet};

use ferric_client::{Client, Method};
use ferric_sim::Rack;
use serde_json::json;

use crate::Failure;

/// The physical network the rack's NICs and the demo's VLANs are on.
const PHYSNET: &str = "physnet1";
/// The demo's networks: name, role, VLAN, subnet.
pub const NETWORKS: [(&str, &str, u16, &str); 3] = [
    ("demo-provisioning", "provisioning", 100, "10.100.0.0/16"),
    ("demo-cleaning", "cleaning", 101, "10.101.0.0/16"),
    ("demo-tenant", "tenant", 200, "10.200.0.0/16"),
];
/// The network a deployed node's VIF is on.
pub const TENANT: &str = "demo-tenant";

/// `[[network.switches]]` for every switch of the rack: the `sim` driver at its
/// management address, matched by the system name its LLDP carries.
pub fn switches_config(rack: &Rack) -> String {
    let (user, password) = rack.credentials();
    rack.switches()
        .iter()
        .map(|s| {
            format!(
                "[[network.switches]]\nname = \"{0}\"\ndriver = \"sim\"\nswitch_info = \"{0}\"\n\
                 url = \"{1}\"\nusername = \"{user}\"\npassword = \"{password}\"\n",
                s.name,
                rack.switch_url(&s.name)
            )
        })
        .collect()
}

/// Creates the demo's VLAN networks and their subnets in the network service.
pub async fn create_networks(net: &Client) -> Result<(), Failure> {
    for (name, role, vlan, cidr) in NETWORKS {
        let n = net
            .request(
                Method::POST,
                "/v2.0/networks",
                Some(&json!({"network": {
                    "name": name,
                    "role": role,
                    "provider:network_type": "vlan",
                    "provider:physical_network": PHYSNET,
                    "provider:segmentation_id": vlan,
                }})),
            )
            .await?;
        net.request(
            Method::POST,
            "/v2.0/subnets",
            Some(&json!({"subnet": {
                "network_id": n["network"]["id"],
                "name": format!("{name}-v4"),
                "ip_version": 4,
                "cidr": cidr,
            }})),
        )
        .await?;
    }
    Ok(())
}

/// Moves a node to the `neutron` network interface, its ports on the demo's
/// physical network: from now on its switch ports follow its state.
pub async fn isolate(client: &Client, node: &str) -> Result<(), Failure> {
    let ports = client
        .request(
            Method::GET,
            &format!("/v1/nodes/{node}/ports?fields=uuid"),
            None,
        )
        .await?;
    for p in ports["ports"].as_array().into_iter().flatten() {
        let uuid = p["uuid"].as_str().unwrap_or_default();
        client
            .request(
                Method::PATCH,
                &format!("/v1/ports/{uuid}"),
                Some(&json!([{"op": "add", "path": "/physical_network", "value": PHYSNET}])),
            )
            .await?;
    }
    client
        .request(
            Method::PATCH,
            &format!("/v1/nodes/{node}"),
            Some(&json!([{"op": "add", "path": "/network_interface", "value": "neutron"}])),
        )
        .await?;
    Ok(())
}

/// A port on the tenant network, attached to the node as its VIF.
pub async fn attach_tenant_vif(client: &Client, net: &Client, node: &str) -> Result<(), Failure> {
    let found = net
        .request(Method::GET, &format!("/v2.0/networks?name={TENANT}"), None)
        .await?;
    let network = &found["networks"][0]["id"];
    let port = net
        .request(
            Method::POST,
            "/v2.0/ports",
            Some(&json!({"port": {"network_id": network, "name": format!("{node}-tenant")}})),
        )
        .await?;
    client
        .request(
            Method::POST,
            &format!("/v1/nodes/{node}/vifs"),
            Some(&json!({"id": port["port"]["id"]})),
        )
        .await?;
    Ok(())
}

/// (switch, port) of every pxe-enabled port inspection linked, with its node.
pub async fn boot_links(
    client: &Client,
    names: &[String],
) -> Result<BTreeMap<(String, String), String>, Failure> {
    let mut links = BTreeMap::new();
    for n in names {
        let ports = client
            .request(
                Method::GET,
                &format!("/v1/nodes/{n}/ports?fields=pxe_enabled,local_link_connection"),
                None,
            )
            .await?;
        for p in ports["ports"].as_array().into_iter().flatten() {
            let llc = &p["local_link_connection"];
            if let (true, Some(sw), Some(port)) = (
                p["pxe_enabled"] == true,
                llc["switch_info"].as_str(),
                llc["port_id"].as_str(),
            ) {
                links.insert((sw.to_string(), port.to_string()), n.clone());
            }
        }
    }
    Ok(links)
}

/// What the switches saw, a line each, and whether exactly the inspected boot
/// NICs' ports were configured.
pub fn report(rack: &Rack, boot: &BTreeMap<(String, String), String>) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let mut touched = BTreeSet::new();
    for s in rack.switches() {
        let mut per_port: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for change in rack.switch_log(&s.name) {
            per_port
                .entry(change.port)
                .or_default()
                .push(change.segment.to_string());
        }
        if per_port.is_empty() {
            lines.push(format!("switch {}: no port changed", s.name));
        }
        for (port, changes) in per_port {
            let key = (s.name.clone(), port);
            let whose = match boot.get(&key) {
                Some(node) => format!("{node}'s boot NIC"),
                None => "not an inspected boot NIC".to_string(),
            };
            lines.push(format!(
                "switch {} port {} ({whose}): {}",
                key.0,
                key.1,
                changes.join(" → ")
            ));
            touched.insert(key);
        }
    }
    let exact = touched.iter().eq(boot.keys());
    lines.push(if exact {
        format!(
            "the sim switch driver configured exactly the {} switch ports inspection linked to boot NICs",
            boot.len()
        )
    } else {
        format!(
            "the switches' changes ({} ports) do not match the {} inspected boot NICs",
            touched.len(),
            boot.len()
        )
    });
    (lines, exact)
}
