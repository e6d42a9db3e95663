//! The rules a network, subnet or VIF port must satisfy before it is stored; each
//! failure is a sentence for the API's 400 answer.

use std::net::Ipv4Addr;

use crate::ipam::{pool_range, Cidr};
use crate::net::{Network, Subnet, NETWORK_TYPES, ROLES};

/// VNIC types a port may have (`baremetal` for nodes).
pub const VNIC_TYPES: &[&str] = &[
    "normal",
    "baremetal",
    "direct",
    "direct-physical",
    "macvtap",
];

pub fn network(n: &Network) -> Result<(), String> {
    if !ROLES.contains(&n.role.as_str()) {
        return Err(format!(
            "Invalid role {}: expected one of {}",
            n.role,
            ROLES.join(", ")
        ));
    }
    if !NETWORK_TYPES.contains(&n.network_type.as_str()) {
        return Err(format!(
            "Invalid input for operation: network_type value '{}' not supported (flat or vlan).",
            n.network_type
        ));
    }
    match (n.network_type.as_str(), n.segmentation_id) {
        ("vlan", None) => {
            return Err(
                "Invalid input for operation: segmentation_id required for VLAN provider network."
                    .into(),
            )
        }
        ("vlan", Some(id)) if !(1..=4094).contains(&id) => {
            return Err(format!(
            "Invalid input for operation: segmentation_id out of range ({id} is not in 1..4094)."
        ))
        }
        ("flat", Some(_)) => {
            return Err(
                "Invalid input for operation: segmentation_id specified for flat provider network."
                    .into(),
            )
        }
        _ => {}
    }
    if n.network_type == "vlan" && n.physical_network.as_deref().unwrap_or("").is_empty() {
        return Err(
            "Invalid input for operation: physical_network required for VLAN provider network."
                .into(),
        );
    }
    if !(68..=65535).contains(&n.mtu) {
        return Err(format!("Invalid input for mtu: {} is out of range", n.mtu));
    }
    Ok(())
}

fn ip(text: &str, what: &str) -> Result<Ipv4Addr, String> {
    text.parse()
        .map_err(|_| format!("Invalid input for {what}: '{text}' is not a valid IPv4 address"))
}

/// Checks a subnet; fills its default allocation pools when none were given.
pub fn subnet(s: &mut Subnet) -> Result<(), String> {
    let cidr = Cidr::parse(&s.cidr)?;
    let gateway = match &s.gateway_ip {
        Some(g) => {
            let g = ip(g, "gateway_ip")?;
            if !cidr.is_host(g) {
                return Err(format!(
                    "Invalid input for operation: Gateway IP {g} is not a host address of {}.",
                    s.cidr
                ));
            }
            Some(g)
        }
        None => None,
    };
    for d in &s.dns_nameservers {
        ip(d, "dns_nameservers")?;
    }
    if s.allocation_pools.is_empty() {
        s.allocation_pools = cidr.default_pools(gateway);
        return Ok(());
    }
    let mut ranges = Vec::new();
    for p in &s.allocation_pools {
        let (a, b) = pool_range(p)?;
        if a > b {
            return Err(format!(
                "Invalid input: allocation pool {}-{} starts after it ends.",
                p.start, p.end
            ));
        }
        if !cidr.is_host(Ipv4Addr::from(a)) || !cidr.is_host(Ipv4Addr::from(b)) {
            return Err(format!(
                "The allocation pool {}-{} spans beyond the subnet cidr {}.",
                p.start, p.end, s.cidr
            ));
        }
        if let Some(g) = gateway.map(u32::from).filter(|g| (a..=b).contains(g)) {
            return Err(format!(
                "Gateway ip {} conflicts with allocation pool {}-{}.",
                Ipv4Addr::from(g),
                p.start,
                p.end
            ));
        }
        if ranges.iter().any(|&(c, d)| a <= d && c <= b) {
            return Err(format!(
                "Found overlapping allocation pools: {}-{} overlaps another pool.",
                p.start, p.end
            ));
        }
        ranges.push((a, b));
    }
    Ok(())
}

/// Checks an address asked for on `subnet`.
pub fn fixed_ip(subnet: &Subnet, text: &str) -> Result<Ipv4Addr, String> {
    let addr = ip(text, "fixed_ips")?;
    let cidr = Cidr::parse(&subnet.cidr)?;
    if !cidr.is_host(addr) {
        return Err(format!(
            "IP address {addr} is not a valid IP for the specified subnet."
        ));
    }
    if subnet.gateway_ip.as_deref() == Some(text) {
        return Err(format!(
            "IP address {addr} is the gateway of subnet {}.",
            subnet.uuid
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::AllocationPool;
    use crate::{NetworkId, SubnetId, Timestamp};

    fn subnet_of(cidr: &str, gw: Option<&str>, pools: &[(&str, &str)]) -> Subnet {
        Subnet {
            uuid: SubnetId::new_v4(),
            network_uuid: NetworkId::new_v4(),
            name: String::new(),
            description: String::new(),
            project_id: String::new(),
            cidr: cidr.into(),
            gateway_ip: gw.map(str::to_string),
            dns_nameservers: Vec::new(),
            allocation_pools: pools
                .iter()
                .map(|(a, b)| AllocationPool {
                    start: (*a).into(),
                    end: (*b).into(),
                })
                .collect(),
            enable_dhcp: true,
            created_at: Timestamp::now(),
            updated_at: None,
        }
    }

    #[test]
    fn subnets() {
        let mut s = subnet_of("10.0.0.0/24", Some("10.0.0.1"), &[]);
        subnet(&mut s).unwrap();
        assert_eq!(s.allocation_pools[0].start, "10.0.0.2");
        let mut s = subnet_of("10.0.0.0/24", Some("10.0.1.1"), &[]);
        assert!(subnet(&mut s).unwrap_err().contains("not a host address"));
        let mut s = subnet_of("10.0.0.0/24", Some("10.0.0.1"), &[("10.0.0.1", "10.0.0.9")]);
        assert!(subnet(&mut s).unwrap_err().contains("conflicts"));
        let mut s = subnet_of(
            "10.0.0.0/24",
            None,
            &[("10.0.0.10", "10.0.0.20"), ("10.0.0.15", "10.0.0.30")],
        );
        assert!(subnet(&mut s).unwrap_err().contains("overlapping"));
        let mut s = subnet_of("10.0.0.0/24", None, &[("10.0.0.10", "10.0.1.20")]);
        assert!(subnet(&mut s).unwrap_err().contains("spans beyond"));
        let s = subnet_of("10.0.0.0/24", Some("10.0.0.1"), &[]);
        assert!(fixed_ip(&s, "10.0.0.1").is_err());
        assert!(fixed_ip(&s, "10.0.0.255").is_err());
        assert!(fixed_ip(&s, "10.0.0.7").is_ok());
    }
}
