//! Powering the machine off or rebooting it at the conductor's request, after
//! flushing the disks. In test mode the "machine" is this process: it exits.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::agent::{Agent, Stop};
use crate::commands::CommandError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    PowerOff,
    Reboot,
}

/// `standby.sync`: flushes every filesystem and device buffer.
pub async fn sync() -> Result<(), CommandError> {
    tokio::task::spawn_blocking(|| {
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() }
    })
    .await
    .map_err(|e| CommandError::failed("CommandExecutionError", "sync failed", e.to_string()))
}

/// `standby.power_off` / `standby.run_image`: syncs, answers, then halts shortly
/// after (so the command's result can still be read).
pub async fn halt(agent: &Arc<Agent>, how: Halt) -> Result<Value, CommandError> {
    sync().await?;
    let agent = agent.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stop = match how {
            Halt::PowerOff => Stop::PowerOff,
            Halt::Reboot => Stop::Reboot,
        };
        if agent.settings.test_mode() {
            tracing::info!(?how, "test mode: the machine halts (the agent exits)");
            agent.stop(stop);
            return;
        }
        let (cmd, sysrq) = match how {
            Halt::PowerOff => ("poweroff", "o"),
            Halt::Reboot => ("reboot", "b"),
        };
        let ran = tokio::process::Command::new(cmd).arg("-f").status().await;
        if !ran.is_ok_and(|s| s.success()) {
            let _ = std::fs::write("/proc/sysrq-trigger", sysrq);
        }
        agent.stop(stop);
    });
    Ok(Value::Null)
}
