//! `ferric demo`: Ferric all-in-one in this process (SQLite, zero configuration
//! beyond a scratch directory), a simulated rack of eight machines beside it, and
//! the whole flow with a progress line per node — enroll, manage (the BMCs
//! answer), inspect (each machine's agent reports its hardware and the LLDP of the
//! switch ports its NICs are cabled to; Ferric adds the ports and their switch
//! links), then network isolation on (the `neutron` network interface, the rack's
//! switches driven by the `sim` switch driver), provide (cleaning through the
//! agents, on the cleaning VLAN), deploy a generated image (on the provisioning
//! VLAN, then the tenant VLAN) — then the final table and what each switch port
//! went through. Everything keeps running for you to poke at.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use ferric_client::{Client, Method};
use ferric_sim::{Rack, RackConfig};
use serde_json::json;

use crate::demo_network;
use crate::nodes::finish_wait;
use crate::output::Format;
use crate::Failure;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many simulated machines.
    #[arg(long, default_value_t = 8)]
    pub nodes: usize,
    /// Where Ferric's API listens.
    #[arg(long, default_value = "127.0.0.1:6385")]
    pub listen: SocketAddr,
    /// Scratch directory (database, disks, images, log); default a new temp dir.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Size of the generated image, in MiB.
    #[arg(long, default_value_t = 64)]
    pub image_mib: usize,
    /// Stop after the deploy instead of running until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Leave the nodes available (cleaned, not deployed): try `ferric deploy` on them.
    #[arg(long)]
    pub no_deploy: bool,
    /// Where the network service's (Neutron-shaped) API listens (the demo's
    /// networks live there; `ferric deploy --network demo-tenant` uses it).
    #[arg(long, default_value = "127.0.0.1:9696")]
    pub network_api_listen: SocketAddr,
    /// Machine i's agent listens on this loopback address + i.
    #[arg(long, default_value = "127.1.0.0")]
    pub agent_net: std::net::Ipv4Addr,
    /// Seconds a node may wait for its agent before it fails.
    #[arg(long, default_value_t = 600)]
    pub callback_timeout: u64,
    /// Share of machines whose agent dies mid-write (0–1): they end `deploy failed`.
    #[arg(long, default_value_t = 0.0)]
    pub crash_mid_write: f64,
    /// Share of machines with a slow (2 MiB/s) disk.
    #[arg(long, default_value_t = 0.0)]
    pub slow_disk: f64,
}

/// Each simulated machine's disk (a sparse file): a small server's.
const DISK_SIZE: u64 = 8 << 30;

/// A raw disk image: a boot sector that says what it is, then pseudo-random data.
/// Returns its SHA-256 (hex).
fn write_image(path: &Path, mib: usize) -> Result<String, Failure> {
    use sha2::Digest;
    let mut data = vec![0u8; mib.max(1) << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in data.iter_mut().skip(512) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let banner = b"FERRIC DEMO IMAGE";
    data[..banner.len()].copy_from_slice(banner);
    data[510] = 0x55;
    data[511] = 0xaa;
    std::fs::write(path, &data)
        .map_err(|e| Failure::Operation(format!("cannot write {}: {e}", path.display())))?;
    Ok(format!("{:x}", sha2::Sha256::digest(&data)))
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::Operation(e.to_string())
}

async fn start_ferric(
    dir: &Path,
    listen: SocketAddr,
    callback_timeout: u64,
    network_api: SocketAddr,
    rack: &Rack,
) -> Result<(), Failure> {
    let config = dir.join("ferricd.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nrequire_tls = false\nheartbeat_timeout = 30\n[conductor]\ndeploy_callback_timeout = {callback_timeout}\n\
             clean_callback_timeout = {callback_timeout}\n[inspector]\nadd_ports = \"all\"\n\
             [network]\napi_listen = \"{network_api}\"\n{}",
            demo_network::switches_config(rack)
        ),
    )
    .map_err(fail)?;
    let argv = vec![
        "ferricd".to_string(),
        "--listen".into(),
        listen.to_string(),
        "--data-dir".into(),
        dir.join("var").display().to_string(),
        "--config".into(),
        config.display().to_string(),
    ];
    let cli = ferric_server::Cli::try_parse_from(argv).map_err(fail)?;
    let settings = ferric_server::Settings::load(cli).map_err(Failure::Operation)?;
    // The server runs on a runtime of its own (its future is not Send).
    std::thread::Builder::new()
        .name("ferricd".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("ferric demo: cannot start Ferric's runtime: {e}");
                    return;
                }
            };
            if let Err(e) = runtime.block_on(ferric_server::run(settings)) {
                tracing::error!(error = %e, "Ferric stopped");
                eprintln!("ferric demo: Ferric stopped: {e}");
            }
        })
        .map_err(fail)?;
    Ok(())
}

fn log_to(path: &Path) -> Result<(), Failure> {
    let file = std::fs::File::create(path).map_err(fail)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(Arc::new(file))
        .with_ansi(false)
        .init();
    Ok(())
}

