//! The `direct` deploy interface: deploying, cleaning through the ramdisk agent.
//! Deploy steps (priorities as Ironic's): `deploy` (100) boots the node into the
//! ramdisk and waits for the agent; `write_image` (80) has the agent stream the image
//! to disk; `prepare_instance_boot` (60) reads the disk identifier and sets boot to
//! disk; `tear_down_agent` (40) powers off through the agent, then the BMC if the
//! machine stays on; `switch_to_tenant_network` (30); `boot_instance` (20) powers on.
//! Cleaning boots the ramdisk first, then runs the agent's clean steps.

use std::sync::Arc;
use std::time::Duration;

use ferric_types::hardware::InterfaceKind;
use ferric_types::{JsonObject, Node};
use serde_json::{json, Map, Value};

use crate::agent_client::{self, forget_agent, keys, AgentCallError};
use crate::image_cache::{self, ImageCache};
use crate::interfaces::{
    BootDevice, BootInterface, BoxFuture, DriverError, ManagementInterface, PowerInterface,
    PowerTarget,
};
use crate::network::NetworkInterface;
use crate::steps::{StepArg, StepInterface, StepOutcome, StepPhase, StepPoll, StepRun, StepSpec};

/// Conductor settings of agent-driven work.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// How long (interval × retries) the power state is watched after asking the
    /// agent to power off, before the BMC powers the node off; it is read every
    /// interval, or every second when the interval is longer.
    pub power_off_interval: Duration,
    pub power_off_retries: u32,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            power_off_interval: Duration::from_secs(5),
            power_off_retries: 6,
        }
    }
}

/// The `direct` deploy interface over a node's power and management interfaces.
pub struct DirectDeploy {
    pub power: Arc<dyn PowerInterface>,
    pub management: Arc<dyn ManagementInterface>,
    pub network: Arc<dyn NetworkInterface>,
    pub boot: Arc<dyn BootInterface>,
    pub settings: AgentSettings,
    pub agent: Arc<agent_client::AgentClient>,
    /// The conductor's image cache, when it has one.
    pub cache: Option<Arc<ImageCache>>,
}

const fn spec(step: &'static str, priority: u32, args: &'static [StepArg]) -> StepSpec {
    StepSpec {
        interface: InterfaceKind::Deploy,
        step,
        priority,
        abortable: false,
        args,
    }
}

const IMAGE_ARGS: &[StepArg] = &[];

/// Steps the conductor runs itself.
const CONDUCTOR_DEPLOY_STEPS: &[&str] = &[
    "deploy",
    "prepare_instance_boot",
    "tear_down_agent",
    "switch_to_tenant_network",
    "boot_instance",
];

/// The agent's clean steps when it has not reported its own yet.
const DEFAULT_AGENT_CLEAN_STEPS: &[(&str, u32)] = &[
    ("erase_devices_metadata", 99),
    ("erase_devices", 10),
    ("erase_devices_express", 0),
];

fn cached_agent_steps(node: &Node, key: &str) -> Option<Vec<StepSpec>> {
    let cached = node.driver_internal_info.get(key)?.as_object()?;
    let mut out = Vec::new();
    for steps in cached.values() {
        for s in steps.as_array()? {
            let iface = s.get("interface").and_then(Value::as_str)?;
            let interface = InterfaceKind::ALL
                .into_iter()
                .find(|k| k.as_str() == iface)?;
            let name = s.get("step").and_then(Value::as_str)?;
            // StepSpec names are static: agent steps are matched against the names
            // this Ferric knows; unknown ones are skipped.
            let known = DEFAULT_AGENT_CLEAN_STEPS
                .iter()
                .map(|(n, _)| *n)
                .chain(["write_image"])
                .find(|n| *n == name)?;
            out.push(StepSpec {
                interface,
                step: known,
                priority: s.get("priority").and_then(Value::as_u64).unwrap_or(0) as u32,
                abortable: s.get("abortable").and_then(Value::as_bool).unwrap_or(false),
                args: &[],
            });
        }
    }
    Some(out)
}

/// The node as the agent sees it: secrets masked, except the config drive.
fn node_for_agent(node: &Node) -> Value {
    use ferric_types::secrets::mask_secrets;
    let mut instance_info = node.instance_info.clone();
    let configdrive = instance_info.remove("configdrive");
    mask_secrets(&mut instance_info);
    if let Some(cd) = configdrive {
        instance_info.insert("configdrive".into(), cd);
    }
    let mut dii = node.driver_internal_info.clone();
    dii.remove(keys::TOKEN);
    mask_secrets(&mut dii);
    let mut properties = node.properties.clone();
    mask_secrets(&mut properties);
    json!({
        "uuid": node.uuid.to_string(),
        "properties": Value::Object(properties),
        "instance_info": Value::Object(instance_info),
        "driver_internal_info": Value::Object(dii),
    })
}

