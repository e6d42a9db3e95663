//! Provision verbs: check the transition against the state machine, move the node,
//! then run the work (verify, clean, inspect, deploy, tear down, adopt, rescue…) on a
//! worker, feeding each outcome back into the state machine until the node rests.

use ferric_drivers::steps::{StepOutcome, StepPhase, StepRun};
use ferric_drivers::{inspect, rescue, PowerTarget};
use ferric_drivers::{Driver, DriverError, WorkKind};
use ferric_types::agent_keys;
use ferric_types::crypt::sha256_crypt_random_salt;
use ferric_types::deploy_template::TemplateStep;
use ferric_types::fsm::{self, Event};
use ferric_types::history::{Requester, ERROR, INFO};
use ferric_types::provision::ProvisionState::{self, *};
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::Value;

use ferric_conductor_api::ProvisionRequest;

use crate::configdrive;
use crate::lock::NodeLock;
use crate::steps;
use crate::{Conductor, ConductorError};

/// The work a node in `state` needs, if any.
fn work_for(state: ProvisionState) -> Option<WorkKind> {
    Some(match state {
        Verifying => WorkKind::Verify,
        Cleaning => WorkKind::Clean,
        Deleting => WorkKind::TearDown,
        Inspecting => WorkKind::Inspect,
        Deploying => WorkKind::Deploy,
        Adopting => WorkKind::Adopt,
        Rescuing => WorkKind::Rescue,
        Unrescuing => WorkKind::Unrescue,
        Servicing => WorkKind::Service,
        _ => return None,
    })
}

/// Moves the node along `event`; false when the table has no such transition.
/// Every state change of the conductor goes through here, so the target it
/// leaves is decided in one place (`fsm::target_after`).
pub(crate) fn advance(node: &mut Node, event: Event) -> bool {
    let from = node.provision_state;
    match fsm::next(from, event) {
        Some(to) => {
            let now = Timestamp::now();
            record_time_in(node, now);
            node.target_provision_state =
                fsm::target_after(from, node.target_provision_state, event, to);
            node.provision_state = to;
            node.provision_updated_at = Some(now);
            node.driver_internal_info
                .insert(STATE_SINCE.into(), Value::from(now.to_string()));
            true
        }
        None => false,
    }
}

/// When the node entered its provision state: `provision_updated_at` moves on
/// every heartbeat (it is what wait timeouts count from), this does not.
const STATE_SINCE: &str = "provision_state_entered_at";

/// Records on `/metrics` how long the node was in the state it leaves now.
fn record_time_in(node: &Node, now: Timestamp) {
    let since = node
        .driver_internal_info
        .get(STATE_SINCE)
        .and_then(Value::as_str)
        .and_then(|s| Timestamp::try_from(s.to_string()).ok())
        .or(node.provision_updated_at)
        .unwrap_or(node.created_at);
    let seconds = (now.micros() - since.micros()).max(0) as f64 / 1e6;
    metrics::histogram!(crate::metrics::STATE, "state" => node.provision_state.to_string())
        .record(seconds);
}

