//! The conductor's side of the ramdisk agent protocol: issuing the agent token at
//! the first lookup, and handling heartbeats. A heartbeat records where the agent
//! listens, then — for a node waiting on it (`wait call-back`, `clean wait`,
//! `service wait`, `rescue wait`) — asks the driver whether the waiting step finished and resumes
//! or fails the work. Heartbeats are not dropped when the node is locked: the
//! handler waits for the lock (a while), keeping only the newest heartbeat per node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferric_drivers::agent_client::keys;
use ferric_drivers::steps::{StepPhase, StepPoll};
use ferric_drivers::Driver;
use ferric_types::fsm::Event;
use ferric_types::history::{Requester, ERROR, INFO};
use ferric_types::provision::ProvisionState::{self, *};
use ferric_types::provision::NETBOOT_STATES;
use ferric_types::secrets::constant_time_eq;
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::Value;

use ferric_conductor_api::AgentHeartbeat;

use crate::lock::NodeLock;
use crate::provision::advance;
use crate::{steps, Conductor, ConductorError};

/// The newest unprocessed heartbeat of each node.
pub(crate) type PendingHeartbeats = Arc<Mutex<HashMap<NodeId, AgentHeartbeat>>>;

/// How long a lookup waits for a locked node before answering 409.
const LOOKUP_LOCK_WAIT: Duration = Duration::from_secs(10);
/// How long a heartbeat waits for a locked node before it is dropped.
const HEARTBEAT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// The phase whose step a node in `state` waits on.
fn waiting_phase(state: ProvisionState) -> Option<StepPhase> {
    match state {
        WaitCallBack => Some(StepPhase::Deploy),
        CleanWait => Some(StepPhase::Clean),
        ServiceWait => Some(StepPhase::Service),
        _ => None,
    }
}

