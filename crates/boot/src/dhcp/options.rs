//! Per-port DHCP options as Neutron's `extra_dhcp_opts` name them (dnsmasq's
//! names, a number, or either behind `tag:ipxe,` / `tag:!ipxe,` — honoured: for iPXE
//! or other firmware only), turned into option codes and wire values. Options the
//! server itself must own (message type, server id, lease times…) are refused.

use std::net::Ipv4Addr;

use super::ExtraOption;

/// Options a port may not set: pad, end, requested address, lease time, message
/// type, server id, parameter list, renewal/rebinding, client id.
const RESERVED: &[u8] = &[0, 255, 50, 51, 53, 54, 55, 58, 59, 61];

/// Options whose values are lists of IPv4 addresses.
const ADDRESS_OPTIONS: &[u8] = &[3, 6, 42, 150];

/// The client kind a `tag:…,` prefix limits an option to.
fn tag_of(name: &str) -> Result<Option<bool>, String> {
    let Some((tags, _)) = name.rsplit_once(',') else {
        return Ok(None);
    };
    match tags.trim() {
        "tag:ipxe" => Ok(Some(true)),
        "tag:!ipxe" => Ok(Some(false)),
        other => Err(format!(
            "DHCP option tag {other} is not supported (tag:ipxe, tag:!ipxe)"
        )),
    }
}

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

/// The option one `opt_name` / `opt_value` stands for, or why not.
pub fn encode(name: &str, value: &str) -> Result<ExtraOption, String> {
    let for_ipxe = tag_of(name)?;
    let code = code_of(name).ok_or_else(|| format!("unknown DHCP option name {name}"))?;
    if RESERVED.contains(&code) {
        return Err(format!(
            "DHCP option {code} is the server's own and cannot be set per port"
        ));
    }
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
    Ok(ExtraOption {
        code,
        value: bytes,
        for_ipxe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(o: ExtraOption) -> (u8, Vec<u8>) {
        (o.code, o.value)
    }

    #[test]
    fn names_numbers_and_tags() {
        assert_eq!(
            pair(encode("bootfile-name", "x.efi").unwrap()),
            (67, b"x.efi".to_vec())
        );
        let ipxe = encode("tag:ipxe,67", "http://a/b").unwrap();
        assert_eq!((ipxe.code, ipxe.for_ipxe), (67, Some(true)));
        let pxe = encode("tag:!ipxe,bootfile-name", "undionly.kpxe").unwrap();
        assert_eq!(pxe.for_ipxe, Some(false));
        assert_eq!(
            pair(encode("dns-server", "10.0.0.53, 10.0.0.54").unwrap()),
            (6, vec![10, 0, 0, 53, 10, 0, 0, 54])
        );
        assert_eq!(pair(encode("mtu", "9000").unwrap()), (26, vec![0x23, 0x28]));
        assert!(encode("router", "gateway").is_err());
        assert!(encode("no-such-option", "1").is_err());
        assert!(
            encode("54", "10.0.0.9").is_err(),
            "the server id is the server's"
        );
        assert!(encode("tag:blue,67", "x").is_err());
    }
}
