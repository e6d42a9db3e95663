//! What the whole-system benchmarks share: the ferricd under test (stopped with
//! SIGTERM, its scratch directory removed, when dropped), the flags of a
//! conductor-only ferricd, free loopback ports, reading a process's memory and
//! CPU time from /proc, and percentiles.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

/// The server under test; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The flags of a conductor-only ferricd named `host` with its RPC listener on
/// loopback port `rpc`.
pub fn conductor_args(host: &str, rpc: u16) -> Vec<String> {
    [
        "--role",
        "conductor",
        "--host",
        host,
        "--rpc-listen",
        &format!("127.0.0.1:{rpc}"),
    ]
    .map(String::from)
    .to_vec()
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The `p` quantile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// User + system CPU seconds of a process so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the ")".
    (ticks(11) + ticks(12)) / 100.0
}
