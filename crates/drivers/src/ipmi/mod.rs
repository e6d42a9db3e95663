//! The `ipmi` hardware type: power, chassis boot device and NMI through `ipmitool`, run
//! as a subprocess the way operators run it (IPMI 2.0 `lanplus` by default, any
//! cipher suite ipmitool knows). ipmitool is the tool operators already trust and
//! debug with, and it keeps RMCP+ cryptography out of Ferric; the password goes
//! through the `IPMI_PASSWORD` environment variable (`-E`), never the command line.

use std::process::Stdio;
use std::time::{Duration, Instant};

use ferric_types::power::{POWER_OFF, POWER_ON};
use ferric_types::Node;
use serde_json::Value;

use crate::interfaces::{
    BootDevice, BoxFuture, DriverError, Indicator, ManagementInterface, PowerInterface,
    PowerTarget, VirtualMedia,
};

/// How often to look at the chassis while a power change lands.
const POWER_POLL: Duration = Duration::from_millis(500);

/// A node's ipmi settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpmiSettings {
    pub address: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub priv_level: String,
    /// `lanplus` (IPMI 2.0) or `lan` (1.5).
    pub interface: &'static str,
    pub cipher_suite: Option<u8>,
    /// Bound of one ipmitool run.
    pub timeout: Duration,
    /// Bound of waiting for a power change to show.
    pub power_timeout: Duration,
}

fn text(node: &Node, key: &str) -> Option<String> {
    match node.driver_info.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl IpmiSettings {
    pub fn from_node(node: &Node) -> Result<Self, DriverError> {
        let bad = |m: String| DriverError::Config(m);
        let address = text(node, "ipmi_address").ok_or_else(|| {
            bad(format!(
                "Node {} has no driver_info ipmi_address",
                node.uuid
            ))
        })?;
        let number = |key: &str, default: u64, max: u64| -> Result<u64, DriverError> {
            match text(node, key) {
                None => Ok(default),
                Some(v) => v.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    bad(format!(
                        "driver_info {key} must be a number up to {max}, not {v}"
                    ))
                }),
            }
        };
        let priv_level = text(node, "ipmi_priv_level").unwrap_or_else(|| "ADMINISTRATOR".into());
        if !["ADMINISTRATOR", "OPERATOR", "USER", "CALLBACK"].contains(&priv_level.as_str()) {
            return Err(bad(format!(
                "driver_info ipmi_priv_level must be ADMINISTRATOR, OPERATOR, USER or CALLBACK, not {priv_level}"
            )));
        }
        let interface = match text(node, "ipmi_protocol_version").as_deref() {
            None | Some("2.0") => "lanplus",
            Some("1.5") => "lan",
            Some(other) => {
                return Err(bad(format!(
                    "driver_info ipmi_protocol_version must be 1.5 or 2.0, not {other}"
                )))
            }
        };
        let cipher_suite = match text(node, "ipmi_cipher_suite") {
            None => None,
            Some(_) => Some(number("ipmi_cipher_suite", 3, 17)? as u8),
        };
        Ok(Self {
            address,
            port: number("ipmi_port", 623, 65535)? as u16,
            username: text(node, "ipmi_username"),
            password: text(node, "ipmi_password"),
            priv_level,
            interface,
            cipher_suite,
            timeout: Duration::from_secs(number("ipmi_timeout", 30, 3600)?.max(1)),
            power_timeout: Duration::from_secs(number("ipmi_power_timeout", 60, 3600)?.max(1)),
        })
    }

    fn bmc(&self) -> String {
        format!("{}:{}", self.address, self.port)
    }
}

