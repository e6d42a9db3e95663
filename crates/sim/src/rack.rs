//! A rack of simulated machines: their disks (sparse files), their agents' command
//! ports, their NICs and the switch ports those are cabled to, the BMC listener
//! serving them all, which machines get which faults, and the node and port
//! documents that enroll them in Ferric.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::machine::{Machine, MachineFaults, MachineSpec, Nic};
use crate::redfish::{basic_auth, router, Bmc};
use crate::switch::{self, SimSwitch};
use crate::switch_board::{Change, SwitchBoard};

/// Which share of the machines gets each fault (0.0 – 1.0).
#[derive(Debug, Clone)]
pub struct Faults {
    pub bmc_timeout: f64,
    pub crash_mid_write: f64,
    pub slow_disk: f64,
    pub never_heartbeat: f64,
    /// How long a timing-out BMC takes to answer.
    pub bmc_timeout_after: Duration,
    /// How fast a slow disk writes, in bytes a second.
    pub slow_disk_rate: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            bmc_timeout: 0.0,
            crash_mid_write: 0.0,
            slow_disk: 0.0,
            never_heartbeat: 0.0,
            bmc_timeout_after: Duration::from_secs(120),
            slow_disk_rate: 2 << 20,
        }
    }
}

/// Whether machine `i` is among the `share` of machines with a fault: spread
/// evenly, exactly `share × n` of the first `n` (`offset` staggers faults).
fn picked(i: usize, share: f64, offset: usize) -> bool {
    if share <= 0.0 {
        return false;
    }
    let k = (i + offset) as f64;
    ((k + 1.0) * share).floor() > (k * share).floor()
}

/// How to build a rack.
#[derive(Debug, Clone)]
pub struct RackConfig {
    pub nodes: usize,
    /// Disks and agents' scratch space.
    pub dir: PathBuf,
    /// Ferric's API, where agents look up and machines fetch boot scripts.
    pub api_url: String,
    /// The BMC listener (port 0: any).
    pub bmc_listen: SocketAddr,
    /// Machine `i`'s agent listens on `agent_net + i` (a loopback address of its
    /// own, 127.1.0.0 up by default: no port clashes however many machines) at
    /// `agent_port`.
    pub agent_net: Ipv4Addr,
    pub agent_port: u16,
    /// Each disk's size (sparse).
    pub disk_size: u64,
    pub username: String,
    pub password: String,
    pub faults: Faults,
    /// NICs per machine (1 or 2): the boot NIC on the `a` switch of its pair, the
    /// second on the `b` switch.
    pub nics: usize,
    /// Ramdisks report the LLDP their switch ports send even without
    /// `ipa-collect-lldp=1` on their kernel command line.
    pub lldp: bool,
}

impl RackConfig {
    pub fn new(nodes: usize, dir: PathBuf, api_url: &str) -> Self {
        Self {
            nodes,
            dir,
            api_url: api_url.to_string(),
            bmc_listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            agent_net: Ipv4Addr::new(127, 1, 0, 0),
            agent_port: 9999,
            disk_size: 1 << 30,
            username: "admin".into(),
            password: "password".into(),
            faults: Faults::default(),
            nics: 2,
            lldp: true,
        }
    }
}

