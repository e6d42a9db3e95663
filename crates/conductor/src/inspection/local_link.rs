//! Ironic's `local-link-connection` inspection hook, its reading half: the LLDP a
//! NIC reported — the `lldp` collector's `lldp_raw[<name>]` first, else the
//! inventory interface's own `lldp` — and the switch port it names. LLDP that cannot
//! be read yields no link for that NIC (logged), as in Ironic; the ports hook only
//! adds what a port's `local_link_connection` lacks.

use ferric_types::lldp::{self, LocalLink};
use ferric_types::NodeId;
use serde_json::Value;

use super::interfaces::Interface;

/// The switch link `iface` reported over LLDP, if any could be read.
pub fn link_for(node: NodeId, iface: &Interface, plugin_data: &Value) -> Option<LocalLink> {
    let raw = plugin_data
        .pointer("/lldp_raw")
        .and_then(|r| r.get(&iface.name))
        .filter(|l| l.as_array().is_some_and(|l| !l.is_empty()))
        .or_else(|| iface.record.get("lldp"))
        .filter(|l| !l.is_null())?;
    let read = lldp::from_ipa(raw).and_then(|tlvs| LocalLink::from_tlvs(&tlvs));
    match read {
        Ok(link) if link == LocalLink::default() => None,
        Ok(link) => Some(link),
        Err(e) => {
            tracing::warn!(node = %node, interface = %iface.name, error = %e, "LLDP data of the NIC cannot be read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspection::interfaces::Interfaces;
    use crate::inspection::settings::AddPorts;
    use ferric_types::lldp::{to_ipa, Tlv};
    use serde_json::json;

    fn wire(port: &str) -> Value {
        to_ipa(&[
            Tlv::chassis_mac([0, 0x1c, 0x73, 1, 2, 3]),
            Tlv::port_name(port),
            Tlv::ttl(120),
            Tlv::system_name("leaf-7"),
            Tlv::end(),
        ])
    }

    fn iface(lldp: Value) -> Interface {
        let inv = json!({"interfaces": [{"name": "eth0", "mac_address": "52:54:00:00:00:01", "lldp": lldp}]});
        Interfaces::from_inventory(&inv, AddPorts::All)
            .unwrap()
            .all
            .remove(0)
    }

    #[test]
    fn the_inventory_lldp_names_the_switch_port() {
        let node = NodeId::new_v4();
        let link = link_for(node, &iface(wire("Ethernet1/4")), &json!({})).unwrap();
        assert_eq!(link.switch_id.as_deref(), Some("00:1c:73:01:02:03"));
        assert_eq!(link.port_id.as_deref(), Some("Ethernet1/4"));
        assert_eq!(link.switch_info.as_deref(), Some("leaf-7"));
    }

    #[test]
    fn lldp_raw_comes_first_unless_empty() {
        let node = NodeId::new_v4();
        let nic = iface(wire("Ethernet1/4"));
        let raw = json!({"lldp_raw": {"eth0": wire("Ethernet9/9")}});
        let link = link_for(node, &nic, &raw).unwrap();
        assert_eq!(link.port_id.as_deref(), Some("Ethernet9/9"));
        let empty = json!({"lldp_raw": {"eth0": []}});
        let link = link_for(node, &nic, &empty).unwrap();
        assert_eq!(link.port_id.as_deref(), Some("Ethernet1/4"));
    }

    #[test]
    fn missing_or_unreadable_lldp_gives_no_link() {
        let node = NodeId::new_v4();
        for lldp in [
            Value::Null,
            json!([]),
            json!("04001c"),
            json!([[1, "zz"]]),
            json!([[2, "06"]]),
            json!([[3, "0078"]]),
        ] {
            assert_eq!(
                link_for(node, &iface(lldp.clone()), &json!({})),
                None,
                "{lldp}"
            );
        }
    }
}
