//! `ferric sim`: runs a simulated rack against a Ferric API until interrupted —
//! machines with Redfish BMCs on one listener and in-process agents on sparse
//! disks, faults injected on request — and can enroll its machines as nodes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferric_client::{Client, Method};
use ferric_sim::{Faults, Rack, RackConfig};

use crate::Failure;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// How many machines.
    #[arg(long, default_value_t = 8)]
    pub nodes: usize,
    /// Where the disks go (default: a new directory under the system's temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The BMC listener (every machine's Redfish service).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub bmc_listen: SocketAddr,
    /// Machine i's agent listens on this loopback address + i.
    #[arg(long, default_value = "127.1.0.0")]
    pub agent_net: std::net::Ipv4Addr,
    /// Each machine's disk, in MiB (sparse).
    #[arg(long, default_value_t = 1024)]
    pub disk_size_mib: u64,
    /// Enroll every machine in Ferric (a redfish node and its port).
    #[arg(long)]
    pub enroll: bool,
    /// Share of machines whose BMC stops answering (0–1).
    #[arg(long, default_value_t = 0.0)]
    pub bmc_timeout: f64,
    /// Share of machines whose agent dies mid-write.
    #[arg(long, default_value_t = 0.0)]
    pub crash_mid_write: f64,
    /// Share of machines with a slow (2 MiB/s) disk.
    #[arg(long, default_value_t = 0.0)]
    pub slow_disk: f64,
    /// Share of machines whose ramdisk never heartbeats.
    #[arg(long, default_value_t = 0.0)]
    pub never_heartbeat: f64,
}

impl SimArgs {
    /// The rack these arguments describe, for the API at `api_url`.
    pub fn rack_config(&self, api_url: &str) -> Result<RackConfig, Failure> {
        for (name, share) in [
            ("--bmc-timeout", self.bmc_timeout),
            ("--crash-mid-write", self.crash_mid_write),
            ("--slow-disk", self.slow_disk),
            ("--never-heartbeat", self.never_heartbeat),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(Failure::Usage(format!(
                    "{name} must be between 0 and 1, not {share}"
                )));
            }
        }
        if self.nodes == 0 {
            return Err(Failure::Usage("--nodes must be at least 1".into()));
        }
        let dir = self.dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ferric-sim-{}", std::process::id()))
        });
        let mut c = RackConfig::new(self.nodes, dir, api_url);
        c.bmc_listen = self.bmc_listen;
        c.agent_net = self.agent_net;
        c.disk_size = self.disk_size_mib << 20;
        c.faults = Faults {
            bmc_timeout: self.bmc_timeout,
            crash_mid_write: self.crash_mid_write,
            slow_disk: self.slow_disk,
            never_heartbeat: self.never_heartbeat,
            ..Faults::default()
        };
        Ok(c)
    }
}

/// Enrolls every machine of the rack (16 at a time); the nodes' UUIDs in order.
pub async fn enroll(client: &Client, rack: &Arc<Rack>) -> Result<Vec<String>, Failure> {
    let gate = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..rack.machines.len() {
        let (client, rack, gate) = (client.clone(), rack.clone(), gate.clone());
        tasks.spawn(async move {
            let _slot = gate.acquire().await;
            let node = client
                .request(Method::POST, "/v1/nodes", Some(&rack.node_document(i)))
                .await?;
            let uuid = node["uuid"].as_str().unwrap_or_default().to_string();
            client
                .request(
                    Method::POST,
                    "/v1/ports",
                    Some(&rack.port_document(i, &uuid)),
                )
                .await?;
            Ok::<_, Failure>((i, uuid))
        });
    }
    let mut uuids = vec![String::new(); rack.machines.len()];
    while let Some(done) = tasks.join_next().await {
        let (i, uuid) = done.map_err(|e| Failure::Operation(e.to_string()))??;
        uuids[i] = uuid;
    }
    Ok(uuids)
}

pub async fn run(api_url: &str, args: SimArgs) -> Result<(), Failure> {
    let config = args.rack_config(api_url)?;
    let dir = config.dir.clone();
    let rack = Arc::new(Rack::start(config).await.map_err(Failure::Operation)?);
    eprintln!(
        "ferric sim: {} machines; BMCs at {}/redfish/v1 (admin/password); disks in {}; status at {}/sim/machines; {} leaf switches at {}/sim/switches (the sim switch driver's url is {}/sim/switches/<name>)",
        rack.machines.len(),
        rack.bmc_url,
        dir.display(),
        rack.bmc_url,
        rack.switches().len(),
        rack.bmc_url,
        rack.bmc_url
    );
    if args.enroll {
        let client = Client::new(api_url)?;
        let started = std::time::Instant::now();
        let uuids = enroll(&client, &rack).await?;
        eprintln!(
            "ferric sim: enrolled {} nodes in {:.1} s",
            uuids.len(),
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!("ferric sim: running until Ctrl-C");
    let _ = tokio::signal::ctrl_c().await;
    drop(rack);
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
