//! What the DHCP server answers, decided without sockets: only MACs the boot policy
//! knows get an answer; DISCOVER → OFFER, REQUEST → ACK or NAK, RELEASE and
//! DECLINE update the pool. The boot options follow the client: iPXE (user class
//! `iPXE`) gets its script URL, UEFI HTTP boot (vendor class `HTTPClient`) an HTTP
//! URL, PXE firmware the TFTP server and the boot file for its architecture
//! (option 93), with PXE discovery control set so nobody waits for ProxyDHCP.

use std::net::Ipv4Addr;
use std::time::Instant;

use super::leases::Leases;
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
    for (code, value) in &target.extra_options {
        reply.set_option(*code, value.clone());
    }
}

fn lease_options(cfg: &DhcpConfig, reply: &mut Message) {
    let secs = cfg.lease_time.as_secs().min(u64::from(u32::MAX)) as u32;
    reply.set_option(opt::SERVER_ID, cfg.server_ip.octets().to_vec());
    reply.set_option(opt::LEASE_TIME, secs.to_be_bytes().to_vec());
    reply.set_option(opt::RENEWAL_TIME, (secs / 2).to_be_bytes().to_vec());
    reply.set_option(opt::REBINDING_TIME, (secs / 8 * 7).to_be_bytes().to_vec());
    let mask = u32::MAX
        .checked_shl(32 - u32::from(cfg.prefix))
        .unwrap_or(0);
    reply.set_option(opt::SUBNET_MASK, mask.to_be_bytes().to_vec());
    if let Some(gw) = cfg.gateway {
        reply.set_option(opt::ROUTER, gw.octets().to_vec());
    }
    if !cfg.dns.is_empty() {
        reply.set_option(opt::DNS, cfg.dns.iter().flat_map(|d| d.octets()).collect());
    }
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
    let target = policy.target(mac)?;
    let for_us = |r: &Message| match r.option(opt::SERVER_ID) {
        Some(id) => id == cfg.server_ip.octets(),
        None => true,
    };
    match req.kind()? {
        kind::DISCOVER => {
            let ip = leases.offer(mac, requested_ip(req), now)?;
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
            if leases.bind(mac, ip, cfg.lease_time, now) {
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
