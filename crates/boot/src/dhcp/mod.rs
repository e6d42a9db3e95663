//! A DHCPv4 server for the provisioning network. It answers only the MACs its boot
//! policy knows (the ports of nodes that must network-boot now), hands out
//! addresses from a pool, and tells each client where to boot from: the TFTP
//! server and a boot file by architecture, the iPXE script URL to iPXE, an HTTP URL
//! to UEFI HTTP boot. Replies are broadcast on the served interface (or sent to the
//! relay). No ping probe before an offer. Bound leases go to a [`LeaseStore`] (the
//! database, in ferricd) and come back from it at start. Malformed datagrams are
//! dropped and counted; the server never stops for one.

pub mod answer;
pub mod leases;
pub mod options;
pub mod packet;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

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
    /// ProxyDHCP mode, answering PXE requests on this port too (4011): another
    /// server hands out the addresses, this one only says where to boot from.
    pub proxy_port: Option<u16>,
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
    pub extra_options: Vec<ExtraOption>,
    /// The address the network service gave this NIC on the served network: offered
    /// instead of a pool address (when it lies in the served subnet).
    pub fixed_ip: Option<Ipv4Addr>,
}

/// A per-port DHCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraOption {
    pub code: u8,
    pub value: Vec<u8>,
    /// `Some(true)`: only for iPXE (`tag:ipxe`); `Some(false)`: only for other
    /// firmware (`tag:!ipxe`); `None`: for every client.
    pub for_ipxe: Option<bool>,
}

/// Which MACs get answers, and what they boot.
pub trait BootPolicy: Send + Sync {
    fn target(&self, mac: [u8; 6]) -> Option<BootTarget>;
    /// A PXE client without a target looked for a boot server (discovery may
    /// enroll it). Called on the serving path: hand the work off.
    fn unknown_pxe_client(&self, _mac: [u8; 6]) {}
    /// The fixed addresses of the targets, kept out of everyone else's reach.
    fn reservations(&self) -> Option<Arc<HashMap<Ipv4Addr, [u8; 6]>>> {
        None
    }
}

/// Where bound leases are kept across restarts. Called on the serving path: an
/// implementation hands the change off rather than waiting on storage.
pub trait LeaseStore: Send + Sync {
    fn bound(&self, mac: [u8; 6], ip: Ipv4Addr, expires: SystemTime);
    fn released(&self, mac: [u8; 6]);
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
    /// The PXE port's socket, in ProxyDHCP mode.
    pxe_socket: Option<UdpSocket>,
    leases: Mutex<Leases>,
    store: Option<Arc<dyn LeaseStore>>,
    stats: Arc<DhcpStats>,
}

/// Opens the server's socket: `0.0.0.0:server_port`, broadcast allowed, tied to
/// the interface when one is named.
pub fn open_socket(config: &DhcpConfig) -> std::io::Result<StdUdpSocket> {
    open_port(config, config.server_port)
}

/// Opens the PXE port's socket of ProxyDHCP mode (`None` in normal mode).
pub fn open_pxe_socket(config: &DhcpConfig) -> std::io::Result<Option<StdUdpSocket>> {
    config.proxy_port.map(|p| open_port(config, p)).transpose()
}

