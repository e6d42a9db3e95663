//! What the DHCP server answers, decided without sockets: only MACs the boot policy
//! knows get an answer; DISCOVER → OFFER, REQUEST → ACK or NAK, RELEASE and
//! DECLINE update the pool. The boot options follow the client: iPXE (user class
//! `iPXE`) gets its script URL, UEFI HTTP boot (vendor class `HTTPClient`) an HTTP
//! URL, PXE firmware the TFTP server and the boot file for its architecture
//! (option 93), with PXE discovery control set so nobody waits for ProxyDHCP.
//! In ProxyDHCP mode another server hands out the addresses: PXE clients' discovers
//! get an address-less offer carrying only the boot options, and their requests to
//! the PXE port (4011) the same as an acknowledgement.

use std::net::Ipv4Addr;
use std::time::Instant;

use super::leases::{Leases, OFFER_HOLD};
use super::packet::{kind, opt, Message, BOOTREQUEST};
use super::{BootPolicy, BootTarget, DhcpConfig};

/// PXE vendor option 43: sub-option 6 (discovery control) = 8, "use the boot file
/// name as given" — no boot-server discovery, no wait for ProxyDHCP offers.
const PXE_DISCOVERY_CONTROL: [u8; 4] = [6, 1, 8, 255];

fn is_ipxe(req: &Message) -> bool {
    req.option(opt::USER_CLASS)
        .is_some_and(|v| v.windows(4).any(|w| w == b"iPXE"))
}

fn vendor_class(req: &Message) -> &[u8] {
    req.option(opt::VENDOR_CLASS).unwrap_or_default()
}

/// Client system architecture (RFC 4578): 0 = x86 BIOS, 6/7/9 = EFI.
fn is_uefi(req: &Message) -> bool {
    match req.option(opt::CLIENT_ARCH) {
        Some([hi, lo, ..]) => u16::from_be_bytes([*hi, *lo]) != 0,
        _ => false,
    }
}

/// Adds the boot options for `target` to `reply`.
fn boot_options(cfg: &DhcpConfig, req: &Message, target: &BootTarget, reply: &mut Message) {
    let http_client = vendor_class(req).starts_with(b"HTTPClient");
    let file = if is_ipxe(req) {
        target.ipxe_script.clone()
    } else if http_client {
        reply.set_option(opt::VENDOR_CLASS, b"HTTPClient".to_vec());
        target.http_boot_url.clone()
    } else if is_uefi(req) {
        Some(target.uefi_file.clone())
    } else {
        Some(target.bios_file.clone())
    };
    if let Some(file) = file {
        reply.siaddr = cfg.server_ip;
        reply.file = file.clone();
        reply.set_option(opt::TFTP_SERVER, cfg.server_ip.to_string().into_bytes());
        reply.set_option(opt::BOOTFILE, file.into_bytes());
    }
    if vendor_class(req).starts_with(b"PXEClient") {
        reply.set_option(opt::VENDOR_CLASS, b"PXEClient".to_vec());
        reply.set_option(opt::VENDOR_SPECIFIC, PXE_DISCOVERY_CONTROL.to_vec());
    }
    let ipxe = is_ipxe(req);
    for o in &target.extra_options {
        if o.for_ipxe.is_some_and(|want| want != ipxe) {
            continue;
        }
        reply.set_option(o.code, o.value.clone());
        if o.code == opt::BOOTFILE {
            reply.file = String::from_utf8_lossy(&o.value).into_owned();
        }
    }
}

fn is_pxe_client(req: &Message) -> bool {
    vendor_class(req).starts_with(b"PXEClient") || is_ipxe(req)
}

/// The ProxyDHCP reply to `req` (`on_pxe_port`: it came to port 4011), if any.
pub fn proxy_answer(
    cfg: &DhcpConfig,
    policy: &dyn BootPolicy,
    req: &Message,
    on_pxe_port: bool,
) -> Option<Message> {
    if req.op != BOOTREQUEST || !is_pxe_client(req) {
        return None;
    }
    let target = policy.target(req.mac()?)?;
    let kind_out = match req.kind()? {
        kind::DISCOVER if !on_pxe_port => kind::OFFER,
        kind::REQUEST | kind::INFORM if on_pxe_port => kind::ACK,
        _ => return None,
    };
    let mut reply = Message::reply_to(req, kind_out);
    reply.set_option(opt::SERVER_ID, cfg.server_ip.octets().to_vec());
    boot_options(cfg, req, &target, &mut reply);
    // iPXE and PXE ROMs recognise a ProxyDHCP answer by this vendor class.
    reply.set_option(opt::VENDOR_CLASS, b"PXEClient".to_vec());
    reply.set_option(opt::VENDOR_SPECIFIC, PXE_DISCOVERY_CONTROL.to_vec());
    if let Some(uuid) = req.option(opt::UUID_GUID) {
        reply.set_option(opt::UUID_GUID, uuid.to_vec());
    }
    Some(reply)
}

