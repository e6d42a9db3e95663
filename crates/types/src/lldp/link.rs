//! The switch port a NIC plugs into, read from the LLDP its switch sends the way
//! Ironic's `local-link-connection` inspection hook reads it: the chassis ID TLV,
//! when it is a MAC address (subtype 4), is the `switch_id` (lower-case, colons);
//! the port ID TLV is the `port_id` (an interface name, alias or local id as text, a
//! MAC, or a network address); the system name TLV is the `switch_info`. A chassis
//! or port ID that cannot be read (an unknown subtype, a short MAC, text that is not
//! UTF-8) makes the whole record unreadable, as it does in Ironic: nothing is taken
//! from that NIC's LLDP. Other TLVs are ignored.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{kind, LldpError, Tlv};
use crate::{JsonObject, MacAddress};

/// What a port's `local_link_connection` gets from LLDP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalLink {
    pub switch_id: Option<String>,
    pub port_id: Option<String>,
    pub switch_info: Option<String>,
}

impl LocalLink {
    /// Reads the link out of a NIC's TLVs; a later TLV of a type wins over an
    /// earlier one. Empty values are left out.
    pub fn from_tlvs(tlvs: &[Tlv]) -> Result<LocalLink, LldpError> {
        let mut link = LocalLink::default();
        for t in tlvs {
            match t.kind {
                kind::CHASSIS_ID => {
                    if let Some(mac) = chassis_mac(&t.value)? {
                        link.switch_id = Some(mac);
                    }
                }
                kind::PORT_ID => link.port_id = Some(port_id(&t.value)?),
                kind::SYSTEM_NAME => link.switch_info = Some(text(&t.value, "system name")?),
                _ => {}
            }
        }
        link.switch_id = link.switch_id.filter(|s| !s.is_empty());
        link.port_id = link.port_id.filter(|s| !s.is_empty());
        link.switch_info = link.switch_info.filter(|s| !s.is_empty());
        Ok(link)
    }

    /// The fields as `local_link_connection` keys, in the order Ironic names them.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        [
            ("switch_id", &self.switch_id),
            ("port_id", &self.port_id),
            ("switch_info", &self.switch_info),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }

    /// Adds to `llc` the fields it does not have yet (what an operator or an
    /// earlier inspection set stays); true when something was added.
    pub fn fill(&self, llc: &mut JsonObject) -> bool {
        let mut changed = false;
        for (k, v) in self.entries() {
            if !llc.contains_key(k) {
                llc.insert(k.into(), v.into());
                changed = true;
            }
        }
        changed
    }
}

/// Splits a subtyped value into its subtype and the rest.
fn subtype<'a>(value: &'a [u8], what: &str) -> Result<(u8, &'a [u8]), LldpError> {
    value
        .split_first()
        .map(|(s, rest)| (*s, rest))
        .ok_or_else(|| LldpError::Value(format!("the {what} TLV is empty")))
}

fn mac(bytes: &[u8], what: &str) -> Result<String, LldpError> {
    let octets: [u8; 6] = bytes
        .get(..6)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            LldpError::Value(format!(
                "the {what} is a MAC address of {} bytes",
                bytes.len()
            ))
        })?;
    Ok(MacAddress::from(octets).to_string())
}

fn text(bytes: &[u8], what: &str) -> Result<String, LldpError> {
    let s = std::str::from_utf8(bytes)
        .map_err(|_| LldpError::Value(format!("the {what} is not UTF-8 text")))?;
    Ok(s.trim_end_matches('\0').to_string())
}

/// An IANA address family and address, as the port ID's network-address subtype
/// carries it.
fn network_address(bytes: &[u8]) -> Result<String, LldpError> {
    let (family, rest) = subtype(bytes, "port ID's address")?;
    let short = || LldpError::Value(format!("the port ID's address of family {family} is short"));
    match family {
        1 => {
            let o: [u8; 4] = rest
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(short)?;
            Ok(Ipv4Addr::from(o).to_string())
        }
        2 => {
            let o: [u8; 16] = rest
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(short)?;
            Ok(Ipv6Addr::from(o).to_string())
        }
        6 => mac(rest, "port ID's address"),
        other => Err(LldpError::Value(format!(
            "the port ID's address family {other} is not IPv4, IPv6 or MAC"
        ))),
    }
}

/// The chassis ID when it is a MAC address; `None` for the other known subtypes.
fn chassis_mac(value: &[u8]) -> Result<Option<String>, LldpError> {
    match subtype(value, "chassis ID")? {
        (4, rest) => mac(rest, "chassis ID").map(Some),
        (1..=7, _) => Ok(None),
        (other, _) => Err(LldpError::Value(format!(
            "chassis ID subtype {other} is unknown"
        ))),
    }
}

