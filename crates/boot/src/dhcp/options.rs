//! Per-port DHCP options as Neutron's `extra_dhcp_opts` name them (dnsmasq's
//! names, a number, or either behind `tag:…,`), turned into option codes and wire
//! values.

use std::net::Ipv4Addr;

/// Options whose values are lists of IPv4 addresses.
const ADDRESS_OPTIONS: &[u8] = &[3, 6, 42, 150];

fn code_of(name: &str) -> Option<u8> {
    let name = name.rsplit(',').next().unwrap_or(name).trim();
    let name = name.strip_prefix("option:").unwrap_or(name);
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    Some(match name {
        "router" => 3,
        "dns-server" => 6,
        "domain-name" => 15,
        "mtu" => 26,
        "ntp-server" => 42,
        "tftp-server" => 66,
        "bootfile-name" => 67,
        "server-ip-address" | "tftp-server-address" => 150,
        _ => return None,
    })
}

/// The code and wire value of one `opt_name` / `opt_value`, or why not.
pub fn encode(name: &str, value: &str) -> Result<(u8, Vec<u8>), String> {
    let code = code_of(name).ok_or_else(|| format!("unknown DHCP option name {name}"))?;
    let bytes = if ADDRESS_OPTIONS.contains(&code) {
        let mut out = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let ip: Ipv4Addr = part
                .parse()
                .map_err(|_| format!("DHCP option {name}: {part} is not an IPv4 address"))?;
            out.extend_from_slice(&ip.octets());
        }
        out
    } else if code == 26 {
        let mtu: u16 = value
            .trim()
            .parse()
            .map_err(|_| format!("DHCP option mtu: {value} is not a number"))?;
        mtu.to_be_bytes().to_vec()
    } else {
        value.as_bytes().to_vec()
    };
    Ok((code, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_tags() {
        assert_eq!(
            encode("bootfile-name", "x.efi").unwrap(),
            (67, b"x.efi".to_vec())
        );
        assert_eq!(encode("tag:ipxe,67", "http://a/b").unwrap().0, 67);
        assert_eq!(
            encode("dns-server", "10.0.0.53, 10.0.0.54").unwrap(),
            (6, vec![10, 0, 0, 53, 10, 0, 0, 54])
        );
        assert_eq!(encode("mtu", "9000").unwrap(), (26, vec![0x23, 0x28]));
        assert!(encode("router", "gateway").is_err());
        assert!(encode("no-such-option", "1").is_err());
    }
}
