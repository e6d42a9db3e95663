//! What inspection does with a node's NICs, under Ironic's `[inspector]` option
//! names and defaults: which inventory NICs become ports (`add_ports`), which ports
//! survive (`keep_ports`), whether `pxe_enabled` follows the booting NIC
//! (`update_pxe_enabled`), and the subnet → physical network map
//! (`physical_network_cidr_map`). Built by the server from its configuration and
//! handed to the conductor.

use std::net::IpAddr;
use std::str::FromStr;

/// `[inspector] add_ports`: which NICs of the inventory get a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddPorts {
    /// Every NIC with a MAC address.
    All,
    /// NICs that had an IP address in the ramdisk.
    Active,
    /// Only the NIC the machine booted from (every NIC when the inventory does not
    /// say which one that was). Ironic's default.
    #[default]
    Pxe,
    /// None.
    Disabled,
}

impl FromStr for AddPorts {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(AddPorts::All),
            "active" => Ok(AddPorts::Active),
            "pxe" => Ok(AddPorts::Pxe),
            "disabled" => Ok(AddPorts::Disabled),
            other => Err(format!(
                "[inspector] add_ports must be all, active, pxe or disabled, not {other:?}"
            )),
        }
    }
}

impl AddPorts {
    pub fn as_str(self) -> &'static str {
        match self {
            AddPorts::All => "all",
            AddPorts::Active => "active",
            AddPorts::Pxe => "pxe",
            AddPorts::Disabled => "disabled",
        }
    }
}

/// `[inspector] keep_ports`: which of a node's ports inspection keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepPorts {
    /// Every port, even those whose MAC the inventory does not have. Ironic's
    /// default.
    #[default]
    All,
    /// Ports whose MAC is in the inventory.
    Present,
    /// Ports whose MAC `add_ports` picked.
    Added,
}

impl FromStr for KeepPorts {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(KeepPorts::All),
            "present" => Ok(KeepPorts::Present),
            "added" => Ok(KeepPorts::Added),
            other => Err(format!(
                "[inspector] keep_ports must be all, present or added, not {other:?}"
            )),
        }
    }
}

/// One subnet of `physical_network_cidr_map`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let shift = 32 - u32::from(self.prefix);
                u32::from(n).checked_shr(shift) == u32::from(a).checked_shr(shift)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let shift = 128 - u32::from(self.prefix);
                u128::from(n).checked_shr(shift) == u128::from(a).checked_shr(shift)
            }
            _ => false,
        }
    }
}

/// `[inspector] physical_network_cidr_map`: `<CIDR>:<physical network>` entries,
/// IPv4 or IPv6 (`10.10.10.0/24:physnet_a`, `2001:db8::/64:physnet_b`); the first
/// subnet holding one of a NIC's addresses names its port's physical network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrMap {
    entries: Vec<(Cidr, String)>,
}

impl CidrMap {
    /// Parses the entries; a subnet with host bits set, a prefix too long or a
    /// missing name is refused.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<CidrMap, String> {
        let mut map = CidrMap::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let bad =
                |why: &str| format!("[inspector] physical_network_cidr_map entry {entry:?}: {why}");
            let (cidr, name) = entry
                .rsplit_once(':')
                .ok_or_else(|| bad("expected <CIDR>:<physical network>"))?;
            if name.is_empty() {
                return Err(bad("the physical network name is empty"));
            }
            let (addr, prefix) = cidr
                .split_once('/')
                .ok_or_else(|| bad("expected a CIDR such as 10.0.0.0/24"))?;
            let network: IpAddr = addr.parse().map_err(|_| bad("not an IP subnet"))?;
            let prefix: u8 = prefix.parse().map_err(|_| bad("not a prefix length"))?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            if prefix > max {
                return Err(bad("the prefix length is too long"));
            }
            let c = Cidr { network, prefix };
            let host_bits_clear = match network {
                IpAddr::V4(n) => u32::from(n).checked_shl(u32::from(prefix)).unwrap_or(0) == 0,
                IpAddr::V6(n) => u128::from(n).checked_shl(u32::from(prefix)).unwrap_or(0) == 0,
            };
            if !host_bits_clear {
                return Err(bad("the subnet has host bits set"));
            }
            map.entries.push((c, name.to_string()));
        }
        Ok(map)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The physical network of the first address (in the order given) that lies in
    /// a mapped subnet.
    pub fn physical_network(&self, addresses: &[IpAddr]) -> Option<&str> {
        addresses.iter().find_map(|ip| {
            self.entries
                .iter()
                .find(|(c, _)| c.contains(*ip))
                .map(|(_, name)| name.as_str())
        })
    }
}

/// The `[inspector]` settings inspection runs with.
#[derive(Debug, Clone)]
pub struct InspectorSettings {
    pub add_ports: AddPorts,
    pub keep_ports: KeepPorts,
    /// Set each port's `pxe_enabled` to whether the machine booted from it
    /// (Ironic's default: true).
    pub update_pxe_enabled: bool,
    pub physical_network_cidr_map: CidrMap,
}

impl Default for InspectorSettings {
    fn default() -> Self {
        Self {
            add_ports: AddPorts::default(),
            keep_ports: KeepPorts::default(),
            update_pxe_enabled: true,
            physical_network_cidr_map: CidrMap::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_are_ironics() {
        assert_eq!("all".parse::<AddPorts>(), Ok(AddPorts::All));
        assert_eq!("disabled".parse::<AddPorts>(), Ok(AddPorts::Disabled));
        assert!("some".parse::<AddPorts>().is_err());
        assert_eq!("added".parse::<KeepPorts>(), Ok(KeepPorts::Added));
        assert!("none".parse::<KeepPorts>().is_err());
        let d = InspectorSettings::default();
        assert_eq!((d.add_ports, d.keep_ports), (AddPorts::Pxe, KeepPorts::All));
        assert!(d.update_pxe_enabled && d.physical_network_cidr_map.is_empty());
    }

    #[test]
    fn the_cidr_map_finds_the_first_mapped_address() {
        let map = CidrMap::parse(&[
            "10.10.10.0/24:physnet_a",
            "2001:db8::/64:physnet_b",
            "0.0.0.0/0:anything",
        ])
        .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(map.physical_network(&[ip("10.10.10.7")]), Some("physnet_a"));
        assert_eq!(
            map.physical_network(&[ip("2001:db8::5"), ip("10.10.10.7")]),
            Some("physnet_b")
        );
        assert_eq!(map.physical_network(&[ip("192.168.0.1")]), Some("anything"));
        assert_eq!(map.physical_network(&[ip("2001:db9::1")]), None);
        assert_eq!(map.physical_network(&[]), None);
        let host = CidrMap::parse(&["192.0.2.1/32:one"]).unwrap();
        assert_eq!(host.physical_network(&[ip("192.0.2.1")]), Some("one"));
        assert_eq!(host.physical_network(&[ip("192.0.2.2")]), None);
    }

    #[test]
    fn bad_cidr_map_entries_are_refused() {
        for bad in [
            "10.0.0.0/24",
            "10.0.0.0/24:",
            "10.0.0.1/24:host-bits",
            "10.0.0.0/33:long",
            "10.0.0.0:no-prefix",
            "ten/8:name",
            "2001:db8::/129:long",
            "2001:db8::1/64:host-bits",
        ] {
            assert!(CidrMap::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
