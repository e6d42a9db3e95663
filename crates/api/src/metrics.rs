//! `GET /metrics`: the process's metrics in the Prometheus text format. Every
//! crate records through the `metrics` facade; this module installs the
//! Prometheus recorder behind it (once per process), runs the readers registered
//! for values kept elsewhere (the boot services' counters, the worker pool), sets
//! the fleet gauges from the database, and renders.

use std::sync::{Arc, OnceLock, RwLock};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use ferric_db::Datastore;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Buckets of every `…_seconds` histogram: API latencies at the low end, steps
/// and provision states (a deploy, a disk erase) at the high end.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0, 3600.0, 7200.0,
];

/// The counters of what `/boot/` and `/images/` serve.
const FILE_COUNTERS: &[(&str, &str)] = &[
    (
        "ferric_http_boot_files_total",
        "Files served by the HTTP boot server.",
    ),
    (
        "ferric_http_boot_refused_total",
        "HTTP boot requests for missing or forbidden files.",
    ),
    (
        "ferric_image_downloads_total",
        "Cached images served to agents.",
    ),
];

type Reader = Box<dyn Fn() + Send + Sync>;

/// The process's metrics: the recorder's handle and the readers run before each
/// scrape.
pub struct Metrics {
    handle: PrometheusHandle,
    readers: RwLock<Vec<Reader>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            handle: recorder(),
            readers: RwLock::default(),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// The process's Prometheus recorder, installed as the `metrics` facade's global
/// recorder on first use.
fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed: /metrics stays empty");
            }
            for (name, help) in FILE_COUNTERS {
                metrics::describe_counter!(*name, *help);
                metrics::counter!(*name).increment(0);
            }
            crate::request_metrics::describe();
            crate::fleet_gauges::describe();
            handle
        })
        .clone()
}

impl Metrics {
    /// Adds a reader run before every scrape, for values kept outside the
    /// facade (it sets them through it: `counter!(…).absolute(…)`, `gauge!(…).set(…)`).
    pub fn on_scrape(&self, read: impl Fn() + Send + Sync + 'static) {
        self.readers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(read));
    }

    /// Drains the histograms' recent samples; run every few seconds so they do not
    /// pile up between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition text, with the fleet gauges read from `db` when given.
    pub async fn render(&self, db: Option<&Datastore>) -> String {
        for read in self
            .readers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            read();
        }
        if let Some(db) = db {
            crate::fleet_gauges::update(db).await;
        }
        self.handle.render()
    }

    /// `/metrics` for a listener of its own (the conductor's RPC, the HTTP boot
    /// server): a router with that one route.
    pub fn router(self: &Arc<Self>, db: Datastore) -> axum::Router {
        let this = self.clone();
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || async move { exposition(this.render(Some(&db)).await) }),
        )
    }
}

fn exposition(text: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    exposition(state.metrics.render(Some(&state.db)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_facade_metrics_and_readers() {
        let m = Metrics::default();
        metrics::counter!("ferric_test_things_total").increment(3);
        m.on_scrape(|| metrics::counter!("ferric_test_read_total").absolute(7));
        metrics::histogram!("ferric_test_wait_seconds").record(0.2);
        let text = m.render(None).await;
        assert!(text.contains("ferric_test_things_total 3\n"), "{text}");
        assert!(text.contains("ferric_test_read_total 7\n"), "{text}");
        assert!(
            text.contains("ferric_test_wait_seconds_bucket{le=\"0.25\"} 1\n"),
            "{text}"
        );
    }
}
