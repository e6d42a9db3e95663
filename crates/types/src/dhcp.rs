//! A DHCP lease as the database keeps it, so a restarted ferricd hands every client
//! the address it already holds.

use serde::{Deserialize, Serialize};

/// One bound lease of one DHCP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The serving DHCP server's address (each provisioning network its own pool).
    pub server_ip: String,
    /// The client's MAC, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    pub ip: String,
    /// Seconds since the Unix epoch when the lease ends.
    pub expires_at: i64,
}