/// Runs `ipmitool <args>` against the node's BMC; returns its standard output.
async fn ipmitool(s: &IpmiSettings, args: &[&str]) -> Result<String, DriverError> {
    let mut cmd = tokio::process::Command::new("ipmitool");
    cmd.args([
        "-I",
        s.interface,
        "-H",
        &s.address,
        "-p",
        &s.port.to_string(),
        "-L",
        &s.priv_level,
        "-R",
        "2",
        "-N",
        "2",
    ]);
    if let Some(user) = &s.username {
        cmd.args(["-U", user]);
    }
    if let Some(cs) = s.cipher_suite {
        cmd.args(["-C", &cs.to_string()]);
    }
    // -E: the password comes from IPMI_PASSWORD, never from the command line.
    cmd.arg("-E")
        .env("IPMI_PASSWORD", s.password.as_deref().unwrap_or(""));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        DriverError::Config(format!(
            "cannot run ipmitool ({e}); install it (Debian: apt-get install ipmitool)"
        ))
    })?;
    let out = tokio::time::timeout(s.timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            DriverError::Hardware(format!(
                "BMC at {} did not answer within {} s",
                s.bmc(),
                s.timeout.as_secs()
            ))
        })?
        .map_err(|e| DriverError::Hardware(format!("ipmitool failed: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if stderr.contains("Unable to establish")
        || stderr.contains("password") && stderr.contains("invalid")
    {
        return Err(DriverError::Hardware(format!(
            "BMC at {} rejected the credentials",
            s.bmc()
        )));
    }
    let detail = stderr
        .lines()
        .chain(stdout.lines())
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    Err(DriverError::Hardware(format!(
        "BMC at {} refused `{}`: {}",
        s.bmc(),
        args.join(" "),
        detail.trim()
    )))
}

async fn power_status(s: &IpmiSettings) -> Result<&'static str, DriverError> {
    let out = ipmitool(s, &["power", "status"]).await?;
    if out.contains("is on") {
        Ok(POWER_ON)
    } else if out.contains("is off") {
        Ok(POWER_OFF)
    } else {
        Err(DriverError::Hardware(format!(
            "BMC at {} reported an unknown power status: {}",
            s.bmc(),
            out.trim()
        )))
    }
}

/// Ferric's boot devices and ipmitool's `chassis bootdev` names.
const BOOT_DEVICES: &[(&str, &str, &str)] = &[
    // (Ferric, bootdev argument, bootparam "Boot Device Selector" text)
    ("pxe", "pxe", "PXE"),
    ("disk", "disk", "Hard-Drive"),
    ("cdrom", "cdrom", "CD/DVD"),
    ("bios", "bios", "BIOS Setup"),
];

/// The ipmi implementation of the interfaces it supports.
pub struct Ipmi;

impl PowerInterface for Ipmi {
    fn get_power_state<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<String, DriverError>> {
        Box::pin(async move {
            power_status(&IpmiSettings::from_node(node)?)
                .await
                .map(str::to_string)
        })
    }

    fn set_power_state<'a>(
        &'a self,
        node: &'a mut Node,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let s = IpmiSettings::from_node(node)?;
            let current = power_status(&s).await?;
            let want = target.final_state();
            let command = match (target, current) {
                (PowerTarget::On | PowerTarget::Off | PowerTarget::SoftOff, now) if now == want => {
                    None
                }
                (PowerTarget::On, _) => Some("on"),
                (PowerTarget::Off, _) => Some("off"),
                (PowerTarget::SoftOff, _) => Some("soft"),
                (PowerTarget::Reboot | PowerTarget::SoftReboot, POWER_OFF) => Some("on"),
                (PowerTarget::Reboot | PowerTarget::SoftReboot, _) => Some("reset"),
            };
            if let Some(c) = command {
                ipmitool(&s, &["power", c]).await?;
            }
            let bound = timeout.unwrap_or(s.power_timeout);
            let started = Instant::now();
            loop {
                if power_status(&s).await? == want {
                    node.power_state = Some(want.to_string());
                    return Ok(());
                }
                if started.elapsed() >= bound {
                    return Err(DriverError::Hardware(format!(
                        "BMC at {} did not reach power state '{want}' within {} s",
                        s.bmc(),
                        bound.as_secs()
                    )));
                }
                crate::worker_slot::pause(POWER_POLL).await;
            }
        })
    }

    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            power_status(&IpmiSettings::from_node(node)?)
                .await
                .map(|_| ())
        })
    }
}

