//! `fake-hardware`: power state and boot device kept for real (in the node's own
//! fields, so they survive restarts), every operation taking an optional delay read
//! from `driver_info` (`fake_power_delay`, `fake_<work>_delay`, in seconds), an
//! optional failure (`fake_fail_<work or step>` = true), and an optional wait for a
//! callback that never comes (`fake_wait_clean`/`fake_wait_deploy` = true, as if a
//! ramdisk agent were working), so lifecycle tests mean something.

use std::time::Duration;

use ferric_types::power::{POWER_OFF, POWER_ON};
use ferric_types::Node;
use serde_json::Value;

use crate::interfaces::{BiosInterface, BootInterface, Indicator, VendorInterface, VendorMethod};
use crate::steps::{StepArg, StepInterface, StepOutcome, StepPhase, StepRun, StepSpec};

use crate::interfaces::{
    BootDevice, BoxFuture, ConsoleInterface, DriverError, ManagementInterface, PowerInterface,
    PowerTarget, VirtualMedia, WorkInterface, WorkKind,
};

/// The fake hardware type's implementation of every interface.
pub struct FakeHardware;

const BOOT_DEVICE_KEY: &str = "fake_boot_device";
const BOOT_PERSISTENT_KEY: &str = "fake_boot_device_persistent";
const VMEDIA_KEY: &str = "fake_virtual_media";
/// How many times the fake machine booted (power on from off, or a reboot).
const BOOT_COUNT_KEY: &str = "fake_boot_count";
const BIOS_KEY: &str = "fake_bios_settings";
const INDICATORS_KEY: &str = "fake_indicators";

/// fake-hardware's indicators: (name, component, read-only, states, initial state).
type FakeIndicator = (
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    &'static str,
);
const FAKE_INDICATORS: &[FakeIndicator] = &[
    ("led-0", "chassis", true, &["off", "on"], "off"),
    ("led", "system", false, &["blinking", "off", "on"], "off"),
];

/// The delay configured under `key` in the node's `driver_info`.
fn delay(node: &Node, key: &str) -> Duration {
    let seconds = match node.driver_info.get(key) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    };
    Duration::from_secs_f64(seconds.clamp(0.0, 3600.0))
}

fn fails(node: &Node, work: &str) -> bool {
    matches!(
        node.driver_info.get(&format!("fake_fail_{work}")),
        Some(Value::Bool(true))
    ) || node
        .driver_info
        .get(&format!("fake_fail_{work}"))
        .and_then(Value::as_str)
        == Some("true")
}

async fn pause(d: Duration) {
    if !d.is_zero() {
        crate::worker_slot::pause(d).await;
    }
}

impl PowerInterface for FakeHardware {
    fn get_power_state<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<String, DriverError>> {
        Box::pin(async move {
            if fails(node, "power") {
                return Err(DriverError::Hardware(format!(
                    "fake BMC of node {} does not answer (fake_fail_power)",
                    node.uuid
                )));
            }
            Ok(node
                .power_state
                .clone()
                .unwrap_or_else(|| POWER_OFF.to_string()))
        })
    }

    fn set_power_state<'a>(
        &'a self,
        node: &'a mut Node,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let d = delay(node, "fake_power_delay");
            if let Some(t) = timeout {
                if d > t {
                    pause(t).await;
                    return Err(DriverError::Hardware(format!(
                        "fake BMC of node {} did not reach the power state within {} s",
                        node.uuid,
                        t.as_secs()
                    )));
                }
            }
            if fails(node, "power") {
                return Err(DriverError::Hardware(format!(
                    "fake BMC of node {} refused the power change",
                    node.uuid
                )));
            }
            pause(d).await;
            let was_on = node.power_state.as_deref() == Some(POWER_ON);
            node.power_state = Some(target.final_state().to_string());
            let boots = matches!(target, PowerTarget::Reboot | PowerTarget::SoftReboot)
                || (target == PowerTarget::On && !was_on);
            if boots {
                // Simulators watch this to tell a fresh boot from a node left on.
                let count = node
                    .driver_internal_info
                    .get(BOOT_COUNT_KEY)
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                node.driver_internal_info
                    .insert(BOOT_COUNT_KEY.into(), Value::from(count + 1));
            }
            Ok(())
        })
    }

    fn validate<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
}

