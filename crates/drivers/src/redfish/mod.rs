//! The `redfish` hardware type: power and management through a BMC's Redfish
//! service (`ComputerSystem.Reset` actions, `Boot` overrides), waiting with a bound
//! for power changes to show, since BMCs apply them seconds later.

mod client;
mod firmware;
pub mod settings;
mod vmedia;

use std::time::{Duration, Instant};

use ferric_types::power::{POWER_OFF, POWER_ON};
use ferric_types::Node;
use serde_json::{json, Value};

use crate::interfaces::{
    BootDevice, BoxFuture, DriverError, Indicator, ManagementInterface, PowerInterface,
    PowerTarget, VirtualMedia,
};
use client::RedfishClient;
pub use client::RedfishClients;
use settings::RedfishSettings;

/// How often to look at a system while a power change lands.
const POWER_POLL: Duration = Duration::from_millis(500);

/// Ferric's boot device names and Redfish's `BootSourceOverrideTarget` values.
const BOOT_TARGETS: &[(&str, &str)] = &[
    ("pxe", "Pxe"),
    ("disk", "Hdd"),
    ("cdrom", "Cd"),
    ("bios", "BiosSetup"),
    ("uefihttp", "UefiHttp"),
    ("floppy", "Floppy"),
];

/// The redfish implementation of the interfaces it supports.
pub struct Redfish {
    pub clients: std::sync::Arc<RedfishClients>,
}

impl Redfish {
    async fn connect(
        &self,
        node: &Node,
    ) -> Result<(std::sync::Arc<RedfishClient>, String, RedfishSettings), DriverError> {
        let settings = RedfishSettings::from_node(node)?;
        let c = self.clients.client(&settings)?;
        let system = c.system_path().await?;
        Ok((c, system, settings))
    }
}

/// The API's power state for a Redfish `PowerState`.
fn power_state(system: &Value) -> Result<&'static str, DriverError> {
    match system.get("PowerState").and_then(Value::as_str) {
        Some("On" | "PoweringOn") => Ok(POWER_ON),
        Some("Off" | "PoweringOff") => Ok(POWER_OFF),
        other => Err(DriverError::Hardware(format!(
            "the BMC reports an unknown PowerState {other:?}"
        ))),
    }
}

async fn reset(c: &RedfishClient, system: &str, reset_type: &str) -> Result<(), DriverError> {
    c.post(
        &format!("{system}/Actions/ComputerSystem.Reset"),
        &json!({ "ResetType": reset_type }),
    )
    .await
    .map(|_| ())
}

impl PowerInterface for Redfish {
    fn get_power_state<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<String, DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            power_state(&c.get(&system).await?).map(str::to_string)
        })
    }

    fn set_power_state<'a>(
        &'a self,
        node: &'a mut Node,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, settings) = self.connect(node).await?;
            let current = power_state(&c.get(&system).await?)?;
            let want = target.final_state();
            let reset_type = match (target, current) {
                (PowerTarget::On | PowerTarget::Off, now) if now == want => None,
                (PowerTarget::On, _) => Some("On"),
                (PowerTarget::Off, _) => Some("ForceOff"),
                (PowerTarget::SoftOff, POWER_OFF) => None,
                (PowerTarget::SoftOff, _) => Some("GracefulShutdown"),
                (PowerTarget::Reboot | PowerTarget::SoftReboot, POWER_OFF) => Some("On"),
                (PowerTarget::Reboot, _) => Some("ForceRestart"),
                (PowerTarget::SoftReboot, _) => Some("GracefulRestart"),
            };
            if let Some(rt) = reset_type {
                reset(&c, &system, rt).await?;
            }
            let bound = timeout.unwrap_or(settings.power_timeout);
            let started = Instant::now();
            loop {
                if power_state(&c.get(&system).await?)? == want {
                    node.power_state = Some(want.to_string());
                    return Ok(());
                }
                if started.elapsed() >= bound {
                    return Err(DriverError::Hardware(format!(
                        "BMC at {} did not reach power state '{want}' within {} s",
                        settings.address,
                        bound.as_secs()
                    )));
                }
                crate::worker_slot::pause(POWER_POLL).await;
            }
        })
    }

    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            c.get(&system).await.map(|_| ())
        })
    }
}

impl ManagementInterface for Redfish {
    fn supported_boot_devices(&self, _node: &Node) -> Vec<&'static str> {
        vec!["pxe", "disk", "cdrom", "bios"]
    }

    fn get_boot_device<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Option<BootDevice>, DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            let boot = c
                .get(&system)
                .await?
                .get("Boot")
                .cloned()
                .unwrap_or(Value::Null);
            let target = boot.get("BootSourceOverrideTarget").and_then(Value::as_str);
            let device = BOOT_TARGETS
                .iter()
                .find(|(_, r)| Some(*r) == target)
                .map(|(f, _)| f.to_string());
            Ok(device.map(|device| BootDevice {
                device,
                persistent: boot
                    .get("BootSourceOverrideEnabled")
                    .and_then(Value::as_str)
                    == Some("Continuous"),
            }))
        })
    }

    fn set_boot_device<'a>(
        &'a self,
        node: &'a mut Node,
        device: BootDevice,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let target = BOOT_TARGETS
                .iter()
                .find(|(f, _)| *f == device.device)
                .filter(|(f, _)| self.supported_boot_devices(node).contains(f))
                .map(|(_, r)| *r)
                .ok_or_else(|| {
                    DriverError::Unsupported(format!(
                        "boot device {} is not supported by redfish",
                        device.device
                    ))
                })?;
            let (c, system, _) = self.connect(node).await?;
            let mut boot = json!({
                "BootSourceOverrideTarget": target,
                "BootSourceOverrideEnabled": if device.persistent { "Continuous" } else { "Once" },
            });
            match node.boot_mode.as_deref() {
                Some("uefi") => boot["BootSourceOverrideMode"] = json!("UEFI"),
                Some("bios") => boot["BootSourceOverrideMode"] = json!("Legacy"),
                _ => {}
            }
            c.patch(&system, &json!({ "Boot": boot })).await.map(|_| ())
        })
    }

    fn inject_nmi<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            reset(&c, &system, "Nmi").await
        })
    }

    fn set_boot_mode<'a>(
        &'a self,
        node: &'a mut Node,
        mode: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            let redfish_mode = if mode == "uefi" { "UEFI" } else { "Legacy" };
            c.patch(
                &system,
                &json!({"Boot": {"BootSourceOverrideMode": redfish_mode}}),
            )
            .await?;
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
                "secure boot through redfish is not supported by Ferric yet".into(),
            ))
        })
    }

    fn attach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        device: &'a str,
        url: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            vmedia::insert(&c, &system, device, url).await
        })
    }

    fn detach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        devices: &'a [String],
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            vmedia::eject(&c, &system, devices).await
        })
    }

    fn virtual_media<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<VirtualMedia>, DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            vmedia::list(&c, &system).await
        })
    }

    fn firmware<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<ferric_types::firmware::FirmwareReading>, DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            firmware::read(&c, &system).await
        })
    }

    fn health<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<Option<String>, DriverError>> {
        Box::pin(async move {
            let (c, system, _) = self.connect(node).await?;
            let sys = c.get(&system).await?;
            Ok(sys
                .pointer("/Status/Health")
                .and_then(Value::as_str)
                .filter(|h| matches!(*h, "OK" | "Warning" | "Critical"))
                .map(str::to_string))
        })
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
                "redfish indicator {name} is not supported by Ferric yet"
            )))
        })
    }

    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        PowerInterface::validate(self, node)
    }
}
