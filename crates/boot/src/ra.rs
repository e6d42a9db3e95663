//! Router advertisements on the provisioning network. Network-boot firmware such as
//! iPXE configures IPv6 beside DHCPv4 and, on a network without an IPv6 router,
//! waits seconds for an advertisement before it boots. This answers each router
//! solicitation at once with an advertisement that configures nothing — no prefix,
//! no managed/other flags, router lifetime 0 (not a default router) — which ends
//! that wait. Hosts with a real IPv6 router are unaffected.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

const ROUTER_SOLICITATION: u8 = 133;
const ROUTER_ADVERTISEMENT: u8 = 134;
/// `ICMP6_FILTER` (linux/icmpv6.h).
const ICMP6_FILTER: libc::c_int = 1;
/// ff02::1 and ff02::2.
const ALL_NODES: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const ALL_ROUTERS: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// The advertisement: type, code, checksum (the kernel fills it in), hop limit 64,
/// no flags, lifetime 0, reachable time and retransmission timer unspecified.
const ADVERTISEMENT: [u8; 16] = [
    ROUTER_ADVERTISEMENT,
    0,
    0,
    0,
    64,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
];

/// Counters, for metrics and tests.
#[derive(Debug, Default)]
pub struct RaStats {
    pub solicitations: AtomicU64,
    pub advertisements: AtomicU64,
}

/// An advertiser bound to one interface.
pub struct RouterAdvertiser {
    fd: AsyncFd<OwnedFd>,
    ifindex: u32,
    stats: Arc<RaStats>,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: setsockopt reads size_of::<T>() bytes from a live reference.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
}

impl RouterAdvertiser {
    /// Opens a raw ICMPv6 socket on `interface` that hears router solicitations.
    pub fn open(interface: &str) -> io::Result<Self> {
        let name = std::ffi::CString::new(interface)
            .map_err(|_| io::Error::other("interface name contains NUL"))?;
        // SAFETY: a NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: plain socket(2); the descriptor is owned at once.
        let raw = unsafe {
            libc::socket(
                libc::AF_INET6,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMPV6,
            )
        };
        check(raw)?;
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        crate::dhcp::bind_to_device(fd.as_raw_fd(), interface)?;
        // Block every ICMPv6 type but router solicitations (a set bit blocks).
        let mut filter = [u32::MAX; 8];
        filter[usize::from(ROUTER_SOLICITATION >> 5)] &= !(1 << (ROUTER_SOLICITATION & 31));
        set(&fd, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &filter)?;
        let hops: libc::c_int = 255;
        set(&fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &hops)?;
        set(&fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &hops)?;
        set(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_IF,
            &(ifindex as libc::c_int),
        )?;
        let group = libc::ipv6_mreq {
            ipv6mr_multiaddr: libc::in6_addr {
                s6_addr: ALL_ROUTERS,
            },
            ipv6mr_interface: ifindex,
        };
        set(&fd, libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP, &group)?;
        // SAFETY: the descriptor is owned by the OwnedFd moved in, which keeps it open
        // and unchanged until the AsyncFd is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self {
            fd,
            ifindex,
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> Arc<RaStats> {
        self.stats.clone()
    }

    fn advertise(&self) -> io::Result<()> {
        // SAFETY: an all-zero sockaddr_in6 is valid; fields are set below.
        let mut to: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr = libc::in6_addr { s6_addr: ALL_NODES };
        to.sin6_scope_id = self.ifindex;
        // SAFETY: sendto reads the buffer and address for the lengths given.
        let rc = unsafe {
            libc::sendto(
                self.fd.get_ref().as_raw_fd(),
                ADVERTISEMENT.as_ptr().cast(),
                ADVERTISEMENT.len(),
                0,
                (&to as *const libc::sockaddr_in6).cast(),
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.stats.advertisements.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Advertises once, then answers every solicitation; runs until dropped.
    pub async fn run(self) {
        if let Err(e) = self.advertise() {
            // Common at start: the interface has no link-local address yet.
            tracing::debug!(error = %e, "first router advertisement not sent");
        }
        let mut buf = [0u8; 1500];
        loop {
            let got = self
                .fd
                .async_io(Interest::READABLE, |fd| {
                    // SAFETY: recv writes at most buf.len() bytes into buf.
                    let n = unsafe {
                        libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0)
                    };
                    if n < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(n as usize)
                    }
                })
                .await;
            match got {
                Ok(n) if n >= 8 && buf[0] == ROUTER_SOLICITATION && buf[1] == 0 => {
                    self.stats.solicitations.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = self.advertise() {
                        tracing::warn!(error = %e, "router advertisement failed");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "ICMPv6 receive failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }
}
