//! ferric-agent: the agent of Ferric's deploy ramdisk, wire-compatible with
//! ironic-python-agent. It finds its NICs, posts its inspection data when booted
//! for inspection, looks its node up (receiving the agent token), serves IPA's
//! command API and heartbeats; the conductor then drives it: listing and running
//! clean and deploy steps, streaming an image onto the disk, erasing disks,
//! reporting partition UUIDs, powering the machine off, handing a rescued machine
//! its rescue password.

mod addresses;
pub mod agent;
mod api;
pub mod commands;
mod configdrive;
mod disks;
mod erase;
mod extensions;
mod heartbeat;
mod hints;
mod image;
mod inspection;
mod inventory;
pub mod ironic;
mod jitter;
pub mod lldp;
mod logs;
mod partitions;
mod power;
pub mod rescue;
pub mod settings;
mod steps;
mod tls;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use agent::{Agent, Stop};
pub use settings::Settings;

/// The agent's version, reported in heartbeats and `/v1/status`.
pub const VERSION: &str = concat!("ferric-agent ", env!("CARGO_PKG_VERSION"));

/// The shortest token the agent adopts (Ironic's tokens are 43 characters).
const MIN_TOKEN_LEN: usize = 32;

/// Runs the agent until it is told to stop (power off or reboot in test mode, a
/// finished rescue) or forever.
pub async fn run(settings: Settings) -> Result<Stop, String> {
    run_agent(Arc::new(Agent::new(settings))).await
}

/// Runs an agent whose state the caller keeps (a simulated machine watches its
/// commands).
pub async fn run_agent(agent: Arc<Agent>) -> Result<Stop, String> {
    let rescued = rescue::marker(&agent.settings.rescue_dir());
    if rescued.exists() {
        tracing::info!(marker = %rescued.display(), "this machine was rescued: the agent does not serve");
        return Ok(Stop::Rescued);
    }
    let macs = wait_for_nics(&agent.settings).await?;
    let listener = tokio::net::TcpListener::bind(agent.settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", agent.settings.listen))?;
    let app = api::router(agent.clone());
    let mut heartbeater = None;
    let server = if agent.settings.api_urls.is_empty() {
        tracing::warn!(
            "no API URL (ipa-api-url / --api-url): serving commands without lookup or heartbeat"
        );
        let host = agent
            .settings
            .advertise_host
            .clone()
            .unwrap_or_else(|| agent.settings.listen.ip().to_string());
        start_server(&agent, listener, app, &host, false)?
    } else {
        let mut client = ironic::IronicClient::new(&agent.settings).await?;
        let inspected = match &agent.settings.inspection_callback_url {
            Some(url) => tokio::select! {
                uuid = inspection::run(&agent.settings, client.http(), url) => uuid,
                _ = agent.halt.notified() => return Ok(agent.stopped_for()),
            },
            None => None,
        };
        // A machine powered off while its agent still looks its node up stops here.
        let found = tokio::select! {
            found = client.lookup(&agent.settings, &macs, inspected.as_deref()) => found?,
            _ = agent.halt.notified() => return Ok(agent.stopped_for()),
        };
        let uuid = found.node_uuid().unwrap_or_default().to_string();
        adopt_token(&agent, &found.config)?;
        *agent.config.write().unwrap_or_else(|p| p.into_inner()) = found.config.clone();
        agent.set_node(found.node.clone());
        let host = advertise_host(&agent.settings, client.url())?;
        let tls13 = found.config.get("tls_min_version").and_then(Value::as_str) == Some("1.3");
        let server = start_server(&agent, listener, app, &host, tls13)?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let scheme = if agent.settings.plain_http {
            "http"
        } else {
            "https"
        };
        let callback = format!("{scheme}://{host}:{}", agent.settings.advertise_port);
        tracing::info!(node = %uuid, callback = %callback, "found my node");
        heartbeater = Some(tokio::spawn(heartbeat::run(
            agent.clone(),
            client,
            uuid,
            callback,
        )));
        server
    };
    agent.halt.notified().await;
    if let Some(hb) = heartbeater {
        hb.abort();
    }
    server.abort();
    agent.abort_commands();
    Ok(agent.stopped_for())
}

/// Starts the command API: plain HTTP when asked, else TLS with a fresh certificate
/// for `host` (kept for the heartbeats).
fn start_server(
    agent: &Arc<Agent>,
    listener: tokio::net::TcpListener,
    app: axum::Router,
    host: &str,
    tls13_only: bool,
) -> Result<tokio::task::JoinHandle<()>, String> {
    if agent.settings.plain_http {
        return Ok(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the command API stopped");
            }
        }));
    }
    let cert = tls::self_signed(host)?;
    *agent
        .certificate_pem
        .write()
        .unwrap_or_else(|p| p.into_inner()) = Some(cert.pem.clone());
    Ok(tokio::spawn(async move {
        if let Err(e) = tls::serve(listener, app, &cert, tls13_only).await {
            tracing::error!(error = %e, "the command API stopped");
        }
    }))
}

/// Takes the token the lookup returned, or keeps the one from the command line.
fn adopt_token(agent: &Agent, config: &Value) -> Result<(), String> {
    let given = config.get("agent_token").and_then(Value::as_str);
    let mut token = agent.token.write().unwrap_or_else(|p| p.into_inner());
    match given {
        Some(t) if t.len() >= MIN_TOKEN_LEN => *token = Some(t.to_string()),
        Some("******") if token.is_none() => {
            return Err("the API says this node already has an agent token, and none was given on the command line (ipa-agent-token); refusing to run without one".into())
        }
        _ => {}
    }
    Ok(())
}

/// The machine's MACs, waiting up to a minute for a NIC to appear.
async fn wait_for_nics(settings: &Settings) -> Result<Vec<String>, String> {
    for _ in 0..12 {
        let macs: Vec<String> = inventory_macs(settings);
        if !macs.is_empty() {
            return Ok(macs);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    Err("no network interface with a MAC address appeared within 60 s".into())
}

fn inventory_macs(settings: &Settings) -> Vec<String> {
    inventory::nics(settings)
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

/// The address the conductor reaches the agent at: the setting, the listen address
/// when it is specific, else the source address of the route towards the API.
fn advertise_host(settings: &Settings, api_url: &str) -> Result<String, String> {
    if let Some(h) = &settings.advertise_host {
        return Ok(h.clone());
    }
    if !settings.listen.ip().is_unspecified() {
        return Ok(settings.listen.ip().to_string());
    }
    let url = reqwest::Url::parse(api_url).map_err(|e| format!("bad API URL {api_url}: {e}"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(|c| c == '[' || c == ']');
    let target: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let bind: IpAddr = if target.is_ipv4() {
        IpAddr::from([0, 0, 0, 0])
    } else {
        IpAddr::from([0u16; 8])
    };
    // Connecting a UDP socket sends nothing; it only asks the kernel for the route.
    let sock = UdpSocket::bind((bind, 0)).map_err(|e| e.to_string())?;
    sock.connect(target)
        .map_err(|e| format!("no route to the API at {target}: {e}"))?;
    Ok(sock
        .local_addr()
        .map_err(|e| e.to_string())?
        .ip()
        .to_string())
}