fn text<'a>(info: &'a JsonObject, key: &str) -> Option<&'a str> {
    info.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether the conductor caches the node's image and serves it itself:
/// `image_download_source` `http` (or `local`) in `instance_info` or `driver_info`,
/// and always for an image given as a local path.
fn via_cache(node: &Node, source: &str) -> bool {
    let chosen = text(&node.instance_info, "image_download_source")
        .or_else(|| text(&node.driver_info, "image_download_source"));
    matches!(chosen, Some("http") | Some("local")) || image_cache::local_path(source).is_some()
}

fn image_source(node: &Node) -> Result<&str, DriverError> {
    let source = text(&node.instance_info, "image_source").ok_or_else(|| {
        DriverError::Config(format!(
            "node {} has no instance_info.image_source to deploy",
            node.uuid
        ))
    })?;
    let usable = source.starts_with("http://")
        || source.starts_with("https://")
        || image_cache::local_path(source).is_some();
    if !usable {
        return Err(DriverError::Config(format!(
            "image_source {} is neither an http(s) URL nor an absolute local path",
            image_cache::shown(source)
        )));
    }
    Ok(source)
}

/// `image_info` for the agent's `write_image`, from the node's `instance_info`;
/// `url` is where the agent downloads the image.
pub fn image_info(node: &Node, url: &str) -> Result<Value, DriverError> {
    let ii = &node.instance_info;
    let source = image_source(node)?;
    let id = source
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(source);
    let mut info = Map::new();
    info.insert("id".into(), json!(id));
    info.insert("urls".into(), json!([url]));
    info.insert("node_uuid".into(), json!(node.uuid.to_string()));
    info.insert("stream_raw_images".into(), json!(true));
    info.insert(
        "disk_format".into(),
        text(ii, "image_disk_format").map_or(Value::Null, Value::from),
    );
    info.insert(
        "container_format".into(),
        text(ii, "image_container_format").map_or(Value::Null, Value::from),
    );
    if let Some(c) = text(ii, "image_checksum") {
        info.insert("checksum".into(), json!(c));
    }
    if let (Some(a), Some(v)) = (
        text(ii, "image_os_hash_algo"),
        text(ii, "image_os_hash_value"),
    ) {
        info.insert("os_hash_algo".into(), json!(a));
        info.insert("os_hash_value".into(), json!(v));
    }
    if let Some(gb) = root_gb(node)? {
        info.insert("root_gb".into(), json!(gb));
    }
    if !info.contains_key("checksum") && !info.contains_key("os_hash_algo") {
        return Err(DriverError::Config(format!(
            "node {} has neither instance_info.image_checksum nor image_os_hash_algo/image_os_hash_value",
            node.uuid
        )));
    }
    Ok(Value::Object(info))
}

/// `instance_info.root_gb`, the size in GiB the root device must have: a whole
/// number (or its digits as text), checked before anything is written.
fn root_gb(node: &Node) -> Result<Option<u64>, DriverError> {
    let bad = |v: &Value| {
        DriverError::Config(format!(
            "instance_info.root_gb must be a whole number of GiB, not {v}"
        ))
    };
    match node.instance_info.get("root_gb") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(&Value::Number(n.clone()))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(&Value::from(s.as_str()))),
        Some(other) => Err(bad(other)),
    }
}

fn configdrive(node: &Node) -> Result<Value, DriverError> {
    check_configdrive(node.instance_info.get("configdrive"))
}

fn check_configdrive(given: Option<&Value>) -> Result<Value, DriverError> {
    match given {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) => Ok(Value::from(s.as_str())),
        Some(_) => Err(DriverError::Config(
            "the config drive must be a URL, gzipped base64 ISO text, or (API 1.56) a JSON object"
                .into(),
        )),
    }
}

impl DirectDeploy {
    /// The conductor's image cache, when the node's image goes through it.
    fn cache_for(&self, node: &Node, source: &str) -> Result<Option<&ImageCache>, DriverError> {
        if !via_cache(node, source) {
            return Ok(None);
        }
        match &self.cache {
            Some(cache) => Ok(Some(cache)),
            None => Err(DriverError::Config(format!(
                "image_source {} needs the conductor's image cache, which is not configured",
                image_cache::shown(source)
            ))),
        }
    }

