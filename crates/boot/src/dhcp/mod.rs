//! A DHCPv4 server for the provisioning network. It answers only the MACs its boot
//! policy knows (the ports of nodes that must network-boot now), hands out
//! addresses from a pool, and tells each client where to boot from: the TFTP
//! server and a boot file by architecture, the iPXE script URL to iPXE, an HTTP URL
//! to UEFI HTTP boot. Replies are broadcast on the served interface (or sent to the
//! relay). No ping probe before an offer. Malformed datagrams are dropped and
//! counted; the server never stops for one.

pub mod answer;
pub mod leases;
pub mod packet;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use leases::Leases;
use packet::{kind, Message};

/// Settings of the DHCP server.
#[derive(Debug, Clone)]
pub struct DhcpConfig {
    /// The interface served (replies are broadcast there); `None`: any.
    pub interface: Option<String>,
    /// This server's address on that network: server identifier and next-server.
    pub server_ip: Ipv4Addr,
    pub prefix: u8,
    pub pool_start: Ipv4Addr,
    pub pool_end: Ipv4Addr,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub lease_time: Duration,
    /// Ports (67/68 in production; tests may move them).
    pub server_port: u16,
    pub client_port: u16,
}

/// Where one MAC boots from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootTarget {
    /// TFTP boot file for BIOS PXE firmware (e.g. `undionly.kpxe`).
    pub bios_file: String,
    /// TFTP boot file for UEFI PXE firmware (e.g. `snponly.efi`).
    pub uefi_file: String,
    /// What iPXE chains to: the node's script as an HTTP URL, or a file name on
    /// this TFTP server.
    pub ipxe_script: Option<String>,
    /// What UEFI HTTP boot fetches.
    pub http_boot_url: Option<String>,
    /// Per-port options (`extra_dhcp_opts`), overriding the computed ones.
    pub extra_options: Vec<(u8, Vec<u8>)>,
}

/// Which MACs get answers, and what they boot.
pub trait BootPolicy: Send + Sync {
    fn target(&self, mac: [u8; 6]) -> Option<BootTarget>;
}

/// Counters for metrics and tests.
#[derive(Debug, Default)]
pub struct DhcpStats {
    pub received: AtomicU64,
    pub malformed: AtomicU64,
    pub ignored: AtomicU64,
    pub offers: AtomicU64,
    pub acks: AtomicU64,
    pub naks: AtomicU64,
}

/// A bound DHCP server.
pub struct DhcpServer {
    socket: UdpSocket,
    config: DhcpConfig,
    policy: Arc<dyn BootPolicy>,
    leases: Mutex<Leases>,
    stats: Arc<DhcpStats>,
}

/// Opens the server's socket: `0.0.0.0:server_port`, broadcast allowed, tied to
/// the interface when one is named.
pub fn open_socket(config: &DhcpConfig) -> std::io::Result<StdUdpSocket> {
    let sock = StdUdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, config.server_port))?;
    sock.set_broadcast(true)?;
    if let Some(iface) = &config.interface {
        bind_to_device(&sock, iface)?;
    }
    sock.set_nonblocking(true)?;
    Ok(sock)
}

fn bind_to_device(sock: &StdUdpSocket, iface: &str) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let name = std::ffi::CString::new(iface)
        .map_err(|_| std::io::Error::other("interface name contains NUL"))?;
    let bytes = name.as_bytes_with_nul();
    // SAFETY: setsockopt reads `bytes.len()` bytes from a live buffer.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl DhcpServer {
    /// A server on an already opened socket (see [`open_socket`]).
    pub fn from_socket(
        socket: StdUdpSocket,
        config: DhcpConfig,
        policy: Arc<dyn BootPolicy>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            socket: UdpSocket::from_std(socket)?,
            leases: Mutex::new(Leases::new(config.pool_start, config.pool_end)),
            config,
            policy,
            stats: Arc::default(),
        })
    }

    pub fn stats(&self) -> Arc<DhcpStats> {
        self.stats.clone()
    }

    /// Serves until the task is dropped.
    pub async fn run(self) {
        let mut buf = vec![0u8; 1500];
        loop {
            let (n, from) = match self.socket.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "DHCP receive failed");
                    continue;
                }
            };
            self.stats.received.fetch_add(1, Ordering::Relaxed);
            let Some(req) = Message::parse(&buf[..n]) else {
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let reply = {
                let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
                answer::answer(
                    &self.config,
                    &*self.policy,
                    &mut leases,
                    &req,
                    Instant::now(),
                )
            };
            let Some(reply) = reply else {
                self.stats.ignored.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let counter = match reply.kind() {
                Some(kind::OFFER) => &self.stats.offers,
                Some(kind::ACK) => &self.stats.acks,
                _ => &self.stats.naks,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let to = if !req.giaddr.is_unspecified() {
                SocketAddr::from((req.giaddr, self.config.server_port))
            } else if !req.ciaddr.is_unspecified() && reply.kind() != Some(kind::NAK) {
                SocketAddr::from((req.ciaddr, self.config.client_port))
            } else {
                SocketAddr::from((Ipv4Addr::BROADCAST, self.config.client_port))
            };
            tracing::debug!(client = ?req.mac(), ip = %reply.yiaddr, ?from, kind = ?reply.kind(), "DHCP reply");
            if let Err(e) = self.socket.send_to(&reply.to_bytes(), to).await {
                tracing::warn!(error = %e, %to, "DHCP send failed");
            }
        }
    }
}
