//! The IP addresses each NIC holds in the ramdisk, read with `getifaddrs(3)`: the
//! inventory's `ipv4_address` and `ipv6_address` per interface, as
//! ironic-python-agent reports them (the first of each family; a link-local IPv6
//! address only when there is no other, with its `%<interface>` scope). Inspection
//! uses them for `[inspector] add_ports = active` and the physical-network map.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One interface's addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<String>,
}

/// The addresses of every interface that has one, by interface name; empty when
/// they cannot be read.
pub fn by_interface() -> BTreeMap<String, Addresses> {
    let mut v4: BTreeMap<String, Vec<Ipv4Addr>> = BTreeMap::new();
    let mut v6: BTreeMap<String, Vec<Ipv6Addr>> = BTreeMap::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills in a list freed below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return BTreeMap::new();
    }
    let mut at = list;
    while !at.is_null() {
        // SAFETY: `at` is a node of the list getifaddrs returned, alive until freed.
        let entry = unsafe { &*at };
        at = entry.ifa_next;
        if entry.ifa_addr.is_null() || entry.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(entry.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr points at a sockaddr whose family says its real type.
        match i32::from(unsafe { (*entry.ifa_addr).sa_family }) {
            libc::AF_INET => {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                v4.entry(name).or_default().push(ip);
            }
            libc::AF_INET6 => {
                // SAFETY: an AF_INET6 address is a sockaddr_in6.
                let sin6 = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in6) };
                v6.entry(name)
                    .or_default()
                    .push(Ipv6Addr::from(sin6.sin6_addr.s6_addr));
            }
            _ => {}
        }
    }
    // SAFETY: the list came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    let mut out: BTreeMap<String, Addresses> = BTreeMap::new();
    for (name, ips) in v4 {
        out.entry(name).or_default().ipv4 = ips.first().copied();
    }
    for (name, ips) in v6 {
        let text = pick_v6(&name, &ips);
        out.entry(name).or_default().ipv6 = text;
    }
    out
}

/// The first IPv6 address that is not link-local, else the first link-local one
/// with its scope.
fn pick_v6(name: &str, ips: &[Ipv6Addr]) -> Option<String> {
    let link_local = |ip: &Ipv6Addr| ip.segments()[0] & 0xffc0 == 0xfe80;
    ips.iter()
        .find(|ip| !link_local(ip))
        .map(Ipv6Addr::to_string)
        .or_else(|| ips.first().map(|ip| format!("{ip}%{name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_has_its_address() {
        let all = by_interface();
        assert_eq!(
            all.get("lo").and_then(|a| a.ipv4),
            Some(Ipv4Addr::LOCALHOST),
            "{all:?}"
        );
    }

    #[test]
    fn global_ipv6_addresses_come_before_link_local_ones() {
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        let global: Ipv6Addr = "2001:db8::5".parse().unwrap();
        assert_eq!(
            pick_v6("eth0", &[ll, global]).as_deref(),
            Some("2001:db8::5")
        );
        assert_eq!(pick_v6("eth0", &[ll]).as_deref(), Some("fe80::1%eth0"));
        assert_eq!(pick_v6("eth0", &[]), None);
    }
}
