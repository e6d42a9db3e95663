//! The server's library side: loading the configuration and running everything
//! `ferricd` serves — the API, the conductor, the boot services, the network API —
//! until SIGTERM or Ctrl-C. `ferricd` is a thin `main` over it; `ferric demo` runs
//! it in its own process.

mod boot_metrics;
mod boot_policy;
pub mod config;
mod discovery;
mod identity;
mod inspection_rules_config;
mod inspector_config;
mod ipxe_files;
mod lease_store;
mod switches;
mod tls;

use axum::extract::Request;
use axum::ServiceExt;
use std::sync::Arc;
use std::time::Duration;

use ferric_api::{service, AppState};
use ferric_conductor::{Conductor, RingCache};
use ferric_db::{redact_url, Datastore};
use tokio::net::TcpListener;

pub use config::{Cli, Settings};

/// Opens (creating and migrating as needed) the database the settings name.
pub async fn open_database(settings: &Settings) -> Result<Datastore, String> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            format!(
                "cannot create data directory {}: {e}",
                settings.data_dir.display()
            )
        })?;
    }
    Datastore::connect(&settings.database_url)
        .await
        .map_err(|e| e.to_string())
}

/// Tells a request it came over HTTPS, so the links written for it say https.
fn mark_https(mut request: Request) -> Request {
    request.headers_mut().insert(
        "x-forwarded-proto",
        axum::http::HeaderValue::from_static("https"),
    );
    request
}

