//! The running agent's shared state: its settings, what the lookup told it (node,
//! config, token), the command log, and what it wrote to which disk.

use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use serde_json::Value;
use tokio::sync::Notify;

use crate::commands::CommandResult;
use crate::settings::Settings;

/// The image the agent last wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub device: PathBuf,
    pub image_id: String,
}

/// Why the agent stopped serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The conductor powered the machine off through it.
    PowerOff,
    /// The conductor rebooted the machine through it.
    Reboot,
    /// The machine is rescued: the agent handed over and stays quiet.
    Rescued,
}

/// State shared by the API server, the heartbeater and the commands.
pub struct Agent {
    pub settings: Settings,
    /// Seconds since the epoch when the agent started (`/v1/status`).
    pub started_at: f64,
    /// The agent token; commands are refused without it.
    pub token: RwLock<Option<String>>,
    /// The node as the lookup returned it.
    pub node: RwLock<Value>,
    /// The lookup's `config`.
    pub config: RwLock<Value>,
    pub commands: Mutex<Vec<CommandResult>>,
    /// Woken whenever a command finishes (for `wait=true`).
    pub changed: Notify,
    /// Woken when an async command finishes: heartbeat soon.
    pub finished: Notify,
    /// Woken when the machine is asked to power off or reboot (test mode: the process
    /// exits, as if the machine went dark).
    pub halt: Notify,
    /// Why `halt` was raised.
    pub stop: Mutex<Option<Stop>>,
    /// The async commands running, stopped with the agent (a machine powered off
    /// mid-write stops writing).
    pub running: Mutex<Vec<tokio::task::AbortHandle>>,
    pub written: Mutex<Option<Written>>,
    /// The PEM certificate of the command API (sent as `agent_verify_ca`).
    pub certificate_pem: RwLock<Option<String>>,
    /// The request id (`X-OpenStack-Request-ID`) the conductor's last command
    /// carried: the operation the agent works for, sent back with heartbeats.
    pub last_request_id: RwLock<Option<String>>,
}

impl Agent {
    /// The request id of the conductor's last command, if it sent one.
    pub fn request_id(&self) -> Option<String> {
        self.last_request_id
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn new(settings: Settings) -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let token = settings.agent_token.clone();
        Self {
            settings,
            started_at,
            token: RwLock::new(token),
            node: RwLock::new(Value::Null),
            config: RwLock::new(Value::Null),
            commands: Mutex::new(Vec::new()),
            changed: Notify::new(),
            finished: Notify::new(),
            halt: Notify::new(),
            stop: Mutex::new(None),
            running: Mutex::new(Vec::new()),
            written: Mutex::new(None),
            certificate_pem: RwLock::new(None),
            last_request_id: RwLock::new(None),
        }
    }

    /// Stops the agent for `why` (the API and heartbeats end).
    pub fn stop(&self, why: Stop) {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        self.halt.notify_one();
    }

    /// Why the agent stopped (power-off when nobody said).
    pub fn stopped_for(&self) -> Stop {
        self.stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(Stop::PowerOff)
    }

    /// Keeps an async command's task, to stop it with the agent.
    pub fn track(&self, task: tokio::task::AbortHandle) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.retain(|t| !t.is_finished());
        running.push(task);
    }

    /// Stops every async command still running.
    pub fn abort_commands(&self) {
        for t in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }

    /// One command's record.
    pub fn command(&self, id: &str) -> Option<CommandResult> {
        self.commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|c| c.id == id)
            .cloned()
    }

    pub fn token(&self) -> Option<String> {
        self.token.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The node from the lookup (or the one a command sent, which is newer).
    pub fn node(&self) -> Value {
        self.node.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_node(&self, node: Value) {
        *self.node.write().unwrap_or_else(|p| p.into_inner()) = node;
    }

    /// A boolean from the lookup's config, with its default.
    pub fn config_flag(&self, key: &str, default: bool) -> bool {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }
}