impl Conductor {
    pub(crate) async fn start_provision(
        &self,
        uuid: NodeId,
        req: ProvisionRequest,
    ) -> Result<(), ConductorError> {
        let permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let from = node.provision_state;
        let event = req.verb.event;
        let refuse = |msg: String| ConductorError::InvalidState(msg);
        if fsm::next(from, event).is_none() {
            lock.release().await;
            return Err(refuse(format!(
                "The requested action \"{}\" can not be performed on node \"{uuid}\" while it is in state \"{from}\".",
                req.verb.name
            )));
        }
        if event == Event::Abort {
            let running = [&node.clean_step, &node.deploy_step, &node.service_step]
                .into_iter()
                .find(|s| !s.is_empty())
                .cloned();
            if let Some(step) = running.filter(|s| s.get("abortable") == Some(&Value::Bool(false)))
            {
                // The step cannot stop midway: it is flagged, and the abort happens
                // when it reports back.
                node.driver_internal_info
                    .insert("abort_after".into(), Value::Bool(true));
                lock.save(&node).await?;
                let name = format!(
                    "{}.{}",
                    step.get("interface").and_then(Value::as_str).unwrap_or("?"),
                    step.get("step").and_then(Value::as_str).unwrap_or("?")
                );
                self.record(uuid, INFO, "provisioning", format!("Abort requested; step {name} cannot be aborted, it will stop after it finishes")).await;
                lock.release().await;
                return Ok(());
            }
        }
        if node.maintenance && matches!(event, Event::Deploy | Event::Rebuild) {
            lock.release().await;
            return Err(ConductorError::Invalid(format!(
                "Node {uuid} is in maintenance mode; it cannot be deployed or rebuilt."
            )));
        }
        let driver = match self.driver_for(&node) {
            Ok(d) => d,
            Err(e) => {
                lock.release().await;
                return Err(ConductorError::Invalid(format!(
                    "Node {uuid} cannot be provisioned: {e}"
                )));
            }
        };
        let mut req = req;
        if matches!(event, Event::Deploy | Event::Rebuild)
            && node.deploy_interface.as_deref() == Some("direct")
        {
            if let Some(Value::Object(doc)) = &req.configdrive {
                match configdrive::build(&node, doc).await {
                    Ok(iso) => req.configdrive = Some(Value::from(iso)),
                    Err(e) => {
                        lock.release().await;
                        return Err(ConductorError::Invalid(format!(
                            "Node {uuid} cannot be deployed: {e}"
                        )));
                    }
                }
            }
        }
        if matches!(event, Event::Deploy | Event::Rebuild) {
            if let Err(e) = driver.steps.check_deploy(&node, req.configdrive.as_ref()) {
                lock.release().await;
                return Err(ConductorError::Invalid(format!(
                    "Node {uuid} cannot be deployed: {e}"
                )));
            }
            let templates = self.db.deploy_templates_for_traits(&node.traits).await?;
            let requested = req.deploy_steps.as_deref().unwrap_or_default();
            if let Err(why) = steps::plan_deploy(&driver, &node, &templates, requested) {
                lock.release().await;
                return Err(ConductorError::Invalid(why));
            }
        }
        if event == Event::Service {
            let requested = req.service_steps.as_deref().unwrap_or_default();
            if let Err(why) = steps::plan(&driver, &node, StepPhase::Service, Some(requested)) {
                lock.release().await;
                return Err(ConductorError::Invalid(why));
            }
        }
        if event == Event::Clean {
            let requested = req.clean_steps.as_deref().unwrap_or_default();
            if let Err(why) = steps::plan(&driver, &node, StepPhase::Clean, Some(requested)) {
                lock.release().await;
                return Err(ConductorError::Invalid(why));
            }
        }
        record_request(&mut node, &req);
        match event {
            Event::Deploy => {
                crate::lessee::on_deploy(&mut node, self.automatic_lessee, &req.requester)
            }
            Event::Delete => crate::lessee::on_teardown(&mut node),
            _ => {}
        }
        node.last_error = None;
        if event == Event::Inspect {
            node.inspection_started_at = Some(Timestamp::now());
            node.inspection_finished_at = None;
            inspect::forget_ramdisk(&mut node);
        }
        advance(&mut node, event);
        if event == Event::Abort {
            node.last_error = Some(format!("Operation in state \"{from}\" aborted by request."));
            node.clean_step.clear();
            node.deploy_step.clear();
            drop_ramdisk_boot(&driver, &mut node).await;
        }
        lock.save(&node).await?;
        self.record_by(
            uuid,
            INFO,
            "provisioning",
            format!(
                "Provision state changed from \"{from}\" to \"{}\" by request \"{}\"",
                node.provision_state, req.verb.name
            ),
            &req.requester,
        )
        .await;
        tracing::info!(node = %uuid, verb = req.verb.name, from = %from, to = %node.provision_state, "provision state change");
        let this = self.clone();
        self.spawn_work(permit, async move {
            this.run_work(lock, node, driver, req.requester).await;
        });
        Ok(())
    }

    /// Plans and runs the steps of a clean, deploy or service: the operator's steps
    /// when the request named some, the driver's automated steps otherwise. Resumes a
    /// saved plan after an agent callback; lets the driver prepare (boot the ramdisk)
    /// before planning, and finish after the last step.
    async fn run_steps(
        &self,
        lock: &NodeLock,
        node: &mut Node,
        driver: &Driver,
        phase: StepPhase,
    ) -> Result<bool, DriverError> {
        let done = if let Some((plan, next)) = steps::saved_plan(node, phase) {
            steps::run(lock, node, driver, phase, &plan, next).await?
        } else {
            if !steps::is_prepared(node, phase) {
                if driver.steps.prepare(node, phase).await? == StepOutcome::Wait {
                    steps::mark_prepared(node, phase);
                    return Ok(false);
                }
                steps::mark_prepared(node, phase);
            }
            let plan = self.plan_steps(node, driver, phase).await?;
            steps::save_plan(node, phase, &plan);
            steps::run(lock, node, driver, phase, &plan, 0).await?
        };
        if done {
            driver.steps.finish(node, phase).await?;
            steps::clear_engine(node, phase);
        }
        Ok(done)
    }