fn open_port(config: &DhcpConfig, port: u16) -> std::io::Result<StdUdpSocket> {
    let sock = StdUdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
    sock.set_broadcast(true)?;
    if let Some(iface) = &config.interface {
        use std::os::unix::io::AsRawFd;
        bind_to_device(sock.as_raw_fd(), iface)?;
    }
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// Ties a socket to an interface (`SO_BINDTODEVICE`).
pub(crate) fn bind_to_device(fd: std::os::unix::io::RawFd, iface: &str) -> std::io::Result<()> {
    let name = std::ffi::CString::new(iface)
        .map_err(|_| std::io::Error::other("interface name contains NUL"))?;
    let bytes = name.as_bytes_with_nul();
    // SAFETY: setsockopt reads `bytes.len()` bytes from a live buffer.
    let rc = unsafe {
        libc::setsockopt(
            fd,
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
            pxe_socket: None,
            store: None,
            stats: Arc::default(),
        })
    }

    /// Also serves ProxyDHCP requests on `socket` (see [`open_pxe_socket`]).
    pub fn with_pxe_socket(mut self, socket: StdUdpSocket) -> std::io::Result<Self> {
        self.pxe_socket = Some(UdpSocket::from_std(socket)?);
        Ok(self)
    }

    /// Keeps bound leases in `store`, starting from `restored` (MAC, address, end).
    pub fn with_store(
        mut self,
        store: Arc<dyn LeaseStore>,
        restored: &[([u8; 6], Ipv4Addr, SystemTime)],
    ) -> Self {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let leases = self.leases.get_mut().unwrap_or_else(|p| p.into_inner());
        for (mac, ip, expires) in restored {
            if let Ok(left) = expires.duration_since(wall) {
                leases.restore(*mac, *ip, now + left);
            }
        }
        self.store = Some(store);
        self
    }

    /// Tells the store what an answer changed about `mac`'s lease.
    fn record(&self, mac: [u8; 6], before: Option<leases::Lease>, after: Option<leases::Lease>) {
        let Some(store) = &self.store else {
            return;
        };
        match after.filter(|l| l.bound) {
            Some(l) if before != after => {
                let left = l.expires.saturating_duration_since(Instant::now());
                store.bound(mac, l.ip, SystemTime::now() + left);
            }
            Some(_) => {}
            None if before.is_some_and(|l| l.bound) => store.released(mac),
            None => {}
        }
    }

    pub fn stats(&self) -> Arc<DhcpStats> {
        self.stats.clone()
    }

    /// Serves until the task is dropped.
    pub async fn run(self) {
        let mut buf = vec![0u8; 1500];
        let mut pxe_buf = vec![0u8; 1500];
        loop {
            let pxe = async {
                match &self.pxe_socket {
                    Some(s) => s.recv_from(&mut pxe_buf).await,
                    None => std::future::pending().await,
                }
            };
            let (got, on_pxe_port) = tokio::select! {
                r = self.socket.recv_from(&mut buf) => (r, false),
                r = pxe => (r, true),
            };
            let datagram = if on_pxe_port { &pxe_buf } else { &buf };
            match got {
                Ok((n, from)) => self.serve(&datagram[..n], from, on_pxe_port).await,
                Err(e) => tracing::warn!(error = %e, "DHCP receive failed"),
            }
        }
    }

    async fn serve(&self, datagram: &[u8], from: SocketAddr, on_pxe_port: bool) {
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        let Some(req) = Message::parse(datagram) else {
            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let reply = if on_pxe_port {
            answer::proxy_answer(&self.config, &*self.policy, &req, true)
        } else {
            let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
            let mac = req.mac();
            let before = mac.and_then(|m| leases.get(&m));
            let reply = answer::answer(
                &self.config,
                &*self.policy,
                &mut leases,
                &req,
                Instant::now(),
            );
            if let Some(m) = mac {
                self.record(m, before, leases.get(&m));
            }
            reply
        };
        let Some(reply) = reply else {
            self.stats.ignored.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let counter = match reply.kind() {
            Some(kind::OFFER) => &self.stats.offers,
            Some(kind::ACK) => &self.stats.acks,
            _ => &self.stats.naks,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let (socket, to) = match (&self.pxe_socket, on_pxe_port) {
            // A ProxyDHCP request comes from a configured client: answer it there.
            (Some(pxe), true) => (pxe, from),
            _ if !req.giaddr.is_unspecified() => (
                &self.socket,
                SocketAddr::from((req.giaddr, self.config.server_port)),
            ),
            _ if !req.ciaddr.is_unspecified() && reply.kind() != Some(kind::NAK) => (
                &self.socket,
                SocketAddr::from((req.ciaddr, self.config.client_port)),
            ),
            _ => (
                &self.socket,
                SocketAddr::from((Ipv4Addr::BROADCAST, self.config.client_port)),
            ),
        };
        tracing::debug!(client = ?req.mac(), ip = %reply.yiaddr, ?from, kind = ?reply.kind(), "DHCP reply");
        if let Err(e) = socket.send_to(&reply.to_bytes(), to).await {
            tracing::warn!(error = %e, %to, "DHCP send failed");
        }
    }
}