fn lease_options(cfg: &DhcpConfig, reply: &mut Message) {
    let secs = cfg.lease_time.as_secs().min(u64::from(u32::MAX)) as u32;
    reply.set_option(opt::SERVER_ID, cfg.server_ip.octets().to_vec());
    reply.set_option(opt::LEASE_TIME, secs.to_be_bytes().to_vec());
    reply.set_option(opt::RENEWAL_TIME, (secs / 2).to_be_bytes().to_vec());
    reply.set_option(opt::REBINDING_TIME, (secs / 8 * 7).to_be_bytes().to_vec());
    let mask = netmask(cfg.prefix);
    reply.set_option(opt::SUBNET_MASK, mask.to_be_bytes().to_vec());
    if let Some(gw) = cfg.gateway {
        reply.set_option(opt::ROUTER, gw.octets().to_vec());
    }
    if !cfg.dns.is_empty() {
        reply.set_option(opt::DNS, cfg.dns.iter().flat_map(|d| d.octets()).collect());
    }
}

/// The target's fixed address, when it lies in the served subnet (and is not the
/// server's own).
fn fixed(cfg: &DhcpConfig, target: &BootTarget) -> Option<Ipv4Addr> {
    let mask = netmask(cfg.prefix);
    target.fixed_ip.filter(|ip| {
        u32::from(*ip) & mask == u32::from(cfg.server_ip) & mask && *ip != cfg.server_ip
    })
}

/// The subnet mask of a prefix length, as a number.
fn netmask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn requested_ip(req: &Message) -> Option<Ipv4Addr> {
    match req.option(opt::REQUESTED_IP) {
        Some([a, b, c, d]) => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => (!req.ciaddr.is_unspecified()).then_some(req.ciaddr),
    }
}

