//! Registers the boot services' counters (DHCP, TFTP, router advertisements) with
//! `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferric_api::metrics::Metrics;
use ferric_boot::dhcp::DhcpStats;
use ferric_boot::ra::RaStats;
use ferric_boot::tftp::TftpStats;

fn add<S: Send + Sync + 'static>(
    metrics: &Metrics,
    stats: &Arc<S>,
    name: &'static str,
    help: &'static str,
    field: fn(&S) -> &AtomicU64,
) {
    let stats = stats.clone();
    metrics.counter(name, help, move || field(&stats).load(Ordering::Relaxed));
}

pub fn dhcp(m: &Metrics, s: &Arc<DhcpStats>) {
    add(
        m,
        s,
        "ferric_dhcp_received",
        "DHCP datagrams received.",
        |s| &s.received,
    );
    add(
        m,
        s,
        "ferric_dhcp_malformed",
        "DHCP datagrams dropped as malformed.",
        |s| &s.malformed,
    );
    add(
        m,
        s,
        "ferric_dhcp_ignored",
        "DHCP requests not answered (unknown MACs, other servers).",
        |s| &s.ignored,
    );
    add(m, s, "ferric_dhcp_offers", "DHCP offers sent.", |s| {
        &s.offers
    });
    add(
        m,
        s,
        "ferric_dhcp_acks",
        "DHCP acknowledgements sent.",
        |s| &s.acks,
    );
    add(
        m,
        s,
        "ferric_dhcp_naks",
        "DHCP negative acknowledgements sent.",
        |s| &s.naks,
    );
}

pub fn tftp(m: &Metrics, s: &Arc<TftpStats>) {
    add(
        m,
        s,
        "ferric_tftp_requests",
        "TFTP read requests received.",
        |s| &s.requests,
    );
    add(
        m,
        s,
        "ferric_tftp_completed",
        "TFTP transfers completed.",
        |s| &s.completed,
    );
    add(
        m,
        s,
        "ferric_tftp_failed",
        "TFTP transfers that failed or timed out.",
        |s| &s.failed,
    );
    add(m, s, "ferric_tftp_refused", "TFTP requests refused.", |s| {
        &s.refused
    });
    add(
        m,
        s,
        "ferric_tftp_malformed",
        "TFTP datagrams dropped as malformed.",
        |s| &s.malformed,
    );
    add(
        m,
        s,
        "ferric_tftp_bytes_sent",
        "Bytes sent over TFTP.",
        |s| &s.bytes_sent,
    );
}

pub fn ra(m: &Metrics, s: &Arc<RaStats>) {
    add(
        m,
        s,
        "ferric_ra_solicitations",
        "IPv6 router solicitations heard.",
        |s| &s.solicitations,
    );
    add(
        m,
        s,
        "ferric_ra_advertisements",
        "IPv6 router advertisements sent.",
        |s| &s.advertisements,
    );
}
