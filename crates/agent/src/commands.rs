//! The command log and executor of the IPA command API: one command at a time, sync
//! commands answered in the request, async ones answered `RUNNING` and finished on a
//! task (then the heartbeater is told, so the conductor hears soon). Results live in
//! memory only: an empty log after a reboot tells the conductor the agent is fresh.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::agent::Agent;
use crate::extensions::{self, Kind};

/// The state of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "RUNNING")]
    Running,
    #[serde(rename = "SUCCEEDED")]
    Succeeded,
    #[serde(rename = "FAILED")]
    Failed,
    /// The conductor's idea of the agent's steps is stale.
    #[serde(rename = "CLEAN_VERSION_MISMATCH")]
    VersionMismatch,
}

/// A command as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CommandResult {
    pub id: String,
    pub command_name: String,
    pub command_status: Status,
    pub command_error: Option<Value>,
    pub command_result: Option<Value>,
}

/// Why a command (or a request for one) failed, as IPA reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// HTTP-like status: 400 invalid, 401 token, 404 unknown, 409 busy, 500 failed.
    pub code: u16,
    /// The error class name (`InvalidCommandParamsError`, `ImageDownloadError`…).
    pub kind: &'static str,
    pub message: String,
    pub details: String,
}

impl CommandError {
    pub fn new(code: u16, kind: &'static str, message: &str, details: impl Into<String>) -> Self {
        Self {
            code,
            kind,
            message: message.to_string(),
            details: details.into(),
        }
    }

    /// Bad parameters (400).
    pub fn invalid(details: impl Into<String>) -> Self {
        Self::new(
            400,
            "InvalidCommandParamsError",
            "Invalid command parameters",
            details,
        )
    }

    /// A command that ran and failed (500).
    pub fn failed(kind: &'static str, message: &str, details: impl Into<String>) -> Self {
        Self::new(500, kind, message, details)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        })
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.message, self.details)
    }
}

/// Runs `ext.cmd` with `params`. Returns the command's record: finished for sync
/// commands (and async ones when `wait`), `RUNNING` otherwise.
pub async fn execute(
    agent: &Arc<Agent>,
    name: &str,
    params: Value,
    wait: bool,
) -> Result<CommandResult, CommandError> {
    let (ext, cmd) = name.split_once('.').ok_or_else(|| {
        CommandError::invalid(format!(
            "Command name {name} is not of the form extension.command"
        ))
    })?;
    if !params.is_object() {
        return Err(CommandError::invalid("params must be a JSON object"));
    }
    let entry = extensions::find(ext, cmd)?;
    (entry.validate)(agent, &params)?;
    let id = Uuid::new_v4().to_string();
    {
        let mut log = agent.commands.lock().unwrap_or_else(|p| p.into_inner());
        if log
            .last()
            .is_some_and(|c| c.command_status == Status::Running)
        {
            return Err(CommandError::new(
                409,
                "CommandExecutionError",
                "Agent is busy",
                "another command is still running",
            ));
        }
        log.push(CommandResult {
            id: id.clone(),
            command_name: cmd.to_string(),
            command_status: Status::Running,
            command_error: None,
            command_result: None,
        });
    }
    tracing::info!(command = name, id = %id, "command started");
    let run = (entry.run)(agent.clone(), params);
    match entry.kind {
        Kind::Sync => {
            let outcome = run.await;
            finish(agent, &id, cmd, outcome, false);
        }
        Kind::Async => {
            let (agent2, id2, cmd2) = (agent.clone(), id.clone(), cmd.to_string());
            // In the command's span: its request id is on what the work logs.
            let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
                let outcome = run.await;
                finish(&agent2, &id2, &cmd2, outcome, true);
            }));
            agent.track(task.abort_handle());
            if wait {
                let _ = task.await;
            }
        }
    }
    Ok(agent.command(&id).expect("recorded above"))
}

fn finish(
    agent: &Agent,
    id: &str,
    cmd: &str,
    outcome: Result<Value, CommandError>,
    is_async: bool,
) {
    {
        let mut log = agent.commands.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = log.iter_mut().find(|c| c.id == id) {
            match outcome {
                Ok(value) => {
                    c.command_status = Status::Succeeded;
                    c.command_result = Some(match value {
                        Value::String(s) if is_async => json!({"result": format!("{cmd}: {s}")}),
                        Value::String(s) => json!({"result": s}),
                        Value::Null => Value::Null,
                        other => other,
                    });
                    if c.command_result == Some(Value::Null) {
                        c.command_result = None;
                    }
                }
                Err(e) => {
                    tracing::warn!(command = cmd, error = %e, "command failed");
                    c.command_status = if e.kind == "VersionMismatch" {
                        Status::VersionMismatch
                    } else {
                        Status::Failed
                    };
                    c.command_error = Some(e.to_json());
                }
            }
        }
    }
    tracing::info!(command = cmd, id = %id, "command finished");
    agent.changed.notify_waiters();
    if is_async {
        agent.finished.notify_one();
    }
}
