//! The values a node's driver interfaces exchange with their callers — a power
//! change, a boot device, virtual media, indicators, vendor methods, the result of
//! validating an interface — shared by the drivers, the conductor and the API, and
//! serialisable, since the API reaches a conductor over RPC.

use serde::{Deserialize, Serialize};

use crate::hardware::InterfaceKind;

/// A power change a client can ask for; on the wire, the API's word for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerTarget {
    #[serde(rename = "power on")]
    On,
    #[serde(rename = "power off")]
    Off,
    #[serde(rename = "rebooting")]
    Reboot,
    #[serde(rename = "soft power off")]
    SoftOff,
    #[serde(rename = "soft rebooting")]
    SoftReboot,
}

impl PowerTarget {
    /// Parses the API's `target` of `PUT /states/power`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "power on" => PowerTarget::On,
            "power off" => PowerTarget::Off,
            "rebooting" => PowerTarget::Reboot,
            "soft power off" => PowerTarget::SoftOff,
            "soft rebooting" => PowerTarget::SoftReboot,
            _ => return None,
        })
    }

    /// The `power_state` once the change is done.
    pub fn final_state(self) -> &'static str {
        match self {
            PowerTarget::Off | PowerTarget::SoftOff => crate::power::POWER_OFF,
            _ => crate::power::POWER_ON,
        }
    }

    /// True for the targets that need API 1.27 (soft power and timeouts).
    pub fn is_soft(self) -> bool {
        matches!(self, PowerTarget::SoftOff | PowerTarget::SoftReboot)
    }
}

/// A boot device setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootDevice {
    pub device: String,
    pub persistent: bool,
}

/// One virtual media device of a node, as `GET /v1/nodes/{node}/vmedia` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMedia {
    /// Redfish media types the device takes (`CD`, `DVD`, `Floppy`, `USBStick`).
    pub media_types: Vec<String>,
    pub inserted: bool,
    pub image: Option<String>,
}

/// An indicator (LED) of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// `<indicator>@<component>`, e.g. `led@system`.
    pub name: String,
    pub component: String,
    pub readonly: bool,
    pub states: Vec<String>,
    pub state: String,
}

/// A vendor passthru method a driver offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorMethod {
    pub name: String,
    pub http_methods: Vec<String>,
    /// Async methods answer 202 and run after the response.
    pub is_async: bool,
    pub description: String,
    pub require_exclusive_lock: bool,
}

/// The outcome of validating one interface of a node (`GET /validate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    #[serde(with = "interface_name")]
    pub kind: InterfaceKind,
    /// `Some(true)` valid, `Some(false)` invalid, `None` nothing to validate.
    pub result: Option<bool>,
    pub reason: Option<String>,
}

/// An interface kind on the wire: its name (`power`, `boot`…).
mod interface_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::hardware::InterfaceKind;

    pub fn serialize<S: Serializer>(kind: &InterfaceKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InterfaceKind, D::Error> {
        let name = String::deserialize(d)?;
        InterfaceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown interface {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_travel_as_the_api_names_them() {
        assert_eq!(
            serde_json::to_value(PowerTarget::SoftReboot).unwrap(),
            "soft rebooting"
        );
        let v = Validation {
            kind: InterfaceKind::Power,
            result: Some(false),
            reason: Some("no address".into()),
        };
        let wire = serde_json::to_value(&v).unwrap();
        assert_eq!(wire["kind"], "power");
        assert_eq!(serde_json::from_value::<Validation>(wire).unwrap(), v);
        assert!(serde_json::from_value::<Validation>(
            serde_json::json!({"kind": "warp", "result": null, "reason": null})
        )
        .is_err());
    }
}
