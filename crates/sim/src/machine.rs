//! One simulated machine: its power, its boot override (as a Redfish BMC sets it),
//! a sparse file as its only disk, and what it runs. Powering on boots it: from the
//! network — it asks Ferric for its iPXE script as firmware would, and when Ferric
//! has one for it, runs a `ferric-agent` in this process (its own command port) —
//! or from its disk, where a written image counts as "booted the deployed image".
//! The agent powering the machine off (or rebooting it) through its command API
//! acts on the machine. Its NICs are cabled to switch ports whose LLDP the agent
//! reports when it inspects. Faults: a BMC that stops answering, an agent that dies
//! mid-write, a slow disk, a ramdisk that never heartbeats.

use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferric_agent::commands::Status;
use ferric_agent::{Agent, Settings, Stop};
use serde_json::{json, Value};

use crate::switch::SwitchPort;

/// What goes wrong with a machine, on purpose.
#[derive(Debug, Clone, Default)]
pub struct MachineFaults {
    /// Its BMC answers after this long (past the driver's timeout: a timeout).
    pub bmc_delay: Option<Duration>,
    /// Its agent dies once it starts writing an image.
    pub crash_mid_write: bool,
    /// Its disk writes at most this many bytes a second.
    pub slow_disk: Option<u64>,
    /// Its ramdisk boots but the agent never looks up or heartbeats.
    pub never_heartbeat: bool,
}

/// One NIC and the switch port it is cabled to.
#[derive(Debug, Clone)]
pub struct Nic {
    pub mac: String,
    pub link: SwitchPort,
}

/// A machine's fixed facts.
#[derive(Debug, Clone)]
pub struct MachineSpec {
    /// The Redfish system id.
    pub id: String,
    pub name: String,
    /// The NIC it network-boots from (the first of `nics`).
    pub mac: String,
    /// Every NIC, the boot NIC first.
    pub nics: Vec<Nic>,
    /// Its ramdisk listens for LLDP (as with `ipa-collect-lldp=1`) even when the
    /// kernel command line does not ask for it.
    pub lldp: bool,
    pub disk: PathBuf,
    /// Where its agent's command API listens.
    pub agent_listen: SocketAddr,
    pub faults: MachineFaults,
}

/// What the machine is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Running {
    /// Powered off, or on with nothing booted yet.
    Nothing,
    /// Its deploy ramdisk (the agent) runs.
    Ramdisk,
    /// It booted the image on its disk.
    Image,
    /// A disk boot found nothing to boot.
    NoBootableDisk,
    /// Network boot failed (Ferric had no boot script for it, or the agent gave up).
    BootFailed(String),
    /// The agent died (fault injection).
    Crashed,
    /// Rescued: the agent handed over and the ramdisk stays up.
    Rescue,
}

impl Running {
    pub fn as_str(&self) -> &str {
        match self {
            Running::Nothing => "nothing",
            Running::Ramdisk => "ramdisk",
            Running::Image => "image",
            Running::NoBootableDisk => "no bootable disk",
            Running::BootFailed(_) => "boot failed",
            Running::Crashed => "crashed",
            Running::Rescue => "rescue",
        }
    }
}

struct State {
    power_on: bool,
    /// `BootSourceOverrideTarget` and `BootSourceOverrideEnabled`.
    boot_target: String,
    boot_enabled: String,
    boot_mode: String,
    running: Running,
    boots: u64,
    /// Bumped at every power change: a stale boot does not touch a newer one.
    generation: u64,
    agent: Option<Arc<Agent>>,
}

/// A simulated machine.
pub struct Machine {
    pub spec: MachineSpec,
    api_url: String,
    work_dir: PathBuf,
    http: reqwest::Client,
    state: Mutex<State>,
}