/// A running rack.
pub struct Rack {
    pub machines: Vec<Arc<Machine>>,
    /// The BMC listener's base URL (`http://127.0.0.1:PORT`).
    pub bmc_url: String,
    config: RackConfig,
    bmc: Arc<Bmc>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Rack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Rack {
    /// Makes the disks and starts the BMC listener.
    pub async fn start(config: RackConfig) -> Result<Rack, String> {
        let first = u32::from(config.agent_net);
        if config.nodes > 0xff_ffff || !Ipv4Addr::from(first + config.nodes as u32).is_loopback() {
            return Err(format!(
                "{} machines do not fit in loopback addresses from {}",
                config.nodes, config.agent_net
            ));
        }
        let disks = config.dir.join("disks");
        std::fs::create_dir_all(&disks)
            .map_err(|e| format!("cannot create {}: {e}", disks.display()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        if !(1..=2).contains(&config.nics) {
            return Err(format!("machines have 1 or 2 NICs, not {}", config.nics));
        }
        let f = &config.faults;
        let mut machines = Vec::with_capacity(config.nodes);
        for i in 0..config.nodes {
            let name = format!("sim-{i:05}");
            let disk = disks.join(format!("{name}.img"));
            let file = std::fs::File::create(&disk)
                .map_err(|e| format!("cannot create {}: {e}", disk.display()))?;
            file.set_len(config.disk_size)
                .map_err(|e| format!("cannot size {}: {e}", disk.display()))?;
            let faults = MachineFaults {
                bmc_delay: picked(i, f.bmc_timeout, 0).then_some(f.bmc_timeout_after),
                crash_mid_write: picked(i, f.crash_mid_write, 3),
                slow_disk: picked(i, f.slow_disk, 5).then_some(f.slow_disk_rate),
                never_heartbeat: picked(i, f.never_heartbeat, 7),
            };
            let nics: Vec<Nic> = (0..config.nics)
                .map(|n| Nic {
                    mac: format!(
                        "52:54:{n:02x}:{:02x}:{:02x}:{:02x}",
                        i >> 16,
                        (i >> 8) & 0xff,
                        i & 0xff
                    ),
                    link: switch::cabling(i, n),
                })
                .collect();
            let spec = MachineSpec {
                id: format!("5e1f0000-0000-4000-8000-{i:012x}"),
                name,
                mac: nics[0].mac.clone(),
                nics,
                lldp: config.lldp,
                disk,
                agent_listen: SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::from(first + i as u32)),
                    config.agent_port,
                ),
                faults,
            };
            machines.push(Arc::new(Machine::new(
                spec,
                &config.api_url,
                config.dir.clone(),
                http.clone(),
            )));
        }
        let bmc = Arc::new(Bmc {
            machines: machines
                .iter()
                .map(|m| (m.spec.id.clone(), m.clone()))
                .collect::<HashMap<_, _>>(),
            by_name: machines
                .iter()
                .map(|m| (m.spec.name.clone(), m.clone()))
                .collect::<HashMap<_, _>>(),
            order: machines.clone(),
            expected_auth: basic_auth(&config.username, &config.password),
            switches: SwitchBoard::new(&switch::switches(config.nodes)),
        });
        let listener = tokio::net::TcpListener::bind(config.bmc_listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.bmc_listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = router(bmc.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the rack's BMC listener stopped");
            }
        });
        Ok(Rack {
            machines,
            bmc_url: format!("http://{addr}"),
            config,
            bmc,
            server,
        })
    }

    /// The node document that enrolls machine `i` (`POST /v1/nodes`): the `redfish`
    /// hardware type pointed at its own BMC, direct deploy, iPXE boot.
    pub fn node_document(&self, i: usize) -> Value {
        let m = &self.machines[i];
        json!({
            "name": m.spec.name,
            "driver": "redfish",
            "boot_interface": "ipxe",
            "deploy_interface": "direct",
            "inspect_interface": "agent",
            "resource_class": "sim",
            "driver_info": {
                // The path is the service root (Ironic's reading): this machine's BMC.
                "redfish_address": format!("{}/bmc/{}/redfish/v1", self.bmc_url, m.spec.name),
                "redfish_system_id": format!("/bmc/{}/redfish/v1/Systems/{}", m.spec.name, m.spec.id),
                "redfish_username": self.config.username,
                "redfish_password": self.config.password,
                "deploy_kernel": format!("{}/sim/deploy.kernel", self.bmc_url),
                "deploy_ramdisk": format!("{}/sim/deploy.ramdisk", self.bmc_url),
            },
            "properties": {
                "cpus": 2,
                "memory_mb": 4096,
                "local_gb": (self.config.disk_size >> 30).max(1),
                "cpu_arch": "x86_64",
            },
        })
    }

    /// The switches the rack's machines are cabled to.
    pub fn switches(&self) -> Vec<SimSwitch> {
        switch::switches(self.machines.len())
    }

    /// The management API URL of switch `name` (what a `sim` switch driver's `url`
    /// names).
    pub fn switch_url(&self, name: &str) -> String {
        format!("{}/sim/switches/{name}", self.bmc_url)
    }

    /// Every change made to switch `name`'s ports, in order.
    pub fn switch_log(&self, name: &str) -> Vec<Change> {
        self.bmc.switches.log(name)
    }

    /// The BMC (and switch) credentials: user and password.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.config.username, &self.config.password)
    }

    /// The port document of machine `i`'s boot NIC, for node `node_uuid`.
    pub fn port_document(&self, i: usize, node_uuid: &str) -> Value {
        json!({"node_uuid": node_uuid, "address": self.machines[i].spec.mac, "pxe_enabled": true})
    }
}

#[cfg(test)]
mod tests {
    use super::picked;

    #[test]
    fn faults_hit_exactly_their_share() {
        for (n, share) in [(100, 0.1), (1000, 0.1), (80, 0.25), (10, 0.0), (7, 1.0)] {
            let hit = (0..n).filter(|&i| picked(i, share, 3)).count();
            assert_eq!(hit, (n as f64 * share).round() as usize, "{n} × {share}");
        }
    }
}