/// The reply to `req`, if any.
pub fn answer(
    cfg: &DhcpConfig,
    policy: &dyn BootPolicy,
    leases: &mut Leases,
    req: &Message,
    now: Instant,
) -> Option<Message> {
    if req.op != BOOTREQUEST {
        return None;
    }
    let mac = req.mac()?;
    leases.set_reserved(policy.reservations());
    let Some(target) = policy.target(mac) else {
        if req.kind() == Some(kind::DISCOVER) && is_pxe_client(req) {
            policy.unknown_pxe_client(mac);
        }
        return None;
    };
    let for_us = |r: &Message| match r.option(opt::SERVER_ID) {
        Some(id) => id == cfg.server_ip.octets(),
        None => true,
    };
    if cfg.proxy_port.is_some() {
        return proxy_answer(cfg, policy, req, false);
    }
    match req.kind()? {
        kind::DISCOVER => {
            // The fixed address when it is free, else (someone holds it) a pool one.
            let ip = match fixed(cfg, &target) {
                Some(ip) if leases.pin(mac, ip, now + OFFER_HOLD, false, now) => ip,
                _ => leases.offer(mac, requested_ip(req), now)?,
            };
            let mut reply = Message::reply_to(req, kind::OFFER);
            reply.yiaddr = ip;
            lease_options(cfg, &mut reply);
            boot_options(cfg, req, &target, &mut reply);
            Some(reply)
        }
        kind::REQUEST => {
            if !for_us(req) {
                // The client took another server's offer.
                if leases.get(&mac).is_some_and(|l| !l.bound) {
                    leases.release(mac);
                }
                return None;
            }
            let ip = requested_ip(req)?;
            let granted = if fixed(cfg, &target) == Some(ip) {
                leases.pin(mac, ip, now + cfg.lease_time, true, now)
            } else {
                leases.bind(mac, ip, cfg.lease_time, now)
            };
            if granted {
                let mut reply = Message::reply_to(req, kind::ACK);
                reply.yiaddr = ip;
                reply.ciaddr = req.ciaddr;
                lease_options(cfg, &mut reply);
                boot_options(cfg, req, &target, &mut reply);
                Some(reply)
            } else {
                let mut nak = Message::reply_to(req, kind::NAK);
                nak.set_option(opt::SERVER_ID, cfg.server_ip.octets().to_vec());
                Some(nak)
            }
        }
        kind::RELEASE if for_us(req) => {
            leases.release(mac);
            None
        }
        kind::DECLINE if for_us(req) => {
            if let Some(ip) = requested_ip(req) {
                leases.decline(mac, ip, now);
            }
            None
        }
        kind::INFORM => {
            let mut reply = Message::reply_to(req, kind::ACK);
            reply.ciaddr = req.ciaddr;
            lease_options(cfg, &mut reply);
            reply.options.retain(|(c, _)| *c != opt::LEASE_TIME);
            boot_options(cfg, req, &target, &mut reply);
            Some(reply)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;

    struct One;

    impl BootPolicy for One {
        fn target(&self, mac: [u8; 6]) -> Option<BootTarget> {
            (mac == [2; 6]).then(|| BootTarget {
                bios_file: "undionly.kpxe".into(),
                uefi_file: "snponly.efi".into(),
                ipxe_script: Some("http://10.0.0.1/boot/n/config".into()),
                http_boot_url: None,
                extra_options: Vec::new(),
                fixed_ip: None,
            })
        }
    }

    fn proxy_cfg() -> DhcpConfig {
        DhcpConfig {
            interface: None,
            server_ip: Ipv4Addr::new(10, 0, 0, 1),
            prefix: 24,
            pool_start: Ipv4Addr::new(10, 0, 0, 1),
            pool_end: Ipv4Addr::new(10, 0, 0, 1),
            gateway: None,
            dns: Vec::new(),
            lease_time: Duration::from_secs(60),
            server_port: 67,
            client_port: 68,
            proxy_port: Some(4011),
        }
    }

    fn request(kind_code: u8, vendor: &[u8], mac: u8) -> Message {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&[mac; 6]);
        Message {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid: 42,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: String::new(),
            file: String::new(),
            options: vec![
                (opt::MESSAGE_TYPE, vec![kind_code]),
                (opt::VENDOR_CLASS, vendor.to_vec()),
                (opt::CLIENT_ARCH, vec![0, 0]),
                (opt::UUID_GUID, vec![0, 7, 7, 7]),
            ],
        }
    }

    #[test]
    fn proxy_offers_boot_options_without_an_address() {
        let cfg = proxy_cfg();
        let mut leases = Leases::new(cfg.pool_start, cfg.pool_end);
        let now = Instant::now();
        let discover = request(kind::DISCOVER, b"PXEClient:Arch:00000:UNDI:002001", 2);
        let offer = answer(&cfg, &One, &mut leases, &discover, now).expect("an offer");
        assert_eq!(offer.kind(), Some(kind::OFFER));
        assert!(offer.yiaddr.is_unspecified(), "no address from a proxy");
        assert_eq!(offer.option(opt::VENDOR_CLASS), Some(&b"PXEClient"[..]));
        assert_eq!(offer.option(opt::SERVER_ID), Some(&[10, 0, 0, 1][..]));
        assert_eq!(offer.file, "undionly.kpxe");
        assert_eq!(offer.option(opt::UUID_GUID), Some(&[0, 7, 7, 7][..]));
        assert!(offer.option(opt::LEASE_TIME).is_none());
        assert!(leases.get(&[2; 6]).is_none(), "nothing leased");

        // A client that is no PXE client, or unknown, or asks the site server, is
        // left alone.
        let plain = request(kind::DISCOVER, b"udhcp 1.35.0", 2);
        assert!(answer(&cfg, &One, &mut leases, &plain, now).is_none());
        let stranger = request(kind::DISCOVER, b"PXEClient", 9);
        assert!(answer(&cfg, &One, &mut leases, &stranger, now).is_none());
        let to_site = request(kind::REQUEST, b"PXEClient", 2);
        assert!(answer(&cfg, &One, &mut leases, &to_site, now).is_none());

        // The ProxyDHCPREQUEST to port 4011 is acknowledged with the same options.
        let ack = proxy_answer(&cfg, &One, &to_site, true).expect("an ack");
        assert_eq!(ack.kind(), Some(kind::ACK));
        assert_eq!(ack.file, "undionly.kpxe");
        assert!(proxy_answer(&cfg, &One, &discover, true).is_none());
    }
}