    /// Where the agent downloads the image: the source itself, or the conductor's
    /// cache.
    async fn image_url(&self, node: &Node) -> Result<String, DriverError> {
        let source = image_source(node)?;
        match (
            self.cache_for(node, source)?,
            text(&node.instance_info, "image_url"),
        ) {
            (Some(cache), _) => cache.url_for(source).await,
            (None, Some(url)) => Ok(url.to_string()),
            (None, None) => Ok(source.to_string()),
        }
    }

    /// Boots the node from the network into the ramdisk.
    pub(crate) async fn boot_ramdisk(&self, node: &mut Node) -> Result<(), DriverError> {
        forget_agent(node);
        self.boot.prepare_ramdisk(node).await?;
        self.management
            .set_boot_device(
                node,
                BootDevice {
                    device: "pxe".into(),
                    persistent: false,
                },
            )
            .await?;
        let on = self.power.get_power_state(node).await? == ferric_types::power::POWER_ON;
        let target = if on {
            PowerTarget::Reboot
        } else {
            PowerTarget::On
        };
        self.power.set_power_state(node, target, None).await
    }

    /// Prepares the instance's boot and makes the disk the boot device for good.
    pub(crate) async fn boot_from_disk(&self, node: &mut Node) -> Result<(), DriverError> {
        self.boot.prepare_instance(node).await?;
        self.management
            .set_boot_device(
                node,
                BootDevice {
                    device: "disk".into(),
                    persistent: true,
                },
            )
            .await
    }

    async fn agent_step(
        &self,
        node: &mut Node,
        phase: StepPhase,
        step: &StepRun,
    ) -> Result<StepOutcome, DriverError> {
        let mut args = step.args.clone();
        if step.step == "write_image" {
            let url = self.image_url(node).await?;
            args.insert("image_info".into(), image_info(node, &url)?);
            args.insert("configdrive".into(), configdrive(node)?);
        }
        let mut sent = step.to_json();
        sent.insert("args".into(), Value::Object(args));
        let version = node
            .driver_internal_info
            .get(keys::HW_MANAGER_VERSION)
            .cloned()
            .unwrap_or(Value::Null);
        let (name, version_key) = match phase {
            StepPhase::Clean => ("clean.execute_clean_step", "clean_version"),
            _ => ("deploy.execute_deploy_step", "deploy_version"),
        };
        let params = json!({
            "step": Value::Object(sent),
            "node": node_for_agent(node),
            "ports": [],
            version_key: version,
        });
        let record = self.agent.command(node, name, params, false).await?;
        if record.get("command_status").and_then(Value::as_str) == Some("FAILED") {
            return Err(DriverError::Hardware(agent_client::error_text(&record)));
        }
        Ok(StepOutcome::Wait)
    }

    /// Soft power-off through the agent; the BMC powers off what stays on.
    async fn tear_down_agent(&self, node: &mut Node) -> Result<(), DriverError> {
        let s = &self.settings;
        match self
            .agent
            .command(node, "standby.power_off", json!({}), false)
            .await
        {
            Ok(_) => {
                // The same patience as Ironic (interval × retries), but looked at every
                // second at most: a machine that is off at once does not keep a
                // conductor worker for a whole interval.
                let step = s.power_off_interval.min(Duration::from_secs(1));
                let deadline =
                    std::time::Instant::now() + s.power_off_interval * s.power_off_retries;
                while std::time::Instant::now() < deadline {
                    crate::worker_slot::pause(step).await;
                    if self.power.get_power_state(node).await? == ferric_types::power::POWER_OFF {
                        node.power_state = Some(ferric_types::power::POWER_OFF.into());
                        forget_agent(node);
                        return Ok(());
                    }
                }
                tracing::info!(node = %node.uuid, "the node stayed on after the agent's power-off; powering off through the BMC");
            }
            Err(e) => {
                tracing::warn!(node = %node.uuid, error = ?e, "the agent could not power the node off; powering off through the BMC")
            }
        }
        self.power
            .set_power_state(node, PowerTarget::Off, None)
            .await?;
        forget_agent(node);
        Ok(())
    }

