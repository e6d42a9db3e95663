//! A read-only TFTP server (RFC 1350) with the option extension (RFC 2347) and the
//! `blksize` (RFC 2348), `tsize` and `timeout` (RFC 2349) options — what PXE and
//! iPXE firmware use to fetch their first boot file.
//!
//! Every transfer runs on its own task and socket (its TID), at most
//! `max_transfers` at once (more are refused with an error packet), with a
//! per-packet timeout and bounded retransmissions. Files are served only from under
//! the root: `..` components are refused and symlinks are resolved before the
//! check, so none can lead outside it. Malformed datagrams are dropped and counted.
//! Files kept elsewhere (a node's boot files, in the database) are brought into the
//! root by an [`OnDemand`] source just before a request for them is resolved.

pub mod packet;
mod transfer;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

use crate::root_path::Refused;
use packet::Packet;

/// Settings of the TFTP server.
#[derive(Debug, Clone)]
pub struct TftpConfig {
    pub listen: SocketAddr,
    /// The directory served; nothing outside it is reachable.
    pub root: PathBuf,
    /// Transfers running at once; more are refused.
    pub max_transfers: usize,
    /// How long to wait for an acknowledgement before sending again (a client's
    /// `timeout` option overrides it for its transfer).
    pub timeout: Duration,
    /// How many times a packet is sent again before the transfer is abandoned.
    pub retries: u32,
}

impl TftpConfig {
    pub fn new(listen: SocketAddr, root: PathBuf) -> Self {
        Self {
            listen,
            root,
            max_transfers: 256,
            timeout: Duration::from_secs(2),
            retries: 5,
        }
    }
}

/// Counters, for metrics and tests.
#[derive(Debug, Default)]
pub struct TftpStats {
    pub requests: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub refused: AtomicU64,
    pub malformed: AtomicU64,
    pub bytes_sent: AtomicU64,
}

impl TftpStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Files that live outside the root and are written into it when asked for.
pub trait OnDemand: Send + Sync {
    /// Brings `name` (relative to the root, as requested) up to date in the root,
    /// or removes it when it is gone; names it does not keep are left alone.
    fn refresh<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// A bound TFTP server.
pub struct TftpServer {
    socket: UdpSocket,
    config: TftpConfig,
    root: PathBuf,
    stats: Arc<TftpStats>,
    slots: Arc<Semaphore>,
    on_demand: Option<Arc<dyn OnDemand>>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum TftpError {
    #[error("TFTP root {0}: {1}")]
    Root(String, std::io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

impl TftpServer {
    pub async fn bind(config: TftpConfig) -> Result<Self, TftpError> {
        let root = config
            .root
            .canonicalize()
            .map_err(|e| TftpError::Root(config.root.display().to_string(), e))?;
        let socket = UdpSocket::bind(config.listen)
            .await
            .map_err(|e| TftpError::Bind(config.listen, e))?;
        Ok(Self {
            socket,
            slots: Arc::new(Semaphore::new(config.max_transfers.max(1))),
            config,
            root,
            stats: Arc::default(),
            on_demand: None,
        })
    }

    /// Asks `source` to bring each requested file up to date before serving it.
    pub fn with_on_demand(mut self, source: Arc<dyn OnDemand>) -> Self {
        self.on_demand = Some(source);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap_or(self.config.listen)
    }

    pub fn stats(&self) -> Arc<TftpStats> {
        self.stats.clone()
    }

    /// Serves until the task is dropped.
    pub async fn run(self) {
        let server = Arc::new(self);
        let mut buf = vec![0u8; 2048];
        loop {
            let (n, peer) = match server.socket.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "TFTP receive failed");
                    continue;
                }
            };
            let Some(Packet::Request(req)) = packet::parse(&buf[..n]) else {
                server.stats.malformed.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            server.stats.requests.fetch_add(1, Ordering::Relaxed);
            // Its own task: bringing a file into the root may wait on a database.
            let s = server.clone();
            tokio::spawn(async move { s.answer(req, peer).await });
        }
    }

    /// Starts the transfer `req` asks for, or refuses it.
    async fn answer(&self, req: packet::Request, peer: SocketAddr) {
        let refuse = |code: u16, msg: &str| {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%peer, file = %req.filename, msg, "TFTP request refused");
            packet::error(code, msg)
        };
        let answer = if req.write {
            Some(refuse(packet::ERR_ACCESS, "This server is read-only"))
        } else if req.mode != "octet" && req.mode != "netascii" {
            Some(refuse(packet::ERR_ILLEGAL, "Unsupported transfer mode"))
        } else {
            if let Some(source) = &self.on_demand {
                source.refresh(&req.filename).await;
            }
            match crate::root_path::resolve(&self.root, &req.filename) {
                Err(Refused::NotFound) => Some(refuse(packet::ERR_NOT_FOUND, "File not found")),
                Err(Refused::Denied) => Some(refuse(packet::ERR_ACCESS, "Access violation")),
                Ok(file) => match self.slots.clone().try_acquire_owned() {
                    Err(_) => Some(refuse(packet::ERR_NOT_DEFINED, "Server busy, try again")),
                    Ok(slot) => {
                        let _slot = slot;
                        let local = self.local_addr();
                        transfer::send(local, peer, file, req, &self.config, &self.stats).await;
                        None
                    }
                },
            }
        };
        if let Some(pkt) = answer {
            let _ = self.socket.send_to(&pkt, peer).await;
        }
    }
}
