//! The redfish `driver_info` of a node, validated: where the BMC is, which system,
//! how to authenticate, whether to check its certificate, and how long to wait.

use std::time::Duration;

use ferric_types::Node;
use serde_json::Value;

use crate::interfaces::DriverError;

/// How to check the BMC's TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VerifyCa {
    Yes,
    No,
    /// A PEM file of CA certificates to trust.
    Path(String),
}

/// How to authenticate to the BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    Basic,
    Session,
    /// A session where the BMC offers sessions, basic auth otherwise.
    Auto,
}

/// A node's redfish settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedfishSettings {
    /// `scheme://host[:port]`, without a trailing slash.
    pub address: String,
    /// The service root's path: the path of `redfish_address` when it has one (as
    /// Ironic reads it), else `/redfish/v1`; no trailing slash.
    pub root: String,
    pub system_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub verify_ca: VerifyCa,
    pub auth_type: AuthType,
    /// Bound of one HTTP request.
    pub timeout: Duration,
    /// Bound of waiting for a power change to show.
    pub power_timeout: Duration,
}

fn text(node: &Node, key: &str) -> Option<String> {
    match node.driver_info.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn seconds(node: &Node, key: &str, default: u64) -> Result<Duration, DriverError> {
    match node.driver_info.get(key) {
        None | Some(Value::Null) => Ok(Duration::from_secs(default)),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                DriverError::Config(format!(
                    "driver_info {key} must be a positive number of seconds"
                ))
            }),
    }
}

impl RedfishSettings {
    pub fn from_node(node: &Node) -> Result<Self, DriverError> {
        let raw = text(node, "redfish_address").ok_or_else(|| {
            DriverError::Config(format!(
                "Node {} has no driver_info redfish_address",
                node.uuid
            ))
        })?;
        let address = if raw.contains("://") {
            raw
        } else {
            format!("https://{raw}")
        };
        if !(address.starts_with("http://") || address.starts_with("https://")) {
            return Err(DriverError::Config(format!(
                "driver_info redfish_address {address} must use http or https"
            )));
        }
        let verify_ca = match node.driver_info.get("redfish_verify_ca") {
            None | Some(Value::Null) | Some(Value::Bool(true)) => VerifyCa::Yes,
            Some(Value::Bool(false)) => VerifyCa::No,
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => VerifyCa::Yes,
                "false" | "no" | "0" | "off" => VerifyCa::No,
                _ => VerifyCa::Path(s.clone()),
            },
            Some(other) => {
                return Err(DriverError::Config(format!(
                    "driver_info redfish_verify_ca must be a boolean or a CA file path, not {other}"
                )))
            }
        };
        let auth_type = match text(node, "redfish_auth_type").as_deref() {
            None | Some("auto") => AuthType::Auto,
            Some("basic") => AuthType::Basic,
            Some("session") => AuthType::Session,
            Some(other) => {
                return Err(DriverError::Config(format!(
                    "driver_info redfish_auth_type must be basic, session or auto, not {other}"
                )))
            }
        };
        let after_scheme = address.find("://").map_or(0, |i| i + 3);
        let (origin, path) = match address[after_scheme..].find('/') {
            Some(i) => address.split_at(after_scheme + i),
            None => (address.as_str(), ""),
        };
        let root = match path.trim_end_matches('/') {
            "" => "/redfish/v1".to_string(),
            p => p.to_string(),
        };
        Ok(Self {
            address: origin.to_string(),
            root,
            system_id: text(node, "redfish_system_id"),
            username: text(node, "redfish_username"),
            password: text(node, "redfish_password"),
            verify_ca,
            auth_type,
            timeout: seconds(node, "redfish_timeout", 30)?,
            power_timeout: seconds(node, "redfish_power_timeout", 60)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::provision::ProvisionState;
    use ferric_types::{NodeId, Timestamp};
    use serde_json::json;

    fn settings(address: &str) -> RedfishSettings {
        let mut n = Node::new(
            NodeId::new_v4(),
            "redfish".into(),
            ProvisionState::Enroll,
            Timestamp::now(),
        );
        n.driver_info
            .insert("redfish_address".into(), json!(address));
        RedfishSettings::from_node(&n).unwrap()
    }

    #[test]
    fn the_address_path_is_the_service_root_as_ironic_reads_it() {
        let plain = settings("http://10.0.0.5:8000/");
        assert_eq!(plain.address, "http://10.0.0.5:8000");
        assert_eq!(plain.root, "/redfish/v1");
        let rooted = settings("http://rack:8000/bmc/sim-00001/redfish/v1/");
        assert_eq!(rooted.address, "http://rack:8000");
        assert_eq!(rooted.root, "/bmc/sim-00001/redfish/v1");
        let bare = settings("bmc.example");
        assert_eq!(bare.address, "https://bmc.example");
        assert_eq!(bare.root, "/redfish/v1");
    }
}