    /// Tears an instance down: the driver's work, then the node leaves its tenant
    /// (and any provisioning) network before cleaning.
    async fn tear_down(&self, node: &mut Node, driver: &Driver) -> Result<bool, DriverError> {
        // Tear-down never waits for an agent.
        driver.work.run(node, WorkKind::TearDown).await?;
        driver.boot.clean_up_instance(node).await?;
        driver.network.unconfigure_tenant_networks(node).await?;
        driver.network.remove_network(node, "provisioning").await?;
        Ok(true)
    }

    /// The steps a clean, deploy or service runs.
    async fn plan_steps(
        &self,
        node: &Node,
        driver: &Driver,
        phase: StepPhase,
    ) -> Result<Vec<StepRun>, DriverError> {
        let key = match phase {
            StepPhase::Clean => "clean_steps",
            StepPhase::Service => "service_steps",
            StepPhase::Deploy => "deploy_steps",
        };
        let requested: Option<Vec<Value>> = node
            .driver_internal_info
            .get(key)
            .and_then(Value::as_array)
            .cloned();
        if phase == StepPhase::Deploy {
            let templates = self
                .db
                .deploy_templates_for_traits(&node.traits)
                .await
                .map_err(|e| {
                    DriverError::Hardware(format!("could not read deploy templates: {e}"))
                })?;
            let requested: Vec<TemplateStep> = node
                .driver_internal_info
                .get("deploy_steps")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            steps::plan_deploy(driver, node, &templates, &requested)
        } else {
            steps::plan(driver, node, phase, requested.as_deref())
        }
        .map_err(DriverError::Config)
    }

    /// Runs the node's work until it reaches a state that needs none, then unlocks.
    pub(crate) async fn run_work(
        &self,
        mut lock: NodeLock,
        mut node: Node,
        driver: Driver,
        requester: Requester,
    ) {
        while let Some(kind) = work_for(node.provision_state) {
            let manual_clean =
                fsm::is_manual_clean(node.provision_state, node.target_provision_state);
            let skip =
                kind == WorkKind::Clean && !manual_clean && node.automated_clean == Some(false);
            // Ok(true): done; Ok(false): the work waits for a callback.
            let result: Result<bool, DriverError> = match kind {
                _ if skip => Ok(true),
                WorkKind::Clean => {
                    self.run_steps(&lock, &mut node, &driver, StepPhase::Clean)
                        .await
                }
                WorkKind::Service => {
                    self.run_steps(&lock, &mut node, &driver, StepPhase::Service)
                        .await
                }
                WorkKind::Deploy => {
                    self.run_steps(&lock, &mut node, &driver, StepPhase::Deploy)
                        .await
                }
                WorkKind::TearDown => self.tear_down(&mut node, &driver).await,
                _ => driver
                    .work
                    .run(&mut node, kind)
                    .await
                    .map(|o| o == StepOutcome::Done),
            };
            let event = match (&result, node.provision_state) {
                (Err(_), _) => Event::Fail,
                (Ok(false), _) => Event::Wait,
                (Ok(true), Deleting) => Event::Clean,
                (Ok(true), Cleaning) if manual_clean => Event::Manage,
                (Ok(true), _) => Event::Done,
            };
            if let Err(e) = &result {
                node.last_error = Some(format!(
                    "{} of node {} failed: {e}",
                    kind.as_str(),
                    node.uuid
                ));
                tracing::warn!(node = %node.uuid, work = kind.as_str(), error = %e, "provisioning work failed");
                drop_ramdisk_boot(&driver, &mut node).await;
            }
            if matches!(result, Ok(true)) {
                finish(&mut node, kind);
                if matches!(kind, WorkKind::Verify | WorkKind::Clean | WorkKind::Service) {
                    // As Ironic refreshes its caches after verify, clean and service.
                    self.cache_firmware(&node, &driver).await;
                }
            }
            let from = node.provision_state;
            if !advance(&mut node, event) {
                tracing::error!(node = %node.uuid, state = %from, event = %event, "no transition for the outcome");
                break;
            }
            // The last transition of the work is saved with the lock's release.
            let saved = if work_for(node.provision_state).is_none() {
                lock.save_and_release(&node).await
            } else {
                lock.save_patiently(&node).await
            };
            if let Err(e) = saved {
                tracing::error!(node = %node.uuid, error = %e, "could not record the provision state");
                break;
            }
            let (severity, event) = match (&result, &node.last_error) {
                (Err(_), Some(err)) => (ERROR, err.clone()),
                _ => (
                    INFO,
                    format!(
                        "Provision state changed from \"{from}\" to \"{}\"",
                        node.provision_state
                    ),
                ),
            };
            self.record_by(node.uuid, severity, "provisioning", event, &requester)
                .await;
            tracing::info!(node = %node.uuid, from = %from, to = %node.provision_state, "provision state change");
        }
        lock.release().await;
    }
}