fn port_id(value: &[u8]) -> Result<String, LldpError> {
    match subtype(value, "port ID")? {
        // Interface alias, port component, interface name, locally assigned.
        (1 | 2 | 5 | 7, rest) => text(rest, "port ID"),
        (3, rest) => mac(rest, "port ID"),
        (4, rest) => network_address(rest),
        (other, _) => Err(LldpError::Value(format!(
            "port ID subtype {other} is not one Ironic reads"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SWITCH: [u8; 6] = [0x00, 0x1C, 0x73, 0xAA, 0xBB, 0xCC];

    #[test]
    fn chassis_mac_port_name_and_system_name_make_the_link() {
        let tlvs = [
            Tlv::chassis_mac(SWITCH),
            Tlv::port_name("Ethernet1/7"),
            Tlv::ttl(120),
            Tlv::port_description("to sim-00007"),
            Tlv::system_name("leaf-1"),
            Tlv::end(),
        ];
        let link = LocalLink::from_tlvs(&tlvs).unwrap();
        assert_eq!(
            link,
            LocalLink {
                switch_id: Some("00:1c:73:aa:bb:cc".into()),
                port_id: Some("Ethernet1/7".into()),
                switch_info: Some("leaf-1".into()),
            }
        );
        assert_eq!(
            link.entries(),
            [
                ("switch_id", "00:1c:73:aa:bb:cc"),
                ("port_id", "Ethernet1/7"),
                ("switch_info", "leaf-1")
            ]
        );
    }

    #[test]
    fn every_port_id_subtype_ironic_reads() {
        let port = |v: Vec<u8>| {
            LocalLink::from_tlvs(&[Tlv::new(kind::PORT_ID, v)])
                .map(|l| l.port_id.unwrap_or_default())
        };
        assert_eq!(port(b"\x01uplink".to_vec()).unwrap(), "uplink");
        assert_eq!(port(b"\x02slot2".to_vec()).unwrap(), "slot2");
        assert_eq!(port(b"\x05swp3\0".to_vec()).unwrap(), "swp3");
        assert_eq!(port(b"\x0712".to_vec()).unwrap(), "12");
        let mut m = vec![3];
        m.extend_from_slice(&SWITCH);
        assert_eq!(port(m).unwrap(), "00:1c:73:aa:bb:cc");
        assert_eq!(port(vec![4, 1, 10, 0, 0, 7]).unwrap(), "10.0.0.7");
        let mut v6 = vec![4, 2, 0x20, 0x01, 0x0d, 0xb8];
        v6.extend_from_slice(&[0; 11]);
        v6.push(1);
        assert_eq!(port(v6).unwrap(), "2001:db8::1");
        let mut m6 = vec![4, 6];
        m6.extend_from_slice(&SWITCH);
        assert_eq!(port(m6).unwrap(), "00:1c:73:aa:bb:cc");
        // Agent circuit ID, reserved, unknown: unreadable, as in Ironic.
        for bad in [vec![6, 1], vec![0, 1], vec![8, 1], vec![]] {
            assert!(port(bad.clone()).is_err(), "{bad:?}");
        }
        // Short addresses, a foreign family, text that is not UTF-8.
        for bad in [
            vec![3, 1, 2, 3],
            vec![4, 1, 10, 0],
            vec![4, 2, 0x20],
            vec![4, 9, 1],
            vec![4],
            vec![5, 0xff, 0xfe],
        ] {
            assert!(port(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_a_mac_chassis_id_is_a_switch_id() {
        let named = LocalLink::from_tlvs(&[
            Tlv::new(kind::CHASSIS_ID, b"\x07leaf-1".to_vec()),
            Tlv::port_name("swp1"),
        ])
        .unwrap();
        assert_eq!(named.switch_id, None);
        assert_eq!(named.port_id.as_deref(), Some("swp1"));
        for bad in [vec![4, 1, 2], vec![9, 1], vec![0], vec![]] {
            assert!(
                LocalLink::from_tlvs(&[Tlv::new(kind::CHASSIS_ID, bad.clone())]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn empty_values_are_left_out_and_later_tlvs_win() {
        let link = LocalLink::from_tlvs(&[
            Tlv::port_name("old"),
            Tlv::port_name("new"),
            Tlv::system_name(""),
        ])
        .unwrap();
        assert_eq!(link.port_id.as_deref(), Some("new"));
        assert_eq!(link.switch_info, None);
        assert_eq!(LocalLink::from_tlvs(&[]).unwrap(), LocalLink::default());
    }

    #[test]
    fn fill_keeps_what_is_there() {
        let link = LocalLink {
            switch_id: Some("00:1c:73:aa:bb:cc".into()),
            port_id: Some("Ethernet1/7".into()),
            switch_info: None,
        };
        let mut llc = json!({"port_id": "set-by-hand"})
            .as_object()
            .cloned()
            .unwrap();
        assert!(link.fill(&mut llc));
        assert_eq!(
            serde_json::Value::Object(llc.clone()),
            json!({"port_id": "set-by-hand", "switch_id": "00:1c:73:aa:bb:cc"})
        );
        assert!(!link.fill(&mut llc), "nothing new the second time");
    }
}
