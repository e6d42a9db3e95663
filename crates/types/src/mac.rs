//! MAC addresses as the API accepts them: six colon-separated hex octets, stored and
//! shown lower-case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A validated, lower-cased MAC address (`52:54:00:12:34:56`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddress(String);

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected a MAC address but received {0}.")]
pub struct InvalidMac(pub String);

impl MacAddress {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        for (b, part) in out.iter_mut().zip(self.0.split(':')) {
            *b = u8::from_str_radix(part, 16).unwrap_or_default();
        }
        out
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(o: [u8; 6]) -> Self {
        Self(
            o.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        )
    }
}

impl FromStr for MacAddress {
    type Err = InvalidMac;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let octets: Vec<&str> = lower.split(':').collect();
        let valid = octets.len() == 6
            && octets
                .iter()
                .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
        if valid {
            Ok(Self(lower))
        } else {
            Err(InvalidMac(s.to_string()))
        }
    }
}

impl TryFrom<String> for MacAddress {
    type Error = InvalidMac;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<MacAddress> for String {
    fn from(m: MacAddress) -> String {
        m.0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octets_round_trip() {
        let mac: MacAddress = "52:54:00:AB:01:ff".parse().unwrap();
        assert_eq!(mac.octets(), [0x52, 0x54, 0, 0xab, 1, 0xff]);
        assert_eq!(MacAddress::from(mac.octets()), mac);
    }

    #[test]
    fn lower_cases_valid_addresses() {
        let m: MacAddress = "52:54:00:AB:cd:EF".parse().unwrap();
        assert_eq!(m.as_str(), "52:54:00:ab:cd:ef");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "zz:zz",
            "52:54:00:12:34",
            "52-54-00-12-34-56",
            "52:54:00:12:34:567",
            "525400123456",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad}");
        }
    }
}