/// After failed or aborted work: the node must not network-boot its ramdisk again,
/// nor stay on the cleaning network (best effort; a leftover only matters if the
/// node is put to work again, which starts afresh).
pub(crate) async fn drop_ramdisk_boot(driver: &Driver, node: &mut Node) {
    if let Err(e) = driver.boot.clean_up_ramdisk(node).await {
        tracing::warn!(node = %node.uuid, error = %e, "could not remove the node's ramdisk boot files");
    }
    // Failed or aborted cleaning, rescue or inspection leaves its service network (a
    // deploy keeps the provisioning network until it is torn down).
    for role in ["cleaning", "rescue", "inspection"] {
        if let Err(e) = driver.network.remove_network(node, role).await {
            tracing::warn!(node = %node.uuid, role, error = %e, "could not take the node off a service network");
        }
    }
    // An inspection ramdisk has nothing left to do: the machine goes off, as Ironic
    // does, and its agent is forgotten.
    if inspect::forget_ramdisk(node) {
        if let Err(e) = driver
            .power
            .set_power_state(node, PowerTarget::Off, None)
            .await
        {
            tracing::warn!(node = %node.uuid, error = %e, "could not power off the node after its inspection ended");
        }
    }
}

/// Keeps what the request carries where the work will read it.
fn record_request(node: &mut Node, req: &ProvisionRequest) {
    // The operation's request id, for the agent's commands (and so its heartbeats).
    match &req.requester.request_id {
        Some(id) => node
            .driver_internal_info
            .insert(agent_keys::REQUEST_ID.into(), Value::from(id.as_str())),
        None => node.driver_internal_info.remove(agent_keys::REQUEST_ID),
    };
    for phase in [StepPhase::Clean, StepPhase::Deploy, StepPhase::Service] {
        steps::clear_engine(node, phase);
    }
    if let Some(cd) = &req.configdrive {
        node.instance_info.insert("configdrive".into(), cd.clone());
    }
    node.driver_internal_info.remove(rescue::BOOTING);
    if let Some(password) = &req.rescue_password {
        // Only the hash is kept: the rescue ramdisk needs nothing else.
        node.instance_info.remove("rescue_password");
        node.instance_info.insert(
            rescue::HASHED_PASSWORD.into(),
            Value::from(sha256_crypt_random_salt(password)),
        );
    }
    if let Some(steps) = &req.service_steps {
        node.driver_internal_info
            .insert("service_steps".into(), Value::from(steps.clone()));
    }
    if let Some(steps) = &req.clean_steps {
        node.driver_internal_info
            .insert("clean_steps".into(), Value::from(steps.clone()));
    }
    if let Some(steps) = &req.deploy_steps {
        node.driver_internal_info.insert(
            "deploy_steps".into(),
            serde_json::to_value(steps).unwrap_or_default(),
        );
    }
    if let Some(flag) = req.disable_ramdisk {
        node.driver_internal_info
            .insert("disable_ramdisk".into(), Value::from(flag));
    }
}

/// What a successful piece of work leaves behind on the node.
fn finish(node: &mut Node, kind: WorkKind) {
    match kind {
        WorkKind::TearDown => {
            node.instance_uuid = None;
            node.instance_name = None;
            node.instance_info.clear();
        }
        WorkKind::Clean => {
            node.driver_internal_info.remove("clean_steps");
            node.driver_internal_info.remove("disable_ramdisk");
            node.clean_step.clear();
        }
        WorkKind::Deploy => {
            node.driver_internal_info.remove("deploy_steps");
            node.deploy_step.clear();
        }
        WorkKind::Unrescue => {
            node.instance_info.remove("rescue_password");
            node.instance_info.remove(rescue::HASHED_PASSWORD);
        }
        WorkKind::Inspect => {
            node.inspection_started_at = None;
            node.inspection_finished_at = Some(Timestamp::now());
        }
        WorkKind::Service => {
            node.driver_internal_info.remove("service_steps");
            node.service_step.clear();
        }
        WorkKind::Verify | WorkKind::Adopt | WorkKind::Rescue => {}
    }
}
