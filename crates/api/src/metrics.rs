//! `GET /metrics`: counters in the Prometheus text format. The boot services
//! (DHCP, TFTP, router advertisements) register readers for their own counters; the
//! HTTP boot server and the image endpoint count here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

type Reader = Box<dyn Fn() -> u64 + Send + Sync>;

struct Counter {
    name: &'static str,
    help: &'static str,
    read: Reader,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    registered: RwLock<Vec<Counter>>,
    /// Files served by `/boot/` (scripts, kernels, ramdisks, iPXE binaries).
    pub http_boot_files: AtomicU64,
    /// `/boot/` requests for files that are not there (or outside the root).
    pub http_boot_refused: AtomicU64,
    /// Cached images served at `/images/`.
    pub image_downloads: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Adds a counter read on every scrape (`name` without the `_total` suffix).
    pub fn counter(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> u64 + Send + Sync + 'static,
    ) {
        self.registered
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Counter {
                name,
                help,
                read: Box::new(read),
            });
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut one = |name: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name}_total {help}\n# TYPE {name}_total counter\n{name}_total {value}\n"
            ));
        };
        let own = [
            (
                "ferric_http_boot_files",
                "Files served by the HTTP boot server.",
                &self.http_boot_files,
            ),
            (
                "ferric_http_boot_refused",
                "HTTP boot requests for missing or forbidden files.",
                &self.http_boot_refused,
            ),
            (
                "ferric_image_downloads",
                "Cached images served to agents.",
                &self.image_downloads,
            ),
        ];
        for (name, help, counter) in own {
            one(name, help, counter.load(Ordering::Relaxed));
        }
        for c in self
            .registered
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            one(c.name, c.help, (c.read)());
        }
        out
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_own_and_registered_counters() {
        let m = Metrics::default();
        m.http_boot_files.fetch_add(3, Ordering::Relaxed);
        m.counter("ferric_dhcp_offers", "DHCP offers sent.", || 7);
        let text = m.render();
        assert!(text.contains(
            "# TYPE ferric_http_boot_files_total counter\nferric_http_boot_files_total 3\n"
        ));
        assert!(text.contains("# HELP ferric_dhcp_offers_total DHCP offers sent.\n"));
        assert!(text.contains("ferric_dhcp_offers_total 7\n"));
    }
}
