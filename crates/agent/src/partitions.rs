//! What the conductor asks about the written disk: `get_partition_uuids` (for a
//! whole-disk image, the MBR disk signature) and `install_bootloader`, which a
//! whole-disk image does not need (it carries its own boot loader).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde_json::{json, Value};

use crate::agent::Agent;
use crate::commands::CommandError;

/// The MBR disk signature (4 bytes at offset 440) as `0x%08x`.
pub fn disk_identifier(path: &Path) -> Result<String, String> {
    let f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut sig = [0u8; 4];
    f.read_exact_at(&mut sig, 440)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(format!("0x{:08x}", u32::from_le_bytes(sig)))
}

/// `standby.get_partition_uuids`: `{}` before an image was written.
pub fn partition_uuids(agent: &Agent) -> Result<Value, CommandError> {
    let written = agent
        .written
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(w) = written else {
        return Ok(json!({}));
    };
    let id = disk_identifier(&w.device)
        .map_err(|e| CommandError::failed("DeviceNotFound", "Error reading the disk", e))?;
    Ok(json!({"root uuid": id}))
}

/// `image.install_bootloader`: nothing to do for whole-disk images (the only kind
/// this agent writes); refused before any image was written.
pub fn install_bootloader(agent: &Agent, params: &Value) -> Result<Value, CommandError> {
    let written = agent
        .written
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(w) = written else {
        return Err(CommandError::failed(
            "DeviceNotFound",
            "Error installing the boot loader",
            "no image has been written yet",
        ));
    };
    let root = params.get("root_uuid").and_then(Value::as_str);
    let whole_disk = root.is_none_or(|r| r.starts_with("0x"));
    if !whole_disk {
        return Err(CommandError::failed(
            "InvalidImage",
            "Error installing the boot loader",
            "partition images (and so boot loader installation) are not supported by ferric-agent",
        ));
    }
    tracing::info!(device = %w.device.display(), image = %w.image_id, "whole-disk image carries its own boot loader");
    Ok(Value::Null)
}