impl Machine {
    pub fn new(spec: MachineSpec, api_url: &str, work_dir: PathBuf, http: reqwest::Client) -> Self {
        Self {
            spec,
            api_url: api_url.trim_end_matches('/').to_string(),
            work_dir,
            http,
            state: Mutex::new(State {
                power_on: false,
                boot_target: "None".into(),
                boot_enabled: "Disabled".into(),
                boot_mode: "UEFI".into(),
                running: Running::Nothing,
                boots: 0,
                generation: 0,
                agent: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn power_on(&self) -> bool {
        self.state().power_on
    }

    pub fn running(&self) -> Running {
        self.state().running.clone()
    }

    pub fn boots(&self) -> u64 {
        self.state().boots
    }

    /// The Redfish `Boot` object.
    pub fn boot_json(&self) -> Value {
        let s = self.state();
        json!({
            "BootSourceOverrideTarget": s.boot_target,
            "BootSourceOverrideEnabled": s.boot_enabled,
            "BootSourceOverrideMode": s.boot_mode,
            "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd", "Cd", "BiosSetup", "UefiHttp"],
        })
    }

    /// Applies a `PATCH` of `Boot`; an error names the bad value.
    pub fn set_boot(&self, boot: &Value) -> Result<(), String> {
        let field = |k: &str, allowed: &[&str]| -> Result<Option<String>, String> {
            match boot.get(k) {
                None => Ok(None),
                Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(Some(v.clone())),
                Some(other) => Err(format!("{other} is not an allowed value of {k}")),
            }
        };
        let target = field(
            "BootSourceOverrideTarget",
            &["None", "Pxe", "Hdd", "Cd", "BiosSetup", "UefiHttp"],
        )?;
        let enabled = field(
            "BootSourceOverrideEnabled",
            &["Disabled", "Once", "Continuous"],
        )?;
        let mode = field("BootSourceOverrideMode", &["UEFI", "Legacy"])?;
        let mut s = self.state();
        if let Some(t) = target {
            s.boot_target = t;
            if enabled.is_none() && s.boot_enabled == "Disabled" {
                s.boot_enabled = "Once".into();
            }
        }
        if let Some(e) = enabled {
            s.boot_enabled = e;
        }
        if let Some(m) = mode {
            s.boot_mode = m;
        }
        Ok(())
    }

    /// `ComputerSystem.Reset`.
    pub fn reset(self: &Arc<Self>, reset_type: &str) -> Result<(), String> {
        match reset_type {
            "On" => {
                if !self.power_on() {
                    self.boot();
                }
            }
            "ForceOff" | "GracefulShutdown" => self.turn_off(),
            "ForceRestart" | "GracefulRestart" | "PowerCycle" => self.boot(),
            "PushPowerButton" => {
                if self.power_on() {
                    self.turn_off()
                } else {
                    self.boot()
                }
            }
            "Nmi" => {}
            other => return Err(format!("{other} is not an allowed ResetType")),
        }
        Ok(())
    }

    fn turn_off(&self) {
        let agent = {
            let mut s = self.state();
            s.power_on = false;
            s.generation += 1;
            s.running = Running::Nothing;
            s.agent.take()
        };
        if let Some(a) = agent {
            a.stop(Stop::PowerOff);
        }
    }

    /// Powers on (or restarts) and boots from the override's device, else disk
    /// when it holds an image, else the network.
    fn boot(self: &Arc<Self>) {
        let (generation, device, old) = {
            let mut s = self.state();
            s.power_on = true;
            s.generation += 1;
            s.boots += 1;
            let device = if s.boot_enabled != "Disabled" && s.boot_target != "None" {
                s.boot_target.clone()
            } else if self.disk_has_image() {
                "Hdd".into()
            } else {
                "Pxe".into()
            };
            if s.boot_enabled == "Once" {
                s.boot_enabled = "Disabled".into();
            }
            s.running = Running::Nothing;
            (s.generation, device, s.agent.take())
        };
        if let Some(a) = old {
            a.stop(Stop::Reboot);
        }
        match device.as_str() {
            "Pxe" | "UefiHttp" => {
                let me = self.clone();
                tokio::spawn(async move { me.network_boot(generation).await });
            }
            "Hdd" => {
                let running = if self.disk_has_image() {
                    Running::Image
                } else {
                    Running::NoBootableDisk
                };
                self.set_running(generation, running);
            }
            other => {
                self.set_running(
                    generation,
                    Running::BootFailed(format!("nothing to boot from {other}")),
                );
            }
        }
    }

    /// Sets what runs, unless the machine changed power since `generation`.
    fn set_running(&self, generation: u64, running: Running) -> bool {
        let mut s = self.state();
        if s.generation != generation {
            return false;
        }
        s.running = running;
        true
    }

    /// Whether the disk's first sector holds anything.
    fn disk_has_image(&self) -> bool {
        let mut first = [0u8; 512];
        std::fs::File::open(&self.spec.disk)
            .and_then(|f| f.read_exact_at(&mut first, 0))
            .is_ok_and(|()| first.iter().any(|&b| b != 0))
    }

    /// Firmware's part: fetch the boot script for this MAC; Ferric answers one that
    /// boots the ramdisk only for a node it is working on.
    async fn network_boot(self: Arc<Self>, generation: u64) {
        let url = format!("{}/boot/{}.ipxe", self.api_url, self.spec.mac);
        let script = match self.fetch_script(&url).await {
            Ok(s) => s,
            Err(why) => {
                self.set_running(generation, Running::BootFailed(why));
                return;
            }
        };
        if !script.contains("chain") {
            // Ferric sends nodes it is not working on to their disk.
            let running = if self.disk_has_image() {
                Running::Image
            } else {
                Running::NoBootableDisk
            };
            self.set_running(generation, running);
            return;
        }
        // iPXE's part: the chained script's kernel line carries the agent's parameters.
        let params = match self.ramdisk_params(&script).await {
            Ok(p) => p,
            Err(why) => {
                self.set_running(generation, Running::BootFailed(why));
                return;
            }
        };
        if self.spec.faults.never_heartbeat {
            self.set_running(generation, Running::Ramdisk);
            return;
        }
        self.run_agent(generation, &params).await;
    }

    /// A boot script from Ferric's boot server, or why there is none.
    async fn fetch_script(&self, url: &str) -> Result<String, String> {
        match self.http.get(url).send().await {
            Ok(r) if r.status().is_success() => Ok(r.text().await.unwrap_or_default()),
            Ok(r) => Err(format!("no boot script at {url}: {}", r.status())),
            Err(e) => Err(format!("no boot script at {url}: {e}")),
        }
    }

    /// Follows the `chain` of a boot script and returns the kernel command line
    /// of the ramdisk it boots.
    async fn ramdisk_params(&self, script: &str) -> Result<String, String> {
        let target = script
            .lines()
            .find_map(|l| l.trim().strip_prefix("chain "))
            .unwrap_or_default()
            .trim();
        let url = format!("{}/boot/{target}", self.api_url);
        self.fetch_script(&url)
            .await?
            .lines()
            .find_map(|l| l.trim().strip_prefix("kernel "))
            .map(str::to_string)
            .ok_or_else(|| format!("the ramdisk script at {url} loads no kernel"))
    }

    fn agent_settings(&self, kernel_params: &str) -> Settings {
        let mut s = Settings {
            api_urls: vec![self.api_url.clone()],
            listen: self.spec.agent_listen,
            advertise_host: Some(self.spec.agent_listen.ip().to_string()),
            advertise_port: self.spec.agent_listen.port(),
            plain_http: true,
            disks: vec![self.spec.disk.clone()],
            macs: self.nic_macs(),
            work_dir: self.work_dir.clone(),
            // Thousands of machines share this process's memory.
            write_chunk: Some(256 << 10),
            // A machine that dies mid-write writes slowly enough to be caught at it.
            disk_rate: self.spec.faults.slow_disk.or(self
                .spec
                .faults
                .crash_mid_write
                .then_some(4 << 20)),
            ..Settings::default()
        };
        s.lookup_timeout = Duration::from_secs(120);
        // The rack's own settings stand; the inspection callback, LLDP collection
        // and the boot NIC (iPXE fills in `${mac}`) come from Ferric.
        let mut params = ferric_agent::settings::parse_cmdline(kernel_params);
        s.inspection_callback_url = params.remove("ipa-inspection-callback-url");
        s.collect_lldp = self.spec.lldp
            || params
                .get("ipa-collect-lldp")
                .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"));
        s.bootif = params
            .remove("BOOTIF")
            .map(|b| b.replace("${mac}", &self.spec.mac));
        s.lldp_frames = self
            .spec
            .nics
            .iter()
            .enumerate()
            .map(|(n, nic)| {
                let description = format!("{} nic {n}", self.spec.name);
                let frame = nic.link.switch.lldp_frame(&nic.link.port, &description);
                (nic.mac.clone(), frame)
            })
            .collect();
        s
    }

    /// Every NIC's MAC, the boot NIC first.
    fn nic_macs(&self) -> Vec<String> {
        let mut macs = vec![self.spec.mac.clone()];
        macs.extend(
            self.spec
                .nics
                .iter()
                .map(|n| n.mac.clone())
                .filter(|m| m != &self.spec.mac),
        );
        macs
    }

    async fn run_agent(self: Arc<Self>, generation: u64, kernel_params: &str) {
        let agent = Arc::new(Agent::new(self.agent_settings(kernel_params)));
        {
            let mut s = self.state();
            if s.generation != generation {
                return;
            }
            s.agent = Some(agent.clone());
            s.running = Running::Ramdisk;
        }
        if self.spec.faults.crash_mid_write {
            tokio::spawn(crash_once_writing(self.clone(), agent.clone(), generation));
        }
        let outcome = ferric_agent::run_agent(agent).await;
        let mut s = self.state();
        if s.generation != generation {
            return;
        }
        s.agent = None;
        match outcome {
            Ok(Stop::PowerOff) if s.running == Running::Crashed => {}
            Ok(Stop::PowerOff) => {
                s.power_on = false;
                s.generation += 1;
                s.running = Running::Nothing;
            }
            Ok(Stop::Reboot) => {
                drop(s);
                self.boot();
            }
            Ok(Stop::Rescued) => s.running = Running::Rescue,
            Err(e) => s.running = Running::BootFailed(format!("the agent stopped: {e}")),
        }
    }

    /// A line of the rack's status listing.
    pub fn status(&self) -> Value {
        let s = self.state();
        let mut v = json!({
            "id": self.spec.id,
            "name": self.spec.name,
            "mac": self.spec.mac,
            "power": if s.power_on { "on" } else { "off" },
            "running": s.running.as_str(),
            "boots": s.boots,
            "boot_target": s.boot_target,
            "nics": self.spec.nics.iter().map(|n| json!({
                "mac": n.mac,
                "switch": n.link.switch.name,
                "switch_id": n.link.switch.switch_id(),
                "port": n.link.port,
            })).collect::<Vec<_>>(),
        });
        if let Running::BootFailed(why) = &s.running {
            v["reason"] = Value::from(why.as_str());
        }
        v
    }
}

/// The crash fault: once the agent is writing an image, it dies.
async fn crash_once_writing(machine: Arc<Machine>, agent: Arc<Agent>, generation: u64) {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let writing = agent
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .is_some_and(|c| {
                c.command_name == "execute_deploy_step" && c.command_status == Status::Running
            });
        if writing {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if machine.set_running(generation, Running::Crashed) {
                tracing::info!(machine = %machine.spec.name, "fault: the agent dies mid-write");
                agent.stop(Stop::PowerOff);
            }
            return;
        }
        if machine.state().generation != generation {
            return;
        }
    }
}