impl ManagementInterface for Ipmi {
    fn supported_boot_devices(&self, _node: &Node) -> Vec<&'static str> {
        BOOT_DEVICES.iter().map(|(f, _, _)| *f).collect()
    }

    fn get_boot_device<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Option<BootDevice>, DriverError>> {
        Box::pin(async move {
            let s = IpmiSettings::from_node(node)?;
            let out = ipmitool(&s, &["chassis", "bootparam", "get", "5"]).await?;
            let selector = out
                .lines()
                .find(|l| l.contains("Boot Device Selector"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
                .unwrap_or_default();
            let device = BOOT_DEVICES
                .iter()
                .find(|(_, _, t)| selector.contains(t))
                .map(|(f, _, _)| f.to_string());
            let persistent = out.contains("Options apply to all future boots");
            Ok(device.map(|device| BootDevice { device, persistent }))
        })
    }

    fn set_boot_device<'a>(
        &'a self,
        node: &'a mut Node,
        device: BootDevice,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let arg = BOOT_DEVICES
                .iter()
                .find(|(f, _, _)| *f == device.device)
                .map(|(_, a, _)| *a)
                .ok_or_else(|| {
                    DriverError::Unsupported(format!(
                        "boot device {} is not supported by ipmi",
                        device.device
                    ))
                })?;
            let s = IpmiSettings::from_node(node)?;
            let mut options = Vec::new();
            if device.persistent {
                options.push("persistent");
            }
            if node.boot_mode.as_deref() == Some("uefi") {
                options.push("efiboot");
            }
            let joined = format!("options={}", options.join(","));
            let mut args = vec!["chassis", "bootdev", arg];
            if !options.is_empty() {
                args.push(&joined);
            }
            ipmitool(&s, &args).await.map(|_| ())
        })
    }

    fn inject_nmi<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            ipmitool(
                &IpmiSettings::from_node(node)?,
                &["chassis", "power", "diag"],
            )
            .await
            .map(|_| ())
        })
    }

    fn set_boot_mode<'a>(
        &'a self,
        node: &'a mut Node,
        mode: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        // IPMI has no boot mode setting of its own: it rides on the next boot device
        // request (`options=efiboot`).
        Box::pin(async move {
            node.boot_mode = Some(mode.to_string());
            Ok(())
        })
    }

    fn set_secure_boot<'a>(
        &'a self,
        _node: &'a mut Node,
        _enabled: bool,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async {
            Err(DriverError::Unsupported(
                "IPMI cannot change secure boot".into(),
            ))
        })
    }

    fn attach_virtual_media<'a>(
        &'a self,
        _node: &'a mut Node,
        _device: &'a str,
        _url: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Err(DriverError::Unsupported("IPMI has no virtual media".into())) })
    }

    fn detach_virtual_media<'a>(
        &'a self,
        _node: &'a mut Node,
        _devices: &'a [String],
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Err(DriverError::Unsupported("IPMI has no virtual media".into())) })
    }

    fn virtual_media<'a>(
        &'a self,
        _node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<VirtualMedia>, DriverError>> {
        Box::pin(async { Err(DriverError::Unsupported("IPMI has no virtual media".into())) })
    }

    fn firmware<'a>(
        &'a self,
        _node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<ferric_types::firmware::FirmwareReading>, DriverError>> {
        Box::pin(async {
            Err(DriverError::Unsupported(
                "IPMI reports no firmware inventory".into(),
            ))
        })
    }

    fn health<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<Option<String>, DriverError>> {
        // IPMI has no single health reading; Ironic reports none either.
        Box::pin(async { Ok(None) })
    }

    fn indicators(&self, _node: &Node) -> Vec<Indicator> {
        Vec::new()
    }

    fn set_indicator<'a>(
        &'a self,
        _node: &'a mut Node,
        name: &'a str,
        _state: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            Err(DriverError::Unsupported(format!(
                "ipmi indicator {name} is not supported by Ferric yet"
            )))
        })
    }

    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        PowerInterface::validate(self, node)
    }
}