impl ManagementInterface for FakeHardware {
    fn supported_boot_devices(&self, _node: &Node) -> Vec<&'static str> {
        vec!["pxe", "disk", "cdrom", "bios"]
    }

    fn get_boot_device<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Option<BootDevice>, DriverError>> {
        Box::pin(async move {
            let info = &node.driver_internal_info;
            Ok(Some(BootDevice {
                device: info
                    .get(BOOT_DEVICE_KEY)
                    .and_then(Value::as_str)
                    .unwrap_or("pxe")
                    .to_string(),
                persistent: info
                    .get(BOOT_PERSISTENT_KEY)
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }))
        })
    }

    fn set_boot_device<'a>(
        &'a self,
        node: &'a mut Node,
        device: BootDevice,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if !self
                .supported_boot_devices(node)
                .contains(&device.device.as_str())
            {
                return Err(DriverError::Unsupported(format!(
                    "boot device {} is not supported by fake-hardware",
                    device.device
                )));
            }
            let info = &mut node.driver_internal_info;
            info.insert(BOOT_DEVICE_KEY.into(), Value::from(device.device));
            info.insert(BOOT_PERSISTENT_KEY.into(), Value::from(device.persistent));
            Ok(())
        })
    }

    fn inject_nmi<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if fails(node, "nmi") {
                return Err(DriverError::Hardware(format!(
                    "fake BMC of node {} refused the NMI",
                    node.uuid
                )));
            }
            Ok(())
        })
    }

    fn set_boot_mode<'a>(
        &'a self,
        node: &'a mut Node,
        mode: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if mode == "bios" && node.secure_boot == Some(true) {
                return Err(DriverError::Unsupported(format!(
                    "node {} uses secure boot, which needs uefi: turn it off first",
                    node.uuid
                )));
            }
            node.boot_mode = Some(mode.to_string());
            Ok(())
        })
    }

    fn set_secure_boot<'a>(
        &'a self,
        node: &'a mut Node,
        enabled: bool,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if enabled && node.boot_mode.as_deref() == Some("bios") {
                return Err(DriverError::Unsupported(format!(
                    "secure boot needs uefi boot mode; node {} boots in bios mode",
                    node.uuid
                )));
            }
            node.secure_boot = Some(enabled);
            Ok(())
        })
    }

    fn attach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        device: &'a str,
        url: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let media = node
                .driver_internal_info
                .entry(VMEDIA_KEY)
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(map) = media {
                map.insert(device.to_string(), Value::from(url));
            }
            Ok(())
        })
    }

    fn detach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        devices: &'a [String],
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if devices.is_empty() {
                node.driver_internal_info.remove(VMEDIA_KEY);
            } else if let Some(Value::Object(map)) = node.driver_internal_info.get_mut(VMEDIA_KEY) {
                map.retain(|k, _| !devices.contains(k));
            }
            Ok(())
        })
    }

    fn virtual_media<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<VirtualMedia>, DriverError>> {
        Box::pin(async move {
            let held = node.driver_internal_info.get(VMEDIA_KEY);
            Ok(
                [("cdrom", "CD"), ("disk", "USBStick"), ("floppy", "Floppy")]
                    .iter()
                    .map(|(device, media)| {
                        let image = held
                            .and_then(|m| m.get(*device))
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        VirtualMedia {
                            media_types: vec![media.to_string()],
                            inserted: image.is_some(),
                            image,
                        }
                    })
                    .collect(),
            )
        })
    }

    fn firmware<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<ferric_types::firmware::FirmwareReading>, DriverError>> {
        // `driver_info.fake_bios_version` / `fake_bmc_version` play a firmware update.
        let version = |key: &str, default: &str| {
            node.driver_info
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let reading = |component: &str, version: String, model: Option<&str>| {
            ferric_types::firmware::FirmwareReading {
                component: component.into(),
                version,
                vendor: None,
                model: model.map(str::to_string),
                serial_number: None,
            }
        };
        let found = vec![
            reading("bios", version("fake_bios_version", "1.0.0"), None),
            reading(
                "bmc",
                version("fake_bmc_version", "2.0.0"),
                Some("fake-bmc"),
            ),
        ];
        Box::pin(async move { Ok(found) })
    }

    fn health<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<Option<String>, DriverError>> {
        // `driver_info.fake_health` lets an operator play a failing machine.
        let health = node
            .driver_info
            .get("fake_health")
            .and_then(Value::as_str)
            .unwrap_or("OK")
            .to_string();
        Box::pin(async move { Ok(Some(health)) })
    }

    fn indicators(&self, node: &Node) -> Vec<Indicator> {
        let stored = node.driver_internal_info.get(INDICATORS_KEY);
        FAKE_INDICATORS
            .iter()
            .map(|(name, component, readonly, states, initial)| Indicator {
                name: format!("{name}@{component}"),
                component: component.to_string(),
                readonly: *readonly,
                states: states.iter().map(|s| s.to_string()).collect(),
                state: stored
                    .and_then(|m| m.get(format!("{name}@{component}")))
                    .and_then(Value::as_str)
                    .unwrap_or(initial)
                    .to_string(),
            })
            .collect()
    }

    fn set_indicator<'a>(
        &'a self,
        node: &'a mut Node,
        name: &'a str,
        state: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let Some(ind) = self.indicators(node).into_iter().find(|i| i.name == name) else {
                return Err(DriverError::Unsupported(format!(
                    "node {} has no indicator {name}",
                    node.uuid
                )));
            };
            if ind.readonly {
                return Err(DriverError::Unsupported(format!(
                    "indicator {name} of node {} is read-only",
                    node.uuid
                )));
            }
            if !ind.states.iter().any(|s| s == state) {
                return Err(DriverError::Unsupported(format!(
                    "indicator {name} takes the states {}, not {state}",
                    ind.states.join(", ")
                )));
            }
            let map = node
                .driver_internal_info
                .entry(INDICATORS_KEY)
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(map) = map {
                map.insert(name.to_string(), Value::from(state));
            }
            Ok(())
        })
    }

    fn validate<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The `fake` boot interface: the node "boots" whatever it is told, nothing to render.