    /// Whether a freshly booted agent is there; caches its steps when it is.
    async fn agent_ready(
        &self,
        node: &mut Node,
        phase: StepPhase,
    ) -> Result<StepPoll, DriverError> {
        // The agent heartbeats once its API listens: one it cannot be reached at
        // (after the short retries) fails the work now, as Ironic does.
        let log = self.agent.commands(node).await?;
        let fresh = log.iter().all(|c| {
            c.get("command_name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("get_"))
        });
        if !fresh {
            return Ok(StepPoll::Pending);
        }
        let (cmd, key, cache) = match phase {
            StepPhase::Clean => (
                "clean.get_clean_steps",
                "clean_steps",
                keys::CACHED_CLEAN_STEPS,
            ),
            _ => (
                "deploy.get_deploy_steps",
                "deploy_steps",
                keys::CACHED_DEPLOY_STEPS,
            ),
        };
        let params = json!({"node": node_for_agent(node), "ports": []});
        let record = match self.agent.command(node, cmd, params, true).await {
            Ok(r) => r,
            Err(AgentCallError::Busy) => return Ok(StepPoll::Pending),
            Err(e) => return Err(e.into()),
        };
        let result = record.get("command_result").cloned().unwrap_or(Value::Null);
        let mut by_interface = Map::new();
        if let Some(managers) = result.get(key).and_then(Value::as_object) {
            for steps in managers.values().filter_map(Value::as_array) {
                for s in steps {
                    let iface = s
                        .get("interface")
                        .and_then(Value::as_str)
                        .unwrap_or("deploy");
                    if let Some(list) = by_interface
                        .entry(iface.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()))
                        .as_array_mut()
                    {
                        list.push(s.clone());
                    }
                }
            }
        }
        let dii = &mut node.driver_internal_info;
        dii.insert(cache.into(), Value::Object(by_interface));
        if let Some(v) = result.get("hardware_manager_version") {
            dii.insert(keys::HW_MANAGER_VERSION.into(), v.clone());
        }
        Ok(StepPoll::Done)
    }

    /// How the agent's last command stands for the step it was given.
    async fn agent_step_status(
        &self,
        node: &Node,
        phase: StepPhase,
        step: &StepRun,
    ) -> Result<StepPoll, DriverError> {
        let log = self.agent.commands(node).await?;
        let Some(last) = log.last() else {
            return Ok(StepPoll::Failed(format!(
                "the agent of node {} restarted: its command log is empty while {}.{} should be running",
                node.uuid, step.interface, step.step
            )));
        };
        let expected = format!("execute_{}_step", phase.as_str());
        if last.get("command_name").and_then(Value::as_str) != Some(expected.as_str()) {
            return Ok(StepPoll::Pending);
        }
        match last.get("command_status").and_then(Value::as_str) {
            Some("RUNNING") => Ok(StepPoll::Pending),
            Some("FAILED") => Ok(StepPoll::Failed(format!(
                "Agent returned error for {} step {{'interface': '{}', 'step': '{}'}} on node {}: {}",
                phase.as_str(),
                step.interface,
                step.step,
                node.uuid,
                agent_client::error_text(last)
            ))),
            Some("CLEAN_VERSION_MISMATCH") | Some("VERSION_MISMATCH") => Ok(StepPoll::Failed(
                format!("the agent's hardware managers changed while {} ran", step.step),
            )),
            Some("SUCCEEDED") => {
                let ran = last
                    .pointer(&format!("/command_result/{}_step", phase.as_str()))
                    .cloned()
                    .unwrap_or(Value::Null);
                let same = ran.get("step").and_then(Value::as_str) == Some(step.step.as_str())
                    && ran.get("interface").and_then(Value::as_str)
                        == Some(step.interface.as_str());
                Ok(if same { StepPoll::Done } else { StepPoll::Pending })
            }
            other => Ok(StepPoll::Failed(format!(
                "the agent reported an unknown command status {other:?}"
            ))),
        }
    }
}

impl StepInterface for DirectDeploy {
    fn check_deploy(&self, node: &Node, configdrive: Option<&Value>) -> Result<(), DriverError> {
        image_info(node, "")?;
        self.cache_for(node, image_source(node)?)?;
        check_configdrive(configdrive.or_else(|| node.instance_info.get("configdrive")))?;
        Ok(())
    }

    fn steps(&self, node: &Node, phase: StepPhase) -> Vec<StepSpec> {
        match phase {
            StepPhase::Deploy => vec![
                spec("deploy", 100, &[]),
                spec("write_image", 80, IMAGE_ARGS),
                spec("prepare_instance_boot", 60, &[]),
                spec("tear_down_agent", 40, &[]),
                spec("switch_to_tenant_network", 30, &[]),
                spec("boot_instance", 20, &[]),
                spec("erase_devices_metadata", 0, &[]),
            ],
            StepPhase::Clean => {
                cached_agent_steps(node, keys::CACHED_CLEAN_STEPS).unwrap_or_else(|| {
                    DEFAULT_AGENT_CLEAN_STEPS
                        .iter()
                        .map(|(name, prio)| StepSpec {
                            abortable: true,
                            ..spec(name, *prio, &[])
                        })
                        .collect()
                })
            }
            StepPhase::Service => Vec::new(),
        }
    }

