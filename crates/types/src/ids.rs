//! Typed resource ids: one newtype over a UUID per resource, so a port id can never be
//! passed where a node id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected a UUID but received {0}.")]
pub struct InvalidUuid(pub String);

/// Parses a UUID the way Ironic accepts one: canonical hyphenated or 32 hex digits,
/// any case. Braces, `urn:` prefixes and other forms are refused.
pub fn parse_uuid(s: &str) -> Result<Uuid, InvalidUuid> {
    let plain = s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let hyphenated = s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !(plain || hyphenated) {
        return Err(InvalidUuid(s.to_string()));
    }
    Uuid::parse_str(s).map_err(|_| InvalidUuid(s.to_string()))
}

/// True when `s` is a request id as OpenStack writes them (`req-` and a UUID):
/// what `X-OpenStack-Request-ID` may carry, to the API and to the agent.
pub fn is_request_id(s: &str) -> bool {
    s.strip_prefix("req-")
        .is_some_and(|u| parse_uuid(u).is_ok())
}

/// True when `s` looks like a UUID (used to tell names from UUIDs in identifiers).
pub fn is_uuid_like(s: &str) -> bool {
    parse_uuid(s).is_ok()
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_v4() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidUuid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_uuid(s).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidUuid;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

typed_id!(
    /// Identifies a node (a physical machine).
    NodeId
);
typed_id!(
    /// Identifies a port (a NIC of a node).
    PortId
);
typed_id!(
    /// Identifies a port group (a bond of ports).
    PortGroupId
);
typed_id!(
    /// Identifies a chassis (a grouping of nodes).
    ChassisId
);
typed_id!(
    /// Identifies an allocation (a request for a node).
    AllocationId
);
typed_id!(
    /// Identifies a deploy template.
    DeployTemplateId
);
typed_id!(
    /// Identifies a runbook.
    RunbookId
);
typed_id!(
    /// Identifies a volume connector of a node.
    VolumeConnectorId
);
typed_id!(
    /// Identifies a volume target of a node.
    VolumeTargetId
);
typed_id!(
    /// Identifies a network of the network service.
    NetworkId
);
typed_id!(
    /// Identifies a subnet of a network.
    SubnetId
);
typed_id!(
    /// Identifies a VIF port (a network port a node's NIC or bond is bound to).
    VifPortId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_req_and_a_uuid() {
        assert!(is_request_id("req-5e1d0c4b-7a2f-4e3d-8c9b-0a1b2c3d4e5f"));
        for bad in [
            "req-",
            "req-nope",
            "5e1d0c4b-7a2f-4e3d-8c9b-0a1b2c3d4e5f",
            "req-5e1d0c4b\nX: y",
        ] {
            assert!(!is_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn accepts_canonical_and_plain_forms() {
        let id: NodeId = "1BE26C0B-03F2-4D2E-AE87-C02D7F33C123".parse().unwrap();
        assert_eq!(id.to_string(), "1be26c0b-03f2-4d2e-ae87-c02d7f33c123");
        assert!(parse_uuid("1be26c0b03f24d2eae87c02d7f33c123").is_ok());
    }

    #[test]
    fn refuses_other_forms() {
        for bad in [
            "",
            "node-1",
            "{1be26c0b-03f2-4d2e-ae87-c02d7f33c123}",
            "1be26c0b-03f2-4d2e-ae87-c02d7f33c12z",
        ] {
            assert!(parse_uuid(bad).is_err(), "{bad}");
        }
    }
}