/// A new random agent token (64 hex characters).
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Conductor {
    /// Takes the node's lock, retrying while another operation holds it.
    pub(crate) async fn lock_patiently(
        &self,
        uuid: NodeId,
        wait: Duration,
    ) -> Result<(NodeLock, Node), ConductorError> {
        let started = Instant::now();
        let deadline = started + wait;
        let mut waited = false;
        loop {
            match NodeLock::try_acquire(&self.db, uuid, &self.host).await {
                Err(ConductorError::Locked { .. }) if Instant::now() < deadline => {
                    if !waited {
                        // One conflict per wait, however often the wait polls.
                        metrics::counter!(crate::metrics::LOCK_CONFLICTS).increment(1);
                    }
                    waited = true;
                    ferric_drivers::worker_slot::pause(Duration::from_millis(50)).await;
                }
                other => {
                    if waited {
                        crate::metrics::lock_wait(started.elapsed(), other.is_ok());
                    }
                    return other;
                }
            }
        }
    }

    /// The agent token for a lookup: `Some(token)` when issued now, `None` when the
    /// node already has one (the caller answers `******`).
    pub(crate) async fn issue_agent_token(
        &self,
        uuid: NodeId,
    ) -> Result<Option<String>, ConductorError> {
        let (mut lock, mut node) = self.lock_patiently(uuid, LOOKUP_LOCK_WAIT).await?;
        if !NETBOOT_STATES.contains(&node.provision_state) {
            // The node moved on while the lookup waited for it (an inspection that
            // finished, say): no ramdisk of its may get a token now.
            lock.release().await;
            return Err(ConductorError::NodeNotFound(uuid.to_string()));
        }
        if node.driver_internal_info.contains_key(keys::TOKEN) {
            lock.release().await;
            return Ok(None);
        }
        let token = new_token();
        node.driver_internal_info
            .insert(keys::TOKEN.into(), Value::from(token.as_str()));
        lock.save_and_release(&node).await?;
        tracing::info!(node = %uuid, "agent token issued");
        Ok(Some(token))
    }

    /// The newest heartbeat of `uuid` waiting to be processed, taken.
    fn take_heartbeat(&self, uuid: NodeId) -> Option<AgentHeartbeat> {
        self.heartbeats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&uuid)
    }

    /// Accepts a heartbeat; it is processed on a task after this returns.
    pub(crate) async fn accept_heartbeat(
        &self,
        uuid: NodeId,
        hb: AgentHeartbeat,
    ) -> Result<(), ConductorError> {
        {
            let mut pending = self.heartbeats.lock().unwrap_or_else(|p| p.into_inner());
            if pending.insert(uuid, hb).is_some() {
                // A task is already waiting for this node; it takes the newest.
                crate::metrics::heartbeat("superseded");
                return Ok(());
            }
        }
        let this = self.clone();
        let task = async move {
            let Ok(permit) = this.workers.clone().acquire_owned().await else {
                this.take_heartbeat(uuid);
                return;
            };
            let workers = this.workers.clone();
            ferric_drivers::worker_slot::holding(workers, permit, async move {
                let locked = this.lock_patiently(uuid, HEARTBEAT_LOCK_WAIT).await;
                let Some(hb) = this.take_heartbeat(uuid) else {
                    if let Ok((lock, _)) = locked {
                        lock.release().await;
                    }
                    return;
                };
                match locked {
                    Ok((lock, node)) => this.process_heartbeat(lock, node, hb).await,
                    Err(e) => {
                        crate::metrics::heartbeat("locked");
                        tracing::warn!(node = %uuid, error = %e, "heartbeat dropped: the node stayed locked")
                    }
                }
            })
            .await
        };
        // In the heartbeat request's span, as work a request starts is.
        tokio::spawn(tracing::Instrument::in_current_span(task));
        Ok(())
    }

    async fn process_heartbeat(&self, mut lock: NodeLock, mut node: Node, hb: AgentHeartbeat) {
        let uuid = node.uuid;
        let current = node
            .driver_internal_info
            .get(keys::TOKEN)
            .and_then(Value::as_str);
        if !current.is_some_and(|t| constant_time_eq(t.as_bytes(), hb.token.as_bytes())) {
            // A heartbeat that waited for the lock while the node forgot its agent
            // (powered off, cleaning finished, a new boot): that agent is gone.
            crate::metrics::heartbeat("stale_token");
            tracing::info!(node = %uuid, "heartbeat dropped: its agent token is no longer the node's");
            lock.release().await;
            return;
        }
        crate::metrics::heartbeat("processed");
        let dii = &mut node.driver_internal_info;
        dii.insert(keys::URL.into(), Value::from(hb.callback_url.as_str()));
        if let Some(v) = &hb.agent_version {
            dii.insert(keys::VERSION.into(), Value::from(v.as_str()));
        }
        if let Some(ca) = &hb.verify_ca {
            dii.insert(keys::VERIFY_CA.into(), Value::from(ca.as_str()));
        }
        if let Some(s) = &hb.status {
            dii.insert("agent_status".into(), Value::from(s.as_str()));
        }
        if let Some(m) = &hb.status_message {
            dii.insert("agent_status_message".into(), Value::from(m.as_str()));
        }
        dii.insert(
            keys::LAST_HEARTBEAT.into(),
            Value::from(Timestamp::now().to_string()),
        );
        if node.provision_state == RescueWait && !node.maintenance {
            self.resume_rescue(lock, node).await;
            return;
        }
        let phase = match waiting_phase(node.provision_state) {
            Some(p) if !node.maintenance => p,
            _ => {
                if let Err(e) = lock.save_and_release(&node).await {
                    tracing::warn!(node = %uuid, error = %e, "could not record the heartbeat");
                }
                return;
            }
        };
        node.provision_updated_at = Some(Timestamp::now());
        let driver = match self.driver_for(&node) {
            Ok(d) => d,
            Err(e) => {
                self.fail_waiting(lock, node, format!("the node's driver is unusable: {e}"))
                    .await;
                return;
            }
        };
        let step = steps::current(&node, phase);
        let polled = driver.steps.poll(&mut node, phase, step.as_ref()).await;
        match polled {
            Ok(StepPoll::Pending) => {
                if let Err(e) = lock.save_and_release(&node).await {
                    tracing::warn!(node = %uuid, error = %e, "could not record the heartbeat");
                }
            }
            Ok(StepPoll::Done) => self.resume(lock, node, driver).await,
            Ok(StepPoll::Failed(why)) => self.fail_waiting(lock, node, why).await,
            Err(e) => self.fail_waiting(lock, node, e.to_string()).await,
        }
    }

    /// The rescue ramdisk's agent is up: the rescue work runs again to give it the
    /// password and move the node to its tenant networks.
    async fn resume_rescue(&self, lock: NodeLock, node: Node) {
        match self.driver_for(&node) {
            Ok(driver) => self.resume(lock, node, driver).await,
            Err(e) => {
                self.fail_waiting(lock, node, format!("the node's driver is unusable: {e}"))
                    .await
            }
        }
    }

    /// Moves a node its agent called back for out of its wait state and runs its work.
    pub(crate) async fn resume(&self, lock: NodeLock, mut node: Node, driver: Driver) {
        let uuid = node.uuid;
        let from = node.provision_state;
        if !advance(&mut node, Event::Resume) {
            lock.release().await;
            return;
        }
        if let Err(e) = lock.save(&node).await {
            tracing::error!(node = %uuid, error = %e, "could not resume the node");
            lock.release().await;
            return;
        }
        self.record(
            uuid,
            INFO,
            "provisioning",
            format!(
                "Provision state changed from \"{from}\" to \"{}\" on the agent's callback",
                node.provision_state
            ),
        )
        .await;
        self.run_work(lock, node, driver, Requester::default())
            .await;
    }

    /// Fails a node waiting on its agent.
    pub(crate) async fn fail_waiting(&self, lock: NodeLock, mut node: Node, why: String) {
        let uuid = node.uuid;
        tracing::warn!(node = %uuid, error = %why, "agent-driven work failed");
        node.last_error = Some(why.clone());
        if advance(&mut node, Event::Fail) {
            if let Err(e) = lock.save(&node).await {
                tracing::error!(node = %uuid, error = %e, "could not record the failure");
            }
            self.record(uuid, ERROR, "provisioning", why).await;
        }
        lock.release().await;
    }
}
