//! A conductor as registered: host name, group, hardware types, liveness.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// A conductor's registry row. `updated_at` is its last heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConductorRecord {
    pub hostname: String,
    pub conductor_group: String,
    #[serde(default)]
    pub drivers: Vec<String>,
    pub online: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    /// Where its RPC listener answers (`http(s)://host:port`), if it has one.
    #[serde(default)]
    pub rpc_url: Option<String>,
}

impl ConductorRecord {
    /// True when it is online and its last heartbeat is younger than `timeout_secs`.
    pub fn is_alive(&self, now: Timestamp, timeout_secs: i64) -> bool {
        self.online && self.heard_within(now, timeout_secs)
    }

    /// True when its last heartbeat is younger than `timeout_secs`, online or not
    /// (a draining conductor still heartbeats): otherwise it is dead.
    pub fn heard_within(&self, now: Timestamp, timeout_secs: i64) -> bool {
        let last = self.updated_at.unwrap_or(self.created_at);
        now.micros() - last.micros() <= timeout_secs * 1_000_000
    }
}
