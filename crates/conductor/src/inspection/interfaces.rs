//! Ironic's `validate-interfaces` inspection hook: the inventory's NICs as the other
//! hooks see them. `all` holds every NIC with a name and a valid MAC address,
//! marked with whether the machine booted from it (the inventory's
//! `boot.pxe_interface`, `01-aa-bb-…` as pxelinux writes it or a plain MAC);
//! `added` holds those `add_ports` picks — never the loopback, only the booting NIC
//! for `pxe` (every NIC when the inventory names none), only NICs with an address
//! for `active`. No NIC at all, or none picked, fails the inspection as in Ironic.

use std::net::IpAddr;

use ferric_types::MacAddress;
use serde_json::{json, Map, Value};

use super::settings::AddPorts;

/// One NIC of the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    pub name: String,
    pub mac: MacAddress,
    /// The machine booted from this NIC.
    pub pxe: bool,
    /// Its addresses that parse, IPv4 first (an IPv6 scope suffix dropped).
    pub addresses: Vec<IpAddr>,
    /// Whether the inventory gave it any address at all.
    pub has_address: bool,
    pub client_id: Option<String>,
    /// The inventory's record of it, as reported.
    pub record: Value,
}

/// The inventory's NICs: all of them, and those ports are added for.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    pub all: Vec<Interface>,
    pub added: Vec<Interface>,
}

/// The MAC of the NIC the machine booted from, as the inventory names it.
pub fn pxe_mac(inventory: &Value) -> Option<MacAddress> {
    let raw = inventory.pointer("/boot/pxe_interface")?.as_str()?;
    let mac = match raw.split_once('-') {
        // pxelinux's form: a hardware type, then the MAC with dashes.
        Some((_, rest)) => rest.replace('-', ":"),
        None => raw.to_string(),
    };
    mac.parse().ok()
}

