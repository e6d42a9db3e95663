//! The boot services' counters (DHCP, TFTP, router advertisements) on `/metrics`:
//! the services count in their own atomics; one table per service names each
//! counter, and a reader copies them into the metrics facade at each scrape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferric_api::metrics::Metrics;
use ferric_boot::dhcp::DhcpStats;
use ferric_boot::ra::RaStats;
use ferric_boot::tftp::TftpStats;

/// A counter: its name, its help text, and where the service keeps it.
type Counter<S> = (&'static str, &'static str, fn(&S) -> &AtomicU64);

const DHCP: &[Counter<DhcpStats>] = &[
    (
        "ferric_dhcp_received_total",
        "DHCP datagrams received.",
        |s| &s.received,
    ),
    (
        "ferric_dhcp_malformed_total",
        "DHCP datagrams dropped as malformed.",
        |s| &s.malformed,
    ),
    (
        "ferric_dhcp_ignored_total",
        "DHCP requests not answered (unknown MACs, other servers).",
        |s| &s.ignored,
    ),
    ("ferric_dhcp_offers_total", "DHCP offers sent.", |s| {
        &s.offers
    }),
    (
        "ferric_dhcp_acks_total",
        "DHCP acknowledgements sent.",
        |s| &s.acks,
    ),
    (
        "ferric_dhcp_naks_total",
        "DHCP negative acknowledgements sent.",
        |s| &s.naks,
    ),
];

const TFTP: &[Counter<TftpStats>] = &[
    (
        "ferric_tftp_requests_total",
        "TFTP read requests received.",
        |s| &s.requests,
    ),
    (
        "ferric_tftp_completed_total",
        "TFTP transfers completed.",
        |s| &s.completed,
    ),
    (
        "ferric_tftp_failed_total",
        "TFTP transfers that failed or timed out.",
        |s| &s.failed,
    ),
    ("ferric_tftp_refused_total", "TFTP requests refused.", |s| {
        &s.refused
    }),
    (
        "ferric_tftp_malformed_total",
        "TFTP datagrams dropped as malformed.",
        |s| &s.malformed,
    ),
    (
        "ferric_tftp_bytes_sent_total",
        "Bytes sent over TFTP.",
        |s| &s.bytes_sent,
    ),
];

const RA: &[Counter<RaStats>] = &[
    (
        "ferric_ra_solicitations_total",
        "IPv6 router solicitations heard.",
        |s| &s.solicitations,
    ),
    (
        "ferric_ra_advertisements_total",
        "IPv6 router advertisements sent.",
        |s| &s.advertisements,
    ),
];

/// Describes `table`'s counters and copies them from `stats` at every scrape.
fn register<S: Send + Sync + 'static>(
    metrics: &Metrics,
    stats: &Arc<S>,
    table: &'static [Counter<S>],
) {
    for (name, help, _) in table {
        metrics::describe_counter!(*name, *help);
    }
    let stats = stats.clone();
    metrics.on_scrape(move || {
        for (name, _, field) in table {
            metrics::counter!(*name).absolute(field(&stats).load(Ordering::Relaxed));
        }
    });
}

pub fn dhcp(m: &Metrics, s: &Arc<DhcpStats>) {
    register(m, s, DHCP);
}

pub fn tftp(m: &Metrics, s: &Arc<TftpStats>) {
    register(m, s, TFTP);
}

pub fn ra(m: &Metrics, s: &Arc<RaStats>) {
    register(m, s, RA);
}