/// `service` behind [`mark_https`].
fn https<S>(service: S) -> tower::util::MapRequest<S, fn(Request) -> Request> {
    tower::util::MapRequest::new(service, mark_https as fn(Request) -> Request)
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> Result<(), String> {
    // A bad certificate stops ferricd before anything else starts.
    let certificate = match &settings.tls {
        Some((cert, key)) => Some(tls::Certificate::load(cert, key)?),
        None => None,
    };
    let db = open_database(&settings).await?;
    tracing::info!(database = %redact_url(&settings.database_url), "database ready");
    let identity = match settings.identity.clone() {
        None => None,
        Some(cfg) => Some(
            identity::start(
                &db,
                cfg,
                &settings.data_dir,
                settings.local_tokens.as_deref(),
            )
            .await?,
        ),
    };
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    // Only with --allow-insecure-noauth: without it the settings were refused.
    if let Some((what, addr)) = config::exposed_without_auth(
        &settings.api.auth,
        settings.listen,
        settings.network_api_listen,
    ) {
        tracing::warn!(
            listen = %addr,
            "the {what} has no authentication and listens beyond loopback: anyone who can reach it can manage every node"
        );
    }
    ferric_drivers::direct::configure(settings.agent.clone());
    ferric_net::service::configure(
        db.clone(),
        switches::build(&settings.switches, &settings.data_dir)?,
    );
    if let Some(external) = &settings.external_neutron {
        tracing::info!(url = %external.url, "the neutron network interface uses an external Neutron");
        ferric_net::external::configure(db.clone(), external.clone())?;
    }
    ferric_drivers::image_cache::configure(settings.image_cache.clone())?;
    let conductor = Conductor::new(db.clone(), settings.conductor.clone());
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
    let metrics = Arc::new(ferric_api::metrics::Metrics::default());
    let boot_root = &settings.netboot.root;
    std::fs::create_dir_all(boot_root)
        .map_err(|e| format!("cannot create the boot root {}: {e}", boot_root.display()))?;
    let ipxe = ipxe_files::install(&settings.ipxe_dir, boot_root);
    tracing::info!(root = %boot_root.display(), ipxe = ?ipxe, "boot root ready");
    ferric_drivers::netboot::configure(settings.netboot.clone());
    let tftp = match &settings.tftp {
        None => None,
        Some(cfg) => {
            let server = ferric_boot::tftp::TftpServer::bind(cfg.clone())
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(listen = %server.local_addr(), root = %cfg.root.display(), "TFTP serving");
            boot_metrics::tftp(&metrics, &server.stats());
            Some(tokio::spawn(server.run()))
        }
    };
    let dhcp = match &settings.dhcp {
        None => None,
        Some((cfg, files)) => {
            let socket = ferric_boot::dhcp::open_socket(cfg).map_err(|e| {
                format!(
                    "cannot serve DHCP on {}: {e}",
                    cfg.interface.as_deref().unwrap_or("?")
                )
            })?;
            let (policy, policy_tasks) = boot_policy::DbBootPolicy::start(
                db.clone(),
                files.clone(),
                settings.discovery_driver.clone(),
            );
            let pxe_socket = ferric_boot::dhcp::open_pxe_socket(cfg)
                .map_err(|e| format!("cannot serve ProxyDHCP on port 4011: {e}"))?;
            let restored = lease_store::load(&db, cfg.server_ip)
                .await
                .map_err(|e| format!("cannot read the DHCP leases: {e}"))?;
            let (store, writer) = lease_store::DbLeaseStore::start(db.clone(), cfg.server_ip);
            let server = ferric_boot::dhcp::DhcpServer::from_socket(socket, cfg.clone(), policy)
                .map_err(|e| e.to_string())?
                .with_store(Arc::new(store), &restored);
            let server = match pxe_socket {
                Some(sock) => server.with_pxe_socket(sock).map_err(|e| e.to_string())?,
                None => server,
            };
            tracing::info!(leases = restored.len(), "DHCP leases restored");
            tracing::info!(interface = cfg.interface.as_deref().unwrap_or(""), server_ip = %cfg.server_ip, proxy = cfg.proxy_port.is_some(), "DHCP serving");
            boot_metrics::dhcp(&metrics, &server.stats());
            let mut tasks = policy_tasks;
            tasks.push(tokio::spawn(server.run()));
            Some((tasks, writer))
        }
    };
    let ra = settings.router_advertisements.as_deref().and_then(|iface| {
        match ferric_boot::ra::RouterAdvertiser::open(iface) {
            Ok(ra) => {
                tracing::info!(interface = iface, "answering IPv6 router solicitations");
                boot_metrics::ra(&metrics, &ra.stats());
                Some(tokio::spawn(ra.run()))
            }
            Err(e) => {
                tracing::warn!(interface = iface, error = %e, "cannot answer IPv6 router solicitations; iPXE will wait for IPv6 on each boot");
                None
            }
        }
    });
    let heartbeat = conductor
        .register(Duration::from_secs(10))
        .await
        .map_err(|e| format!("cannot register the conductor: {e}"))?;
    let wait_timeouts = conductor.start_wait_timeouts(
        settings.wait_timeouts.check_interval(),
        settings.wait_timeouts,
    );
    let power_sync = (settings.sync_power_state_interval > 0).then(|| {
        conductor.start_power_sync(Duration::from_secs(settings.sync_power_state_interval))
    });
    tracing::info!(
        host = conductor.host(),
        workers = settings.conductor.workers,
        "conductor ready"
    );
    let state = AppState {
        db: db.clone(),
        config: settings.api.clone(),
        conductor: Arc::new(conductor.clone()),
        rings: Arc::new(RingCache::new(db.clone(), Duration::from_secs(2))),
        metrics,
    };
    let app = match &identity {
        Some(id) => ferric_api::service_with(state.clone(), "/identity", id.router()),
        None => service(state.clone()),
    };
    let boot_server = match settings.http_boot_listen {
        None => None,
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot serve HTTP boot on {addr}: {e}"))?;
            let boot = ferric_api::boot_service(state.clone());
            tracing::info!(listen = %addr, "HTTP boot serving");
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, boot).await {
                    tracing::error!(error = %e, "HTTP boot server failed");
                }
            }))
        }
    };
    if let Some(c) = &certificate {
        tls::reload_on_sighup(c.clone())?;
    }
    let network_api = match settings.network_api_listen {
        None => None,
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot serve the network API on {addr}: {e}"))?;
            let api = ferric_api::neutron::service(state.clone());
            tracing::info!(listen = %addr, tls = certificate.is_some(), "network API serving");
            let certificate = certificate.clone();
            Some(tokio::spawn(async move {
                let served = match certificate {
                    Some(c) => match tls::listen(listener, c) {
                        Ok(l) => {
                            axum::serve(l, ServiceExt::<Request>::into_make_service(https(api)))
                                .await
                        }
                        Err(e) => Err(e),
                    },
                    None => axum::serve(listener, api).await,
                };
                if let Err(e) = served {
                    tracing::error!(error = %e, "network API failed");
                }
            }))
        }
    };
    tracing::info!(listen = %settings.listen, tls = certificate.is_some(), "Ferric API serving");
    match certificate {
        Some(c) => {
            let listener = tls::listen(listener, c).map_err(|e| format!("TLS listener: {e}"))?;
            axum::serve(
                listener,
                ServiceExt::<Request>::into_make_service(https(app)),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
        }
        None => {
            axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
    }
    .map_err(|e| format!("server error: {e}"))?;
    heartbeat.abort();
    wait_timeouts.abort();
    for task in [tftp, ra, boot_server, network_api].into_iter().flatten() {
        task.abort();
    }
    if let Some((tasks, lease_writer)) = dhcp {
        for task in tasks {
            task.abort();
        }
        // The server is gone, so is its store's queue: the writer drains it and ends.
        let _ = tokio::time::timeout(Duration::from_secs(5), lease_writer).await;
    }
    if let Some(sync) = power_sync {
        sync.abort();
    }
    if let Err(e) = conductor.unregister().await {
        tracing::warn!(error = %e, "could not mark the conductor offline");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