fn text<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Interfaces {
    /// Reads and picks the inventory's NICs; the error says why none qualifies.
    pub fn from_inventory(inventory: &Value, add_ports: AddPorts) -> Result<Interfaces, String> {
        let boot_mac = pxe_mac(inventory);
        let mut all: Vec<Interface> = Vec::new();
        let records = inventory
            .get("interfaces")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for record in records {
            let (Some(name), Some(mac)) = (text(record, "name"), text(record, "mac_address"))
            else {
                continue;
            };
            let Ok(mac) = mac.parse::<MacAddress>() else {
                tracing::warn!(interface = %name, "skipping a NIC whose MAC address is not valid");
                continue;
            };
            let v4 = text(record, "ipv4_address");
            let v6 = text(record, "ipv6_address").map(|a| a.split('%').next().unwrap_or(a));
            let iface = Interface {
                name: name.to_string(),
                pxe: boot_mac.as_ref() == Some(&mac),
                mac,
                addresses: [v4, v6]
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.parse().ok())
                    .collect(),
                has_address: v4.is_some() || v6.is_some(),
                client_id: text(record, "client_id").map(str::to_string),
                record: record.clone(),
            };
            // Names are keys in Ironic: a later record of a name replaces it.
            match all.iter_mut().find(|i| i.name == iface.name) {
                Some(earlier) => *earlier = iface,
                None => all.push(iface),
            }
        }
        if all.is_empty() {
            return Err("The inventory has no valid network interfaces.".into());
        }
        let added: Vec<Interface> = all
            .iter()
            .filter(|i| i.name != "lo" && !i.addresses.iter().any(IpAddr::is_loopback))
            .filter(|i| match add_ports {
                AddPorts::Pxe => boot_mac.is_none() || i.pxe,
                AddPorts::Active => i.has_address,
                AddPorts::All | AddPorts::Disabled => true,
            })
            .cloned()
            .collect();
        if added.is_empty() {
            return Err(format!(
                "No network interfaces of the inventory match the configuration (add_ports set to \"{}\").",
                add_ports.as_str()
            ));
        }
        Ok(Interfaces { all, added })
    }

    /// The NIC with this MAC.
    pub fn by_mac(&self, mac: &MacAddress) -> Option<&Interface> {
        self.all.iter().find(|i| &i.mac == mac)
    }

    /// What Ironic's hook leaves in the plugin data: `all_interfaces`,
    /// `valid_interfaces` (name → record with `pxe_enabled`) and `macs`.
    pub fn plugin_data(&self) -> [(&'static str, Value); 3] {
        let table = |list: &[Interface]| {
            let mut m = Map::new();
            for i in list {
                let mut record = i.record.as_object().cloned().unwrap_or_default();
                record.insert("mac_address".into(), json!(i.mac));
                record.insert("pxe_enabled".into(), json!(i.pxe));
                m.insert(i.name.clone(), Value::Object(record));
            }
            Value::Object(m)
        };
        let macs: Vec<&MacAddress> = self.added.iter().map(|i| &i.mac).collect();
        [
            ("all_interfaces", table(&self.all)),
            ("valid_interfaces", table(&self.added)),
            ("macs", json!(macs)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(boot: Option<&str>) -> Value {
        json!({
            "interfaces": [
                {"name": "eth0", "mac_address": "52:54:00:00:00:0A", "ipv4_address": "10.0.0.5"},
                {"name": "eth1", "mac_address": "52:54:00:00:00:0b", "ipv6_address": "fd00::5%eth1"},
                {"name": "eth2", "mac_address": "52:54:00:00:00:0c", "client_id": "ff:00"},
                {"name": "lo", "mac_address": "00:00:00:00:00:00", "ipv4_address": "127.0.0.1"},
                {"name": "bad", "mac_address": "not-a-mac"},
                {"mac_address": "52:54:00:00:00:0d"},
                {"name": "nomac"},
            ],
            "boot": {"pxe_interface": boot},
        })
    }

    fn names(list: &[Interface]) -> Vec<&str> {
        list.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn the_booting_nic_is_found_in_either_form() {
        for form in ["01-52-54-00-00-00-0b", "52:54:00:00:00:0B"] {
            let ifaces = Interfaces::from_inventory(&inventory(Some(form)), AddPorts::Pxe).unwrap();
            assert_eq!(names(&ifaces.all), ["eth0", "eth1", "eth2", "lo"]);
            assert_eq!(names(&ifaces.added), ["eth1"], "{form}");
            assert!(ifaces.all[1].pxe && !ifaces.all[0].pxe);
        }
        assert_eq!(pxe_mac(&json!({"boot": {"pxe_interface": "junk"}})), None);
        assert_eq!(pxe_mac(&json!({})), None);
    }

    #[test]
    fn add_ports_picks_the_nics() {
        let inv = inventory(Some("01-52-54-00-00-00-0b"));
        let pick = |mode| names(&Interfaces::from_inventory(&inv, mode).unwrap().added).join(",");
        assert_eq!(pick(AddPorts::All), "eth0,eth1,eth2");
        assert_eq!(pick(AddPorts::Disabled), "eth0,eth1,eth2");
        assert_eq!(pick(AddPorts::Active), "eth0,eth1");
        // Nothing says which NIC booted: every NIC.
        let unknown = Interfaces::from_inventory(&inventory(None), AddPorts::Pxe).unwrap();
        assert_eq!(names(&unknown.added), ["eth0", "eth1", "eth2"]);
        assert!(unknown.all.iter().all(|i| !i.pxe));
    }

    #[test]
    fn addresses_macs_and_client_ids_are_read() {
        let ifaces = Interfaces::from_inventory(&inventory(None), AddPorts::All).unwrap();
        assert_eq!(ifaces.all[0].mac.as_str(), "52:54:00:00:00:0a");
        assert_eq!(
            ifaces.all[0].addresses,
            ["10.0.0.5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            ifaces.all[1].addresses,
            ["fd00::5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(ifaces.all[2].client_id.as_deref(), Some("ff:00"));
        let mac: MacAddress = "52:54:00:00:00:0c".parse().unwrap();
        assert_eq!(ifaces.by_mac(&mac).map(|i| i.name.as_str()), Some("eth2"));
        let [(_, all), (_, valid), (_, macs)] = ifaces.plugin_data();
        assert_eq!(all["eth0"]["pxe_enabled"], json!(false));
        assert_eq!(all["eth0"]["mac_address"], json!("52:54:00:00:00:0a"));
        assert!(valid.get("lo").is_none());
        assert_eq!(macs.as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn nothing_usable_fails() {
        let none = json!({"interfaces": [{"name": "x", "mac_address": "zz"}]});
        assert!(Interfaces::from_inventory(&none, AddPorts::All)
            .unwrap_err()
            .contains("no valid network interfaces"));
        let quiet = json!({"interfaces": [{"name": "eth0", "mac_address": "52:54:00:00:00:01"}]});
        assert!(Interfaces::from_inventory(&quiet, AddPorts::Active)
            .unwrap_err()
            .contains("add_ports set to \"active\""));
        let only_lo = json!({"interfaces": [{"name": "lo", "mac_address": "00:00:00:00:00:00"}]});
        assert!(Interfaces::from_inventory(&only_lo, AddPorts::All).is_err());
    }
}
