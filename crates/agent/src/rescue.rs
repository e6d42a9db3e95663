//! `rescue.finalize_rescue`: the machine was booted into the ramdisk to be rescued.
//! The agent stores the rescue password as a SHA-256-crypt hash where the ramdisk's
//! rescue user reads it (`<rescue dir>/ipa-rescue-config/ipa-rescue-password`, as
//! ironic-python-agent does), leaves the marker `<rescue dir>/.rescued` so it does
//! not serve again if restarted, and stops: no more command API, no heartbeats.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ferric_types::crypt::sha256_crypt_random_salt;
use serde_json::Value;

use crate::agent::{Agent, Stop};
use crate::commands::CommandError;

/// The file the rescue password hash is written to, under the rescue directory.
pub fn password_file(dir: &Path) -> PathBuf {
    dir.join("ipa-rescue-config").join("ipa-rescue-password")
}

/// The marker of a finished rescue, under the rescue directory.
pub fn marker(dir: &Path) -> PathBuf {
    dir.join(".rescued")
}

/// Checks `rescue_password` (a non-empty string; a crypt hash when `hashed`).
pub fn validate(_: &Agent, params: &Value) -> Result<(), CommandError> {
    let password = params
        .get("rescue_password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| CommandError::invalid("rescue_password must be a non-empty string"))?;
    let hashed = params
        .get("hashed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if hashed && (!password.starts_with('$') || password.contains(['\n', ':'])) {
        return Err(CommandError::invalid(
            "a hashed rescue_password must be a crypt(3) hash ($id$salt$hash)",
        ));
    }
    Ok(())
}

/// Writes the password hash and the marker, then stops the agent shortly after
/// answering.
pub async fn finalize(agent: Arc<Agent>, params: Value) -> Result<Value, CommandError> {
    let password = params
        .get("rescue_password")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let hash = if params.get("hashed").and_then(Value::as_bool) == Some(true) {
        password.to_string()
    } else {
        sha256_crypt_random_salt(password)
    };
    let dir = agent.settings.rescue_dir();
    write_files(&dir, &hash).map_err(|e| {
        CommandError::failed(
            "CommandExecutionError",
            "Failed to finalize rescue",
            format!("writing the rescue password under {}: {e}", dir.display()),
        )
    })?;
    tracing::info!(dir = %dir.display(), "rescue password stored; the agent stops");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        agent.stop(Stop::Rescued);
    });
    Ok(Value::Null)
}

fn write_files(dir: &Path, hash: &str) -> std::io::Result<()> {
    let file = password_file(dir);
    if let Some(parent) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)?;
    f.write_all(hash.as_bytes())?;
    f.sync_all()?;
    std::fs::write(marker(dir), b"")
}
