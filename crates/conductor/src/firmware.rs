//! The node's firmware components, cached from its BMC after verify, cleaning,
//! servicing and inspection (as Ironic caches them): a component seen for the
//! first time keeps its version as the initial one; a changed version is recorded
//! as the last one flashed. A BMC that reports no firmware leaves the cache alone.

use ferric_drivers::Driver;
use ferric_types::firmware::FirmwareComponent;
use ferric_types::{Node, Timestamp};

use crate::Conductor;

impl Conductor {
    pub(crate) async fn cache_firmware(&self, node: &Node, driver: &Driver) {
        let readings = match driver.management.firmware(node).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(node = %node.uuid, error = %e, "no firmware inventory");
                return;
            }
        };
        let known = match self.db.firmware_list(node.uuid).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(node = %node.uuid, error = %e, "could not read the firmware cache");
                return;
            }
        };
        let now = Timestamp::now();
        let mut changed = known.len() != readings.len();
        let components: Vec<FirmwareComponent> = readings
            .iter()
            .map(
                |r| match known.iter().find(|k| k.component == r.component) {
                    Some(k) => {
                        let mut k = k.clone();
                        changed |= k.update_from(r, now);
                        k
                    }
                    None => {
                        changed = true;
                        FirmwareComponent::first_seen(node.uuid, r, now)
                    }
                },
            )
            .collect();
        if !changed {
            return;
        }
        if let Err(e) = self.db.firmware_replace(node.uuid, &components).await {
            tracing::warn!(node = %node.uuid, error = %e, "could not cache the firmware components");
        }
    }
}
