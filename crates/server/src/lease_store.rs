//! The DHCP server's leases in the database: changes are queued from the serving
//! path and written by a task of their own, and read back when ferricd starts, so a
//! restart does not move any node to a new address.

use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use ferric_boot::dhcp::LeaseStore;
use ferric_db::Datastore;
use ferric_types::dhcp::LeaseRecord;
use ferric_types::MacAddress;
use tokio::sync::mpsc;

enum Change {
    Bound([u8; 6], Ipv4Addr, SystemTime),
    Released([u8; 6]),
}

/// Queues lease changes for the writer task.
pub struct DbLeaseStore {
    tx: mpsc::UnboundedSender<Change>,
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().min(i64::MAX as u64) as i64)
}

impl LeaseStore for DbLeaseStore {
    fn bound(&self, mac: [u8; 6], ip: Ipv4Addr, expires: SystemTime) {
        let _ = self.tx.send(Change::Bound(mac, ip, expires));
    }
    fn released(&self, mac: [u8; 6]) {
        let _ = self.tx.send(Change::Released(mac));
    }
}

impl DbLeaseStore {
    /// The store and its writer task for the DHCP server at `server_ip`.
    pub fn start(db: Datastore, server_ip: Ipv4Addr) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let server = server_ip.to_string();
        let task = tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                let written = match change {
                    Change::Bound(mac, ip, expires) => {
                        db.dhcp_lease_put(&LeaseRecord {
                            server_ip: server.clone(),
                            mac: MacAddress::from(mac).to_string(),
                            ip: ip.to_string(),
                            expires_at: unix(expires),
                        })
                        .await
                    }
                    Change::Released(mac) => {
                        db.dhcp_lease_delete(&server, MacAddress::from(mac).as_str())
                            .await
                    }
                };
                if let Err(e) = written {
                    tracing::warn!(error = %e, "could not record a DHCP lease");
                }
            }
        });
        (Self { tx }, task)
    }
}

/// The unexpired leases of the DHCP server at `server_ip`.
pub async fn load(
    db: &Datastore,
    server_ip: Ipv4Addr,
) -> Result<Vec<([u8; 6], Ipv4Addr, SystemTime)>, ferric_db::DbError> {
    let now = unix(SystemTime::now());
    Ok(db
        .dhcp_lease_list(&server_ip.to_string(), now)
        .await?
        .into_iter()
        .filter_map(|l| {
            let secs = u64::try_from(l.expires_at).ok()?;
            Some((
                l.mac.parse::<MacAddress>().ok()?.octets(),
                l.ip.parse().ok()?,
                UNIX_EPOCH + std::time::Duration::from_secs(secs),
            ))
        })
        .collect())
}