pub async fn run(args: DemoArgs, format: Format) -> Result<(), Failure> {
    for (name, share) in [
        ("--crash-mid-write", args.crash_mid_write),
        ("--slow-disk", args.slow_disk),
    ] {
        if !(0.0..=1.0).contains(&share) {
            return Err(Failure::Usage(format!(
                "{name} must be between 0 and 1, not {share}"
            )));
        }
    }
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ferric-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(dir.join("var")).map_err(fail)?;
    log_to(&dir.join("ferric.log"))?;
    let started = Instant::now();
    let api = format!("http://{}", args.listen);
    // The rack first: Ferric's configuration names its switches.
    let mut rack_config = RackConfig::new(args.nodes, dir.join("rack"), &api);
    // Sparse files: only what is written takes space, so the disks can be the
    // size of a small server's and inspection finds a root disk worth reporting.
    rack_config.disk_size = ((args.image_mib as u64) << 21).max(DISK_SIZE);
    rack_config.agent_net = args.agent_net;
    rack_config.faults.crash_mid_write = args.crash_mid_write;
    rack_config.faults.slow_disk = args.slow_disk;
    let rack = Arc::new(Rack::start(rack_config).await.map_err(Failure::Operation)?);
    eprintln!(
        "ferric demo: Ferric all-in-one on {api} (SQLite in {})",
        dir.join("var").display()
    );
    start_ferric(
        &dir,
        args.listen,
        args.callback_timeout,
        args.network_api_listen,
        &rack,
    )
    .await?;
    let client = Client::new(&api)?;
    let net = client.at(&format!("http://{}", args.network_api_listen));
    let mut up = false;
    for _ in 0..100 {
        if client.request(Method::GET, "/v1", None).await.is_ok()
            && net.request(Method::GET, "/", None).await.is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        return Err(Failure::Operation(format!(
            "Ferric did not answer on {api} and {}; see {}",
            args.network_api_listen,
            dir.join("ferric.log").display()
        )));
    }
    let image = dir.join("var").join("demo-image.raw");
    let sha = write_image(&image, args.image_mib)?;
    eprintln!(
        "ferric demo: a simulated rack of {} machines, their BMCs at {}/redfish/v1, its {} leaf switches at {}/sim/switches",
        rack.machines.len(),
        rack.bmc_url,
        rack.switches().len(),
        rack.bmc_url
    );
    demo_network::create_networks(&net).await?;
    eprintln!(
        "ferric demo: networks {} on VLANs {} (network API on http://{})",
        demo_network::NETWORKS.map(|n| n.0).join(", "),
        demo_network::NETWORKS.map(|n| n.2.to_string()).join(", "),
        args.network_api_listen
    );
    let uuids = crate::sim::enroll(&client, &rack).await?;
    let names: Vec<String> = rack.machines.iter().map(|m| m.spec.name.clone()).collect();
    eprintln!(
        "ferric demo: enrolled {} nodes (redfish, direct deploy, iPXE)",
        uuids.len()
    );
    let timeout = Duration::from_secs(1800);
    for (verb, what) in [
        ("manage", "manage: Ferric checks each BMC"),
        (
            "inspect",
            "inspect: each machine network-boots its agent, which reports its hardware",
        ),
        (
            "provide",
            "provide: each machine network-boots its agent on the cleaning VLAN, which cleans its disk",
        ),
    ] {
        if verb == "provide" {
            eprintln!(
                "ferric demo: isolation: every node to the neutron network interface; its boot NIC's switch port now follows its state"
            );
            for n in &names {
                demo_network::isolate(&client, n).await?;
            }
        }
        eprintln!("ferric demo: {what}");
        for n in &names {
            client
                .request(
                    Method::PUT,
                    &format!("/v1/nodes/{n}/states/provision"),
                    Some(&json!({"target": verb})),
                )
                .await?;
        }
        let nodes = finish_wait(&client, format, &names, verb, timeout).await?;
        if verb == "inspect" {
            for n in &nodes {
                eprintln!("ferric demo: {}", hardware_line(&client, n).await?);
                for line in link_lines(&client, n).await? {
                    eprintln!("ferric demo: {line}");
                }
            }
        }
    }
    let deployed = if args.no_deploy {
        Ok(())
    } else {
        deploy_all(
            &client,
            &net,
            &names,
            (&image, &sha),
            args.image_mib,
            format,
            timeout,
        )
        .await
    };
    let boot = demo_network::boot_links(&client, &names).await?;
    let (lines, exact) = demo_network::report(&rack, &boot);
    for line in lines {
        eprintln!("ferric demo: {line}");
    }
    deployed?;
    if !exact {
        return Err(Failure::Operation(
            "the switch ports Ferric configured are not the inspected boot NICs'".into(),
        ));
    }
    if !args.no_deploy {
        let booted = rack
            .machines
            .iter()
            .filter(|m| m.running() == ferric_sim::Running::Image)
            .count();
        eprintln!(
            "ferric demo: {} of {} machines booted their deployed image; the whole flow took {:.0} s",
            booted,
            rack.machines.len(),
            started.elapsed().as_secs_f64()
        );
    }
    if args.exit {
        return Ok(());
    }
    let net_url = format!("http://{}", args.network_api_listen);
    eprintln!(
        "\nFerric keeps running. Try:\n{}\nLogs: {}\nCtrl-C to stop.",
        hints(&args, &names, (&image, &sha), &api, &net_url, &rack.bmc_url).join("\n"),
        dir.join("ferric.log").display()
    );
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

/// What to try next, a command a line (a comment after two spaces and a
/// parenthesis), each one that works when pasted in this state of the rack.
fn hints(
    args: &DemoArgs,
    names: &[String],
    (image, sha): (&Path, &str),
    api: &str,
    net_url: &str,
    bmc_url: &str,
) -> Vec<String> {
    let image = format!("{} --checksum sha256:{sha}", image.display());
    let tenant = demo_network::TENANT;
    let mut lines = vec![
        format!("  export FERRIC_URL={api} FERRIC_NETWORK_URL={net_url}"),
        "  ferric node list            (or: ferric node watch)".to_string(),
    ];
    match names.first() {
        // Every machine is deployed: take one down, then deploy it again (its
        // port is still on the tenant network).
        Some(first) if !args.no_deploy => lines.extend([
            format!("  ferric node provision undeploy {first} --wait  (torn down and cleaned)"),
            format!("  ferric deploy --node {first} --image {image} --wait  (deployed again)"),
        ]),
        Some(_) => lines.push(format!(
            "  ferric deploy --resource-class sim --image {image} --network {tenant} --wait"
        )),
        None => {}
    }
    lines.extend([
        format!("  export OS_AUTH_TYPE=none OS_ENDPOINT={api} OS_BAREMETAL_API_VERSION=1.115"),
        "  openstack baremetal node list".to_string(),
        format!("  curl -s {bmc_url}/sim/machines  (the rack as the machines see it)"),
        format!("  curl -s {bmc_url}/sim/switches  (its switch ports' VLANs)"),
    ]);
    lines
}

/// What inspection found on a node, in a line: the root disk's size as the agent
/// measured it, and the `local_gb` Ironic's scheduler sees (a GiB less).
async fn hardware_line(client: &Client, node: &serde_json::Value) -> Result<String, Failure> {
    let uuid = node["uuid"].as_str().unwrap_or_default();
    let data = client
        .request(Method::GET, &format!("/v1/nodes/{uuid}/inventory"), None)
        .await?;
    let disk = match data["plugin_data"]["root_disk"]["size"].as_u64() {
        Some(bytes) => format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64),
        None => "?".into(),
    };
    let p = &node["properties"];
    let show = |k: &str| match &p[k] {
        serde_json::Value::Null => "?".to_string(),
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    Ok(format!(
        "{} inspected: {} CPUs ({}), {} MiB of memory, a root disk of {disk} (local_gb {})",
        node["name"].as_str().unwrap_or("?"),
        show("cpus"),
        show("cpu_arch"),
        show("memory_mb"),
        show("local_gb")
    ))
}

/// Where inspection found each of a node's NICs cabled, in a line each.
async fn link_lines(client: &Client, node: &serde_json::Value) -> Result<Vec<String>, Failure> {
    let name = node["name"].as_str().unwrap_or("?");
    let uuid = node["uuid"].as_str().unwrap_or_default();
    let ports = client
        .request(
            Method::GET,
            &format!("/v1/ports?node_uuid={uuid}&fields=address,pxe_enabled,local_link_connection"),
            None,
        )
        .await?;
    Ok(ports["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let llc = &p["local_link_connection"];
            let show = |k: &str| llc[k].as_str().unwrap_or("?").to_string();
            format!(
                "{name} NIC {}{} is cabled to {} port {} ({})",
                p["address"].as_str().unwrap_or("?"),
                if p["pxe_enabled"] == true {
                    " (boot)"
                } else {
                    ""
                },
                show("switch_info"),
                show("port_id"),
                show("switch_id"),
            )
        })
        .collect())
}

/// Deploys the demo image on every node and waits.
async fn deploy_all(
    client: &Client,
    net: &Client,
    names: &[String],
    (image, sha): (&Path, &str),
    image_mib: usize,
    format: Format,
    timeout: Duration,
) -> Result<(), Failure> {
    eprintln!("ferric demo: deploy: each agent writes a {image_mib} MiB image served by Ferric's image cache on the provisioning VLAN; then the node boots it on its tenant VLAN");
    for n in names {
        demo_network::attach_tenant_vif(client, net, n).await?;
        let ops = json!([
            {"op": "add", "path": "/instance_info/image_source", "value": image.display().to_string()},
            {"op": "add", "path": "/instance_info/image_disk_format", "value": "raw"},
            {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
            {"op": "add", "path": "/instance_info/image_os_hash_value", "value": sha},
        ]);
        client
            .request(Method::PATCH, &format!("/v1/nodes/{n}"), Some(&ops))
            .await?;
        client
            .request(
                Method::PUT,
                &format!("/v1/nodes/{n}/states/provision"),
                Some(&json!({"target": "active"})),
            )
            .await?;
    }
    finish_wait(client, format, names, "active", timeout).await?;
    Ok(())
}
