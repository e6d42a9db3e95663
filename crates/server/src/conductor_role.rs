//! The conductor role: a conductor over the database — start-up recovery of what a
//! previous run left locked, registration and heartbeats, takeover from dead
//! peers, the wait timeouts and power sync — and, with `--rpc-listen`, its
//! JSON-RPC listener (HTTPS when `[rpc] tls_cert_file` is set) for API processes
//! elsewhere; at the end, draining and leaving the cluster.

use std::sync::Arc;
use std::time::Duration;

use ferric_api::metrics::Metrics;
use ferric_conductor::Conductor;
use ferric_db::Datastore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{tls, Settings};

/// A running conductor and its background tasks.
pub struct RunningConductor {
    pub conductor: Conductor,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the conductor role.
pub async fn start(
    settings: &Settings,
    db: &Datastore,
    drivers: ferric_drivers::Drivers,
    metrics: &Arc<Metrics>,
    serve_metrics: bool,
) -> Result<RunningConductor, String> {
    let config = ferric_conductor::ConductorConfig {
        drivers,
        ..settings.conductor.clone()
    };
    let conductor = Conductor::new(db.clone(), config);
    {
        let conductor = conductor.clone();
        metrics.on_scrape(move || conductor.record_worker_use());
    }
    let recovered = conductor
        .recover()
        .await
        .map_err(|e| format!("start-up recovery failed: {e}"))?;
    if recovered > 0 {
        tracing::warn!(
            nodes = recovered,
            "released nodes left locked by a previous run of this conductor"
        );
    }
    let mut tasks = vec![conductor
        .register()
        .await
        .map_err(|e| format!("cannot register the conductor: {e}"))?];
    tasks.push(conductor.start_wait_timeouts(
        settings.wait_timeouts.check_interval(),
        settings.wait_timeouts,
    ));
    tasks.push(conductor.start_takeover(settings.conductor.heartbeats.interval));
    if settings.sync_power_state_interval > 0 {
        tasks.push(
            conductor.start_power_sync(Duration::from_secs(settings.sync_power_state_interval)),
        );
    }
    let metrics = serve_metrics.then(|| metrics.router(db.clone()));
    if let Some(task) = rpc_listener(settings, &conductor, metrics).await? {
        tasks.push(task);
    }
    tracing::info!(
        host = conductor.host(),
        group = %settings.conductor.group,
        workers = settings.conductor.workers,
        rpc = settings.rpc.url.as_deref().unwrap_or("none"),
        "conductor ready"
    );
    Ok(RunningConductor { conductor, tasks })
}

/// Serves the conductor's RPC, when it has a listener.
async fn rpc_listener(
    settings: &Settings,
    conductor: &Conductor,
    metrics: Option<axum::Router>,
) -> Result<Option<JoinHandle<()>>, String> {
    let (Some(addr), Some(secret)) = (settings.rpc.listen, settings.rpc.secret.as_deref()) else {
        return Ok(None);
    };
    let certificate = match &settings.rpc.tls {
        Some((cert, key)) => Some(tls::Certificate::load(cert, key)?),
        None => None,
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for RPC on {addr}: {e}"))?;
    // `/metrics` beside the RPC when this is where the process serves it.
    let mut app = ferric_conductor_api::server::router(Arc::new(conductor.clone()), secret);
    if let Some(metrics) = metrics {
        app = app.merge(metrics);
    }
    tracing::info!(listen = %addr, tls = certificate.is_some(), "conductor RPC serving");
    Ok(Some(tokio::spawn(async move {
        let served = match certificate {
            Some(c) => match tls::listen(listener, c) {
                Ok(l) => axum::serve(l, app).await,
                Err(e) => Err(e),
            },
            None => axum::serve(listener, app).await,
        };
        if let Err(e) = served {
            tracing::error!(error = %e, "conductor RPC listener failed");
        }
    })))
}

impl RunningConductor {
    /// Leaves the rings and waits, up to `limit`, for the work it runs (SIGTERM:
    /// `graceful_shutdown_timeout`; SIGUSR2, a drain: `drain_shutdown_timeout`).
    /// It keeps heartbeating meanwhile, so no peer takes it for dead.
    pub async fn drain(&self, limit: Duration) {
        self.conductor.leave().await;
        tracing::info!(limit = ?limit, "conductor leaving: no new work, waiting for what runs");
        if self.conductor.wait_idle(limit).await {
            tracing::info!("conductor idle");
        }
    }

    /// Fails and releases what it still holds, marks itself offline, and stops its
    /// background work.
    pub async fn stop(self) {
        // First nothing new: no RPC, no heartbeat, no takeover or periodic work.
        for task in self.tasks {
            task.abort();
        }
        match self.conductor.depart().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(nodes = n, "released nodes still held at the stop"),
            Err(e) => tracing::warn!(error = %e, "could not leave the cluster cleanly"),
        }
    }
}