impl BootInterface for FakeHardware {
    fn prepare_ramdisk<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn clean_up_ramdisk<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn prepare_instance<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn clean_up_instance<'a>(&'a self, _: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
    fn validate(&self, _: &Node) -> Result<(), DriverError> {
        Ok(())
    }
}

impl WorkInterface for FakeHardware {
    fn run<'a>(
        &'a self,
        node: &'a mut Node,
        kind: WorkKind,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            pause(delay(node, &format!("fake_{}_delay", kind.as_str()))).await;
            if fails(node, kind.as_str()) {
                return Err(DriverError::Hardware(format!(
                    "fake {} of node {} failed as configured (fake_fail_{})",
                    kind.as_str(),
                    node.uuid,
                    kind.as_str()
                )));
            }
            match kind {
                WorkKind::Deploy | WorkKind::Adopt | WorkKind::Unrescue | WorkKind::Rescue => {
                    node.power_state = Some(POWER_ON.to_string());
                }
                WorkKind::TearDown => node.power_state = Some(POWER_OFF.to_string()),
                WorkKind::Clean | WorkKind::Inspect | WorkKind::Verify | WorkKind::Service => {}
            }
            Ok(StepOutcome::Done)
        })
    }
}

impl ConsoleInterface for FakeHardware {
    fn start<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if fails(node, "console") {
                return Err(DriverError::Hardware(format!(
                    "fake console of node {} failed to start",
                    node.uuid
                )));
            }
            Ok(())
        })
    }

    fn stop<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }

    fn info(&self, _node: &Node) -> Option<Value> {
        Some(serde_json::json!({"type": "fake", "url": "fake://"}))
    }
}

const SETTINGS_ARG: &[StepArg] = &[StepArg {
    name: "settings",
    required: true,
    description: "A list of {name, value} BIOS settings to apply.",
}];
const RAID_ARGS: &[StepArg] = &[StepArg {
    name: "create_root_volume",
    required: false,
    description: "Whether to create the root volume (default true).",
}];

impl StepInterface for FakeHardware {
    fn steps(&self, _node: &Node, phase: StepPhase) -> Vec<StepSpec> {
        let step = |interface, step, priority, abortable, args| StepSpec {
            interface,
            step,
            priority,
            abortable,
            args,
        };
        use ferric_types::hardware::InterfaceKind::{Bios, Deploy, Raid};
        match phase {
            StepPhase::Clean | StepPhase::Service => vec![
                step(Deploy, "erase_devices_metadata", 99, true, &[]),
                step(Deploy, "erase_devices", 0, true, &[]),
                step(Raid, "delete_configuration", 0, false, &[]),
                step(Raid, "create_configuration", 0, false, RAID_ARGS),
                step(Bios, "apply_configuration", 0, false, SETTINGS_ARG),
                step(Bios, "factory_reset", 0, false, &[]),
            ],
            StepPhase::Deploy => vec![
                step(Deploy, "deploy", 100, false, &[]),
                step(Raid, "apply_configuration", 0, false, RAID_ARGS),
                step(Bios, "apply_configuration", 0, false, SETTINGS_ARG),
            ],
        }
    }

