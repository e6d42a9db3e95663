//! IPv4 address management: subnets as `a.b.c.d/len`, their default allocation
//! pools (every host address but the gateway), and picking a free address.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use crate::net::{AllocationPool, Subnet};
use crate::MacAddress;

/// A MAC in Neutron's default range (`fa:16:3e:…`), for ports given none.
pub fn random_mac() -> MacAddress {
    let b = uuid::Uuid::new_v4().into_bytes();
    MacAddress::from([0xfa, 0x16, 0x3e, b[0], b[1], b[2]])
}

/// A parsed IPv4 CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/len`; the host bits must be zero.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let bad = || format!("'{text}' is not a valid IPv4 subnet CIDR");
        let (addr, len) = text.split_once('/').ok_or_else(bad)?;
        let network: Ipv4Addr = addr.trim().parse().map_err(|_| bad())?;
        let prefix: u8 = len.trim().parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        let cidr = Cidr { network, prefix };
        if cidr.first() != u32::from(network) {
            return Err(format!(
                "'{text}' isn't a recognized IP subnet cidr, '{}/{prefix}' is recommended",
                Ipv4Addr::from(cidr.first())
            ));
        }
        Ok(cidr)
    }

    fn mask(self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    /// The network address.
    fn first(self) -> u32 {
        u32::from(self.network) & self.mask()
    }

    /// The broadcast address.
    fn last(self) -> u32 {
        self.first() | !self.mask()
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.first()
    }

    /// True for an address a host may hold (not the network or broadcast address,
    /// except in /31 and /32).
    pub fn is_host(self, ip: Ipv4Addr) -> bool {
        let n = u32::from(ip);
        self.contains(ip) && (self.prefix >= 31 || (n != self.first() && n != self.last()))
    }

    /// The first host address, the usual gateway.
    pub fn first_host(self) -> Ipv4Addr {
        Ipv4Addr::from(if self.prefix >= 31 {
            self.first()
        } else {
            self.first() + 1
        })
    }

    /// Every host address but `gateway`, as pools.
    pub fn default_pools(self, gateway: Option<Ipv4Addr>) -> Vec<AllocationPool> {
        let (lo, hi) = if self.prefix >= 31 {
            (self.first(), self.last())
        } else {
            (self.first() + 1, self.last() - 1)
        };
        let mut pools = Vec::new();
        let mut push = |a: u32, b: u32| {
            if a <= b {
                pools.push(AllocationPool {
                    start: Ipv4Addr::from(a).to_string(),
                    end: Ipv4Addr::from(b).to_string(),
                });
            }
        };
        match gateway.map(u32::from).filter(|g| (lo..=hi).contains(g)) {
            Some(g) => {
                if g > lo {
                    push(lo, g - 1);
                }
                if g < hi {
                    push(g + 1, hi);
                }
            }
            None => push(lo, hi),
        }
        pools
    }
}

/// A pool's bounds as numbers.
pub fn pool_range(pool: &AllocationPool) -> Result<(u32, u32), String> {
    let parse = |s: &str| {
        s.parse::<Ipv4Addr>()
            .map(u32::from)
            .map_err(|_| format!("'{s}' is not a valid IPv4 address"))
    };
    Ok((parse(&pool.start)?, parse(&pool.end)?))
}

/// How many of the first free addresses a retry picks among.
const SPREAD: usize = 64;

/// A free address of the subnet's pools (not in `used`): the first one, or — on a
/// retry after another process took it (`attempt` > 0) — one picked at random
/// among the first free ones, so racing writers stop picking the same.
pub fn allocate(subnet: &Subnet, used: &HashSet<Ipv4Addr>, attempt: usize) -> Option<Ipv4Addr> {
    let mut free = subnet
        .allocation_pools
        .iter()
        .filter_map(|p| pool_range(p).ok())
        .flat_map(|(a, b)| a..=b)
        .map(Ipv4Addr::from)
        .filter(|ip| !used.contains(ip));
    if attempt == 0 {
        return free.next();
    }
    let candidates: Vec<Ipv4Addr> = free.take(SPREAD).collect();
    let pick = uuid::Uuid::new_v4().as_u128() as usize % candidates.len().max(1);
    candidates.get(pick).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_default_pools() {
        let c = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(c.is_host("10.0.0.1".parse().unwrap()));
        assert!(!c.is_host("10.0.0.0".parse().unwrap()));
        assert!(!c.is_host("10.0.0.255".parse().unwrap()));
        assert!(!c.contains("10.0.1.1".parse().unwrap()));
        assert_eq!(c.first_host(), Ipv4Addr::new(10, 0, 0, 1));
        let pools = c.default_pools(Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            pools,
            vec![AllocationPool {
                start: "10.0.0.2".into(),
                end: "10.0.0.254".into()
            }]
        );
        let split = c.default_pools(Some(Ipv4Addr::new(10, 0, 0, 100)));
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].end, "10.0.0.99");
        assert_eq!(split[1].start, "10.0.0.101");
        assert!(Cidr::parse("10.0.0.5/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("banana").is_err());
    }
}
