//! `ferric deploy`: one command from image to running machine, as metalsmith does
//! for Ironic — reserve a node with an allocation (by resource class, or a named
//! node), attach a port on each requested network (the network service's ports),
//! build the config drive from an SSH key, user data and the ports' addresses,
//! deploy, wait with progress, and print the node and its addresses.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferric_client::{Client, Method};
use serde_json::{json, Map, Value};

use crate::nodes::finish_wait;
use crate::output::{record, Format};
use crate::Failure;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The image: an http(s) URL, or a path the conductor may read.
    #[arg(long)]
    pub image: String,
    /// Its checksum: `sha256:HEX`, `sha512:HEX`, `md5:HEX`, a bare SHA-256, or a URL of a
    /// checksum file.
    #[arg(long)]
    pub checksum: Option<String>,
    /// raw or qcow2 (found from the image when not given).
    #[arg(long)]
    pub image_format: Option<String>,
    /// Reserve any available node of this resource class…
    #[arg(long, conflicts_with = "node")]
    pub resource_class: Option<String>,
    /// …or this node.
    #[arg(long)]
    pub node: Option<String>,
    /// A network (name or UUID) to attach a port of, repeatable.
    #[arg(long = "network")]
    pub networks: Vec<String>,
    /// The network service's API (`[network] api_listen`), for --network.
    #[arg(
        long,
        env = "FERRIC_NETWORK_URL",
        default_value = "http://127.0.0.1:9696"
    )]
    pub network_url: String,
    /// A public SSH key file for the instance (config drive `public_keys`).
    #[arg(long)]
    pub ssh_key: Option<PathBuf>,
    /// A user data file (cloud-init) for the config drive.
    #[arg(long)]
    pub user_data: Option<PathBuf>,
    /// The instance's host name (default: the node's name).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Wait for the deploy, showing progress.
    #[arg(long)]
    pub wait: bool,
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
}

/// `instance_info` for the image and its checksum.
fn image_info(args: &DeployArgs) -> Result<Map<String, Value>, Failure> {
    let mut ii = Map::new();
    ii.insert("image_source".into(), Value::from(args.image.as_str()));
    if let Some(f) = &args.image_format {
        if f != "raw" && f != "qcow2" {
            return Err(Failure::Usage(format!("--image-format {f}: raw or qcow2")));
        }
        ii.insert("image_disk_format".into(), Value::from(f.as_str()));
    }
    match args.checksum.as_deref() {
        None => {}
        Some(c) if c.starts_with("http://") || c.starts_with("https://") => {
            ii.insert("image_checksum".into(), Value::from(c));
        }
        Some(c) => {
            let (algo, hex) = c.split_once(':').unwrap_or(("sha256", c));
            let want = match algo {
                "md5" => 32,
                "sha256" => 64,
                "sha512" => 128,
                other => {
                    return Err(Failure::Usage(format!(
                        "--checksum: unknown algorithm {other}"
                    )))
                }
            };
            if hex.len() != want || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(Failure::Usage(format!(
                    "--checksum: a {algo} checksum is {want} hex digits"
                )));
            }
            ii.insert("image_os_hash_algo".into(), Value::from(algo));
            ii.insert(
                "image_os_hash_value".into(),
                Value::from(hex.to_ascii_lowercase()),
            );
        }
    }
    Ok(ii)
}