    fn execute<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
        step: &'a StepRun,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            if phase != StepPhase::Deploy || !CONDUCTOR_DEPLOY_STEPS.contains(&step.step.as_str()) {
                return self.agent_step(node, phase, step).await;
            }
            match step.step.as_str() {
                "deploy" => {
                    self.boot_ramdisk(node).await?;
                    Ok(StepOutcome::Wait)
                }
                "prepare_instance_boot" => {
                    let record = self
                        .agent
                        .command(node, "standby.get_partition_uuids", json!({}), true)
                        .await?;
                    if let Some(root) = record.pointer("/command_result/root uuid") {
                        node.driver_internal_info
                            .insert("root_uuid_or_disk_id".into(), root.clone());
                    }
                    self.boot_from_disk(node).await?;
                    Ok(StepOutcome::Done)
                }
                "tear_down_agent" => {
                    self.tear_down_agent(node).await?;
                    Ok(StepOutcome::Done)
                }
                "switch_to_tenant_network" => {
                    self.network.remove_network(node, "provisioning").await?;
                    self.network.configure_tenant_networks(node).await?;
                    Ok(StepOutcome::Done)
                }
                "boot_instance" => {
                    self.power
                        .set_power_state(node, PowerTarget::On, None)
                        .await?;
                    Ok(StepOutcome::Done)
                }
                other => Err(DriverError::Unsupported(format!("no deploy step {other}"))),
            }
        })
    }

    fn prepare<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
    ) -> BoxFuture<'a, Result<StepOutcome, DriverError>> {
        Box::pin(async move {
            match phase {
                StepPhase::Clean => {
                    self.network.remove_network(node, "provisioning").await?;
                    self.network.add_network(node, "cleaning").await?;
                    self.boot_ramdisk(node).await?;
                    Ok(StepOutcome::Wait)
                }
                StepPhase::Deploy => {
                    forget_agent(node);
                    self.boot.clean_up_instance(node).await?;
                    self.network.unconfigure_tenant_networks(node).await?;
                    self.network.add_network(node, "provisioning").await?;
                    self.power
                        .set_power_state(node, PowerTarget::Off, None)
                        .await?;
                    Ok(StepOutcome::Done)
                }
                StepPhase::Service => Ok(StepOutcome::Done),
            }
        })
    }

    fn poll<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
        step: Option<&'a StepRun>,
    ) -> BoxFuture<'a, Result<StepPoll, DriverError>> {
        Box::pin(async move {
            match step {
                None => self.agent_ready(node, phase).await,
                Some(s) if phase == StepPhase::Deploy && s.step == "deploy" => {
                    self.agent_ready(node, phase).await
                }
                Some(s) => self.agent_step_status(node, phase, s).await,
            }
        })
    }

    fn finish<'a>(
        &'a self,
        node: &'a mut Node,
        phase: StepPhase,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if phase == StepPhase::Clean {
                self.power
                    .set_power_state(node, PowerTarget::Off, None)
                    .await?;
                self.network.remove_network(node, "cleaning").await?;
                self.boot.clean_up_ramdisk(node).await?;
            }
            forget_agent(node);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(instance_info: Value) -> Node {
        let mut n = Node::new(
            ferric_types::NodeId::new_v4(),
            "fake-hardware".into(),
            ferric_types::provision::ProvisionState::Available,
            ferric_types::Timestamp::now(),
        );
        n.instance_info = instance_info.as_object().unwrap().clone();
        n
    }

    #[test]
    fn root_gb_goes_to_the_agent_and_nonsense_is_refused() {
        let base =
            json!({"image_source": "http://images/disk.raw", "image_checksum": "a".repeat(64)});
        let mut ii = base.clone();
        ii["root_gb"] = json!("20");
        let info = image_info(&node(ii), "http://cache/abc").unwrap();
        assert_eq!(info["root_gb"], json!(20));
        assert_eq!(info["id"], json!("disk.raw"));
        assert!(image_info(&node(base.clone()), "u")
            .unwrap()
            .get("root_gb")
            .is_none());
        for bad in [json!("lots"), json!(-1), json!(1.5), json!([10])] {
            let mut ii = base.clone();
            ii["root_gb"] = bad.clone();
            let e = image_info(&node(ii), "u").unwrap_err().to_string();
            assert!(e.contains("root_gb must be a whole number"), "{bad}: {e}");
        }
    }
}