    fn execute<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
        step: &'a StepRun,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            pause(delay(node, &format!("fake_{}_delay", phase.as_str()))).await;
            if fails(node, phase.as_str()) || fails(node, &step.step) {
                return Err(DriverError::Hardware(format!(
                    "fake step {}.{} of node {} failed as configured",
                    step.interface, step.step, node.uuid
                )));
            }
            let wait_key = format!("fake_wait_{}", phase.as_str());
            if matches!(node.driver_info.get(&wait_key), Some(Value::Bool(true))) {
                return Ok(StepOutcome::Wait);
            }
            apply_step_effects(node, phase, step);
            Ok(StepOutcome::Done)
        })
    }
}

/// What each fake step leaves behind on the node.
fn apply_step_effects(node: &mut Node, phase: StepPhase, step: &StepRun) {
    use ferric_types::hardware::InterfaceKind::{Bios, Deploy, Raid};
    match (step.interface, step.step.as_str()) {
        (Deploy, "deploy") if phase == StepPhase::Deploy => {
            node.power_state = Some(POWER_ON.to_string())
        }
        (Raid, "create_configuration" | "apply_configuration") => {
            let mut applied = node.target_raid_config.clone();
            if step.args.get("create_root_volume") == Some(&Value::Bool(false)) {
                if let Some(Value::Array(disks)) = applied.get_mut("logical_disks") {
                    disks.retain(|d| d.get("is_root_volume") != Some(&Value::Bool(true)));
                }
            }
            node.raid_config = applied;
        }
        (Raid, "delete_configuration") => node.raid_config.clear(),
        (Bios, "apply_configuration") => {
            let current = node
                .driver_internal_info
                .entry(BIOS_KEY)
                .or_insert_with(|| Value::Object(Default::default()));
            if let (Value::Object(map), Some(Value::Array(settings))) =
                (current, step.args.get("settings"))
            {
                for s in settings {
                    if let (Some(name), Some(value)) =
                        (s.get("name").and_then(Value::as_str), s.get("value"))
                    {
                        map.insert(name.to_string(), value.clone());
                    }
                }
            }
        }
        (Bios, "factory_reset") => {
            node.driver_internal_info.remove(BIOS_KEY);
        }
        _ => {}
    }
}

/// The BIOS settings a fake node starts with.
const FAKE_BIOS_DEFAULTS: &[(&str, &str)] = &[
    ("BootMode", "Uefi"),
    ("ProcVirtualization", "Enabled"),
    ("SecureBoot", "Disabled"),
    ("SriovGlobalEnable", "Disabled"),
];

impl BiosInterface for FakeHardware {
    fn settings(&self, node: &Node) -> Result<Vec<(String, Value)>, DriverError> {
        let mut settings: Vec<(String, Value)> = FAKE_BIOS_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        if let Some(Value::Object(applied)) = node.driver_internal_info.get(BIOS_KEY) {
            for (name, value) in applied {
                match settings.iter_mut().find(|(k, _)| k == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => settings.push((name.clone(), value.clone())),
                }
            }
        }
        Ok(settings)
    }
}

/// fake-hardware's vendor methods, named as Ironic's fake vendor interface names
/// them: (name, asynchronous, description, exclusive lock); all take POST.
const FAKE_VENDOR_METHODS: &[(&str, bool, &str, bool)] = &[
    ("first_method", true, "Does nothing, asynchronously.", true),
    ("second_method", true, "Does nothing, asynchronously.", true),
    (
        "third_method_sync",
        false,
        "Answers with the request body.",
        true,
    ),
    (
        "fourth_method_shared_lock",
        false,
        "Answers with the request body, under a shared lock.",
        false,
    ),
    (
        "log_passthrough",
        false,
        "Writes the request body's \"message\" to the conductor log.",
        false,
    ),
];

impl VendorInterface for FakeHardware {
    fn methods(&self) -> Vec<VendorMethod> {
        FAKE_VENDOR_METHODS
            .iter()
            .map(|(name, is_async, description, exclusive)| VendorMethod {
                name: name.to_string(),
                http_methods: vec!["POST".into()],
                is_async: *is_async,
                description: description.to_string(),
                require_exclusive_lock: *exclusive,
            })
            .collect()
    }

    fn call<'a>(
        &'a self,
        node: &'a Node,
        method: &'a str,
        body: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, DriverError>> {
        Box::pin(async move {
            match method {
                "first_method" | "second_method" => Ok(None),
                "third_method_sync" | "fourth_method_shared_lock" => Ok(Some(body)),
                "log_passthrough" => {
                    let message = body
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    tracing::info!(node = %node.uuid, message, "vendor passthru log");
                    Ok(None)
                }
                other => Err(DriverError::Unsupported(format!(
                    "fake-hardware has no vendor method {other}"
                ))),
            }
        })
    }
}