/// Reserves a node; its UUID.
async fn allocate(
    client: &Client,
    args: &DeployArgs,
    timeout: Duration,
) -> Result<String, Failure> {
    let mut doc = json!({});
    match (&args.resource_class, &args.node) {
        (_, Some(node)) => {
            let n = client
                .request(Method::GET, &format!("/v1/nodes/{node}"), None)
                .await?;
            doc["candidate_nodes"] = json!([n["uuid"]]);
            doc["resource_class"] = n["resource_class"].clone();
            if doc["resource_class"].is_null() {
                return Err(Failure::Usage(format!(
                    "node {node} has no resource class to allocate it by"
                )));
            }
        }
        (Some(rc), None) => doc["resource_class"] = Value::from(rc.as_str()),
        (None, None) => {
            return Err(Failure::Usage("give --resource-class or --node".into()));
        }
    }
    let a = client
        .request(Method::POST, "/v1/allocations", Some(&doc))
        .await?;
    let id = a["uuid"].as_str().unwrap_or_default().to_string();
    let started = Instant::now();
    loop {
        let a = client
            .request(Method::GET, &format!("/v1/allocations/{id}"), None)
            .await?;
        match a["state"].as_str() {
            Some("active") => return Ok(a["node_uuid"].as_str().unwrap_or_default().to_string()),
            Some("error") => {
                return Err(Failure::Operation(format!(
                    "no node could be reserved: {}",
                    a["last_error"].as_str().unwrap_or("no reason given")
                )))
            }
            _ if started.elapsed() > timeout => {
                return Err(Failure::Timeout("the allocation did not finish".into()))
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A port on each network, attached to the node as a VIF; the ports.
async fn attach_networks(
    client: &Client,
    args: &DeployArgs,
    node: &str,
) -> Result<Vec<Value>, Failure> {
    let net = client.at(&args.network_url);
    let base = args.network_url.trim_end_matches('/');
    let mut ports = Vec::new();
    for wanted in &args.networks {
        let name: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
        let found = net
            .request(
                Method::GET,
                &format!("{base}/v2.0/networks?name={name}"),
                None,
            )
            .await?;
        let id = match found["networks"].as_array().map(Vec::as_slice) {
            Some([one]) => one["id"].clone(),
            _ => {
                // Not a name: a UUID?
                let n = net
                    .request(Method::GET, &format!("{base}/v2.0/networks/{wanted}"), None)
                    .await
                    .map_err(|_| Failure::Usage(format!("no network {wanted}")))?;
                n["network"]["id"].clone()
            }
        };
        let port = net
            .request(
                Method::POST,
                &format!("{base}/v2.0/ports"),
                Some(&json!({"port": {"network_id": id, "name": format!("{node}-{wanted}")}})),
            )
            .await?;
        let port_id = port["port"]["id"].as_str().unwrap_or_default().to_string();
        client
            .request(
                Method::POST,
                &format!("/v1/nodes/{node}/vifs"),
                Some(&json!({"id": port_id})),
            )
            .await?;
        let port = net
            .request(Method::GET, &format!("{base}/v2.0/ports/{port_id}"), None)
            .await?;
        let mut port = port["port"].clone();
        // The NIC the VIF went on tells its MAC: with the noop network interface
        // the network service's port keeps a MAC of its own.
        if let Some(mac) = nic_mac_of_vif(client, node, &port_id).await? {
            port["mac_address"] = Value::from(mac);
        }
        ports.push(port);
    }
    Ok(ports)
}

/// The MAC of the node's port or port group that carries the VIF `vif`.
async fn nic_mac_of_vif(client: &Client, node: &str, vif: &str) -> Result<Option<String>, Failure> {
    for (path, key) in [
        (format!("/v1/nodes/{node}/portgroups/detail"), "portgroups"),
        (format!("/v1/nodes/{node}/ports/detail"), "ports"),
    ] {
        let listed = client.request(Method::GET, &path, None).await?;
        let carrier = listed[key]
            .as_array()
            .into_iter()
            .flatten()
            .find(|nic| nic["internal_info"]["tenant_vif_port_id"].as_str() == Some(vif));
        if let Some(mac) = carrier.and_then(|nic| nic["address"].as_str()) {
            return Ok(Some(mac.to_string()));
        }
    }
    Ok(None)
}

/// The config drive: host name, SSH key, user data, and the ports' addresses.
fn config_drive(args: &DeployArgs, node: &Value, ports: &[Value]) -> Result<Value, Failure> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", p.display())))
    };
    let hostname = args
        .hostname
        .clone()
        .or_else(|| node["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| node["uuid"].as_str().unwrap_or_default().to_string());
    let mut meta = json!({"hostname": hostname, "uuid": node["uuid"]});
    if let Some(k) = &args.ssh_key {
        meta["public_keys"] = json!({"default": read(k)?.trim()});
    }
    let (mut links, mut networks) = (Vec::new(), Vec::new());
    for (i, p) in ports.iter().enumerate() {
        let link = format!("port-{i}");
        links.push(json!({"id": link, "type": "phy", "ethernet_mac_address": p["mac_address"], "vif_id": p["id"]}));
        for ip in p["fixed_ips"].as_array().into_iter().flatten() {
            networks.push(
                json!({"id": format!("network-{i}"), "link": link, "type": "ipv4",
                "ip_address": ip["ip_address"], "network_id": p["network_id"]}),
            );
        }
    }
    let mut doc = json!({"meta_data": meta,
        "network_data": {"links": links, "networks": networks, "services": []}});
    if let Some(u) = &args.user_data {
        doc["user_data"] = Value::from(read(u)?);
    }
    Ok(doc)
}

pub async fn run(client: &Client, format: Format, args: DeployArgs) -> Result<(), Failure> {
    let timeout = Duration::from_secs(args.timeout);
    let ii = image_info(&args)?;
    let node_uuid = allocate(client, &args, timeout).await?;
    let node = client
        .request(Method::GET, &format!("/v1/nodes/{node_uuid}"), None)
        .await?;
    eprintln!(
        "ferric deploy: reserved node {} ({node_uuid})",
        node["name"].as_str().unwrap_or("-")
    );
    let ports = attach_networks(client, &args, &node_uuid).await?;
    let ops: Vec<Value> = ii
        .iter()
        .map(|(k, v)| json!({"op": "add", "path": format!("/instance_info/{k}"), "value": v}))
        .collect();
    client
        .request(
            Method::PATCH,
            &format!("/v1/nodes/{node_uuid}"),
            Some(&Value::from(ops)),
        )
        .await?;
    let body = json!({"target": "active", "configdrive": config_drive(&args, &node, &ports)?});
    client
        .request(
            Method::PUT,
            &format!("/v1/nodes/{node_uuid}/states/provision"),
            Some(&body),
        )
        .await?;
    if !args.wait {
        eprintln!("ferric deploy: deploying node {node_uuid}");
        return Ok(());
    }
    // The wait ends with the node as it rests.
    let node = finish_wait(
        client,
        format,
        std::slice::from_ref(&node_uuid),
        "active",
        timeout,
    )
    .await?
    .pop()
    .unwrap_or_default();
    let addresses: Vec<Value> = ports
        .iter()
        .flat_map(|p| {
            p["fixed_ips"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|ip| ip["ip_address"].clone())
        })
        .collect();
    let summary = json!({
        "node": node["uuid"], "name": node["name"], "provision_state": node["provision_state"],
        "power_state": node["power_state"], "allocation_uuid": node["allocation_uuid"],
        "addresses": addresses,
    });
    print!("{}", record(format, &summary));
    Ok(())
}
