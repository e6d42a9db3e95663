//! One read transfer: option negotiation (OACK), then the file in numbered blocks,
//! each sent again on timeout up to the retry limit. Block numbers wrap past 65535
//! so files of any size go through. Duplicate acknowledgements are ignored (never
//! answered with a resend: the "Sorcerer's Apprentice" bug of RFC 1350).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::UdpSocket;

use super::packet::{self, Packet, Request};
use super::{TftpConfig, TftpStats};

const DEFAULT_BLKSIZE: usize = 512;
const MAX_BLKSIZE: usize = 65_464;

/// The options the server accepts, as answered in the OACK.
struct Negotiated {
    blksize: usize,
    timeout: Duration,
    answer: Vec<(String, String)>,
}

fn negotiate(req: &Request, size: u64, default_timeout: Duration) -> Negotiated {
    let mut n = Negotiated {
        blksize: DEFAULT_BLKSIZE,
        timeout: default_timeout,
        answer: Vec::new(),
    };
    for (name, value) in &req.options {
        match name.as_str() {
            "blksize" => {
                if let Ok(v) = value.parse::<usize>() {
                    if v >= 8 {
                        n.blksize = v.min(MAX_BLKSIZE);
                        n.answer.push((name.clone(), n.blksize.to_string()));
                    }
                }
            }
            // Declined for empty files: some clients (curl) take a zero size as invalid.
            "tsize" if size > 0 => n.answer.push((name.clone(), size.to_string())),
            "timeout" => {
                if let Ok(v) = value.parse::<u64>() {
                    if (1..=255).contains(&v) {
                        n.timeout = Duration::from_secs(v);
                        n.answer.push((name.clone(), v.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    n
}

/// Sends `pkt` until the acknowledgement of `block` arrives.
async fn exchange(
    sock: &UdpSocket,
    pkt: &[u8],
    block: u16,
    timeout: Duration,
    retries: u32,
) -> Result<(), String> {
    let mut buf = [0u8; 516];
    for _ in 0..=retries {
        sock.send(pkt).await.map_err(|e| e.to_string())?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await;
            let n = match got {
                Err(_) => break,
                Ok(Err(e)) => return Err(e.to_string()),
                Ok(Ok(n)) => n,
            };
            match packet::parse(&buf[..n]) {
                Some(Packet::Ack(b)) if b == block => return Ok(()),
                Some(Packet::Error(code, msg)) => {
                    return Err(format!("client error {code}: {msg}"))
                }
                // An old acknowledgement or junk: keep waiting for ours.
                _ => {}
            }
        }
    }
    Err(format!("no acknowledgement of block {block}"))
}

/// Serves `file` to `peer` from a new socket on `local`'s address.
pub async fn send(
    local: SocketAddr,
    peer: SocketAddr,
    file: PathBuf,
    req: Request,
    config: &TftpConfig,
    stats: &TftpStats,
) {
    let result = run(local, peer, &file, &req, config, stats).await;
    match result {
        Ok(bytes) => {
            stats.completed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, file = %req.filename, bytes, "TFTP transfer done");
        }
        Err(e) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%peer, file = %req.filename, error = %e, "TFTP transfer failed");
        }
    }
}

async fn run(
    local: SocketAddr,
    peer: SocketAddr,
    path: &PathBuf,
    req: &Request,
    config: &TftpConfig,
    stats: &TftpStats,
) -> Result<u64, String> {
    let sock = UdpSocket::bind(SocketAddr::new(local.ip(), 0))
        .await
        .map_err(|e| e.to_string())?;
    sock.connect(peer).await.map_err(|e| e.to_string())?;
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            let _ = sock
                .send(&packet::error(packet::ERR_NOT_FOUND, "File not found"))
                .await;
            return Err(e.to_string());
        }
    };
    let size = file.metadata().await.map_err(|e| e.to_string())?.len();
    // Read ahead in large pieces: one blocking read per block would cost more than
    // the network round trip on loopback.
    let mut file = tokio::io::BufReader::with_capacity(256 * 1024, file);
    let opts = negotiate(req, size, config.timeout);
    if !opts.answer.is_empty() {
        exchange(
            &sock,
            &packet::oack(&opts.answer),
            0,
            opts.timeout,
            config.retries,
        )
        .await?;
    }
    let mut block: u16 = 1;
    let mut sent: u64 = 0;
    let mut buf = vec![0u8; opts.blksize];
    loop {
        let mut filled = 0;
        while filled < opts.blksize {
            let n = file
                .read(&mut buf[filled..])
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        let pkt = packet::data(block, &buf[..filled]);
        exchange(&sock, &pkt, block, opts.timeout, config.retries).await?;
        sent += filled as u64;
        stats.bytes_sent.fetch_add(filled as u64, Ordering::Relaxed);
        if filled < opts.blksize {
            return Ok(sent);
        }
        block = block.wrapping_add(1);
    }
}
