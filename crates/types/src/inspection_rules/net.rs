//! IP networks for the `in-net` condition, as netaddr reads them: `addr/prefix`,
//! `addr/netmask` (IPv4) or a bare address (a single host). Host bits may be set;
//! an address of the other IP version is never inside.

use std::net::IpAddr;

/// A network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid IPNetwork {s}");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = parse_addr(addr).map_err(|_| bad())?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(p) => match (addr, p.parse::<IpAddr>()) {
                (IpAddr::V4(_), Ok(IpAddr::V4(mask))) => {
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Err(bad());
                    }
                    bits.leading_ones() as u8
                }
                _ => return Err(bad()),
            },
        };
        Ok(Self { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IP address, v4 or v6.
pub(crate) fn parse_addr(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("failed to detect a valid IP address from '{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(addr: &str, net: &str) -> bool {
        IpNet::parse(net)
            .unwrap()
            .contains(parse_addr(addr).unwrap())
    }

    #[test]
    fn containment() {
        assert!(inside("192.168.1.5", "192.168.1.0/24"));
        assert!(!inside("10.0.0.1", "192.168.1.0/24"));
        assert!(inside("192.168.1.5", "192.168.1.77/24"));
        assert!(inside("192.168.1.5", "192.168.0.0/255.255.0.0"));
        assert!(inside("10.1.2.3", "0.0.0.0/0"));
        assert!(inside("10.1.2.3", "10.1.2.3"));
        assert!(!inside("10.1.2.4", "10.1.2.3"));
        assert!(inside("fe80::1", "fe80::/64"));
        assert!(!inside("192.168.1.5", "::/0"));
    }

    #[test]
    fn bad_networks() {
        for n in [
            "invalid-subnet",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/255.0.255.0",
            "fe80::/ffff::",
        ] {
            assert!(IpNet::parse(n).is_err(), "{n}");
        }
        assert!(parse_addr("None").is_err());
    }
}
