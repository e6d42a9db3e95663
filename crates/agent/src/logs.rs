//! `log.collect_system_logs`: a base64 tar.gz of what helps debug a failed deploy —
//! the kernel log, the kernel command line, memory, CPU and mounts, the inventory
//! and the agent's command log. Files that cannot be read are left out. The archive
//! is a ustar archive written here, gzipped.

use base64::Engine;
use serde_json::Value;

use crate::agent::Agent;
use crate::commands::CommandError;
use crate::inventory;

/// Builds the archive and returns it base64-encoded.
pub fn collect(agent: &Agent) -> Result<Value, CommandError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, path) in [
        ("cmdline", "/proc/cmdline"),
        ("meminfo", "/proc/meminfo"),
        ("cpuinfo", "/proc/cpuinfo"),
        ("mounts", "/proc/mounts"),
    ] {
        if let Ok(data) = std::fs::read(path) {
            files.push((name.into(), data));
        }
    }
    if let Ok(out) = std::process::Command::new("dmesg").output() {
        if out.status.success() {
            files.push(("dmesg".into(), out.stdout));
        }
    }
    let inv = inventory::collect(&agent.settings);
    files.push((
        "inventory.json".into(),
        serde_json::to_vec_pretty(&inv).unwrap_or_default(),
    ));
    let log = agent
        .commands
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    files.push((
        "commands.json".into(),
        serde_json::to_vec_pretty(&log).unwrap_or_default(),
    ));
    let tar = tar(&files);
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(gzip(&tar)),
    ))
}

fn octal(field: &mut [u8], value: u64) {
    let s = format!("{:0width$o}", value, width = field.len() - 1);
    field[..s.len()].copy_from_slice(s.as_bytes());
}

/// A ustar archive of regular files.
pub fn tar(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        let n = name.len().min(99);
        h[..n].copy_from_slice(&name.as_bytes()[..n]);
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], data.len() as u64);
        octal(&mut h[136..148], mtime);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A gzip member of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(data);
    gz.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_reads_back_with_tar() {
        let files = vec![("hello.txt".to_string(), b"hello\n".to_vec())];
        let gz = gzip(&tar(&files));
        let dir = std::env::temp_dir().join(format!("ferric-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("logs.tar.gz"), gz).unwrap();
        let st = std::process::Command::new("tar")
            .args(["xzf", "logs.tar.gz"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(std::fs::read(dir.join("hello.txt")).unwrap(), b"hello\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
