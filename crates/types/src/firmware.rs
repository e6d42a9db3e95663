//! Firmware components of a node (API 1.86; vendor, model and serial number 1.114):
//! what the BMC reports — the BIOS, the BMC itself, NICs — with the version first
//! seen, the version now, and the last version Ferric saw flashed.

use serde::{Deserialize, Serialize};

use crate::{NodeId, Timestamp};

/// One component as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirmwareComponent {
    pub node_uuid: NodeId,
    /// `bios`, `bmc`, or `nic:<serial or id>`.
    pub component: String,
    pub initial_version: String,
    pub current_version: String,
    pub last_version_flashed: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// A component as the BMC reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareReading {
    pub component: String,
    pub version: String,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
}

impl FirmwareComponent {
    /// A component seen for the first time: its initial version is the one read.
    pub fn first_seen(node: NodeId, reading: &FirmwareReading, now: Timestamp) -> Self {
        FirmwareComponent {
            node_uuid: node,
            component: reading.component.clone(),
            initial_version: reading.version.clone(),
            current_version: reading.version.clone(),
            last_version_flashed: None,
            vendor: reading.vendor.clone(),
            model: reading.model.clone(),
            serial_number: reading.serial_number.clone(),
            created_at: now,
            updated_at: None,
        }
    }

    /// Takes a new reading; a changed version counts as the last one flashed.
    /// Returns whether anything changed.
    pub fn update_from(&mut self, reading: &FirmwareReading, now: Timestamp) -> bool {
        let before = self.clone();
        if self.current_version != reading.version {
            self.last_version_flashed = Some(reading.version.clone());
            self.current_version = reading.version.clone();
        }
        self.vendor = reading.vendor.clone();
        self.model = reading.model.clone();
        self.serial_number = reading.serial_number.clone();
        let changed = *self != before;
        if changed {
            self.updated_at = Some(now);
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_is_the_last_flashed() {
        let reading = |v: &str| FirmwareReading {
            component: "bios".into(),
            version: v.into(),
            vendor: None,
            model: None,
            serial_number: None,
        };
        let now = Timestamp::now();
        let mut c = FirmwareComponent::first_seen(NodeId::new_v4(), &reading("1.0"), now);
        assert!(!c.update_from(&reading("1.0"), now));
        assert!(c.update_from(&reading("1.1"), now));
        assert_eq!(
            (c.initial_version.as_str(), c.current_version.as_str()),
            ("1.0", "1.1")
        );
        assert_eq!(c.last_version_flashed.as_deref(), Some("1.1"));
    }
}
