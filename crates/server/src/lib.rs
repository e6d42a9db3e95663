//! The server's library side: loading the configuration and running the roles
//! `ferricd` serves — the API (with the network API), the conductor (with its RPC
//! listener), the boot services — all of them by default, until SIGTERM or Ctrl-C
//! (or SIGUSR2, a drain: the conductor's long work may finish first). `ferricd` is a thin `main` over it; `ferric demo` runs
//! it in its own process.

mod boot_files;
mod boot_metrics;
mod boot_policy;
mod boot_role;
pub mod cluster_config;
mod conductor_role;
pub mod config;
mod discovery;
mod identity;
mod inspection_rules_config;
mod inspector_config;
mod ipxe_files;
mod lease_store;
pub mod options;
mod options_table;
mod switches;
mod tls;

use axum::extract::Request;
use axum::ServiceExt;
use std::sync::Arc;

use ferric_api::{service, AppState};
use ferric_conductor::Conductor;
use ferric_conductor_api::router::{ConductorRouter, LocalConductor, RemoteAccess};
use ferric_conductor_api::RingCache;
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

/// The API's way to its conductors: this process's own when it runs one, others
/// over RPC when it holds their secret.
fn conductor_router(
    settings: &Settings,
    db: &Datastore,
    rings: &Arc<RingCache>,
    local: Option<&Conductor>,
) -> Result<ConductorRouter, String> {
    let local = local.map(|c| LocalConductor {
        host: c.host().to_string(),
        conductor: Arc::new(c.clone()),
    });
    let remote = match &settings.rpc.secret {
        Some(secret) => Some(RemoteAccess {
            secret: secret.clone(),
            http: ferric_conductor_api::client::http_client(settings.rpc.ca_file.as_deref())?,
        }),
        None => None,
    };
    Ok(ConductorRouter::new(
        db.clone(),
        rings.clone(),
        local,
        remote,
    ))
}

/// Runs the server until SIGTERM or Ctrl-C: the roles the settings name.
pub async fn run(settings: Settings) -> Result<(), String> {
    let mut signals = StopSignals::install()?;
    let roles = settings.roles;
    // A bad certificate stops ferricd before anything else starts.
    let certificate = match (&settings.tls, roles.api || roles.boot) {
        (Some((cert, key)), true) => Some(tls::Certificate::load(cert, key)?),
        _ => None,
    };
    let db = open_database(&settings).await?;
    tracing::info!(database = %redact_url(&settings.database_url), ?roles, "database ready");
    let identity = match (settings.identity.clone(), roles.api) {
        (Some(cfg), true) => Some(
            identity::start(
                &db,
                cfg,
                &settings.data_dir,
                settings.local_tokens.as_deref(),
            )
            .await?,
        ),
        _ => None,
    };
    let listener = match roles.api {
        true => Some(
            TcpListener::bind(settings.listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?,
        ),
        false => None,
    };
    // Only with --allow-insecure-noauth: without it the settings were refused.
    if let (true, Some((what, addr))) = (
        roles.api,
        config::exposed_without_auth(
            &settings.api.auth,
            settings.listen,
            settings.network_api_listen,
        ),
    ) {
        tracing::warn!(
            listen = %addr,
            "the {what} has no authentication and listens beyond loopback: anyone who can reach it can manage every node"
        );
    }
    let image_cache = Arc::new(
        ferric_drivers::image_cache::ImageCache::open(settings.image_cache.clone())?
            .with_registry(db.clone()),
    );
    let external = match &settings.external_neutron {
        Some(external) => {
            tracing::info!(url = %external.url, "the neutron network interface uses an external Neutron");
            Some(Arc::new(ferric_net::external::ExternalNeutron::new(
                db.clone(),
                external.clone(),
            )?))
        }
        None => None,
    };
    let drivers = ferric_drivers::Drivers {
        agent: settings.agent.clone(),
        netboot: Some(settings.netboot.clone()),
        image_cache: Some(image_cache.clone()),
        network: Some(Arc::new(ferric_net::service::NetworkService::new(
            db.clone(),
            switches::build(&settings.switches, &settings.data_dir)?,
        ))),
        external,
        store: Some(db.clone()),
        ..ferric_drivers::Drivers::default()
    };
    let metrics = Arc::new(ferric_api::metrics::Metrics::default());
    if roles.conductor {
        ferric_conductor::metrics::describe();
    }
    if roles.conductor || roles.boot {
        ferric_drivers::image_cache::ImageCache::describe_metrics();
    }
    // `/metrics` on one listener per process, so that each scrape target is one
    // process and sums over targets count nothing twice: the API's, else the
    // conductor's RPC listener, else the HTTP boot server.
    let rpc_listens = settings.rpc.listen.is_some() && settings.rpc.secret.is_some();
    let metrics_on_rpc = !roles.api && roles.conductor && rpc_listens;
    let metrics_on_boot = !roles.api && !metrics_on_rpc;
    let upkeep = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.upkeep();
            }
        })
    };
    if roles.conductor || roles.boot {
        let boot_root = &settings.boot_root;
        std::fs::create_dir_all(boot_root)
            .map_err(|e| format!("cannot create the boot root {}: {e}", boot_root.display()))?;
        let ipxe = ipxe_files::install(&settings.ipxe_dir, boot_root);
        tracing::info!(root = %boot_root.display(), ipxe = ?ipxe, "boot root ready");
    }
    let boot_files = Arc::new(boot_files::BootFileStore::new(
        settings.boot_root.clone(),
        image_cache,
        db.clone(),
    ));
    let conductor = match roles.conductor {
        true => {
            Some(conductor_role::start(&settings, &db, drivers, &metrics, metrics_on_rpc).await?)
        }
        false => None,
    };
    let boot = match roles.boot {
        true => Some(boot_role::start(&settings, &db, &metrics, boot_files.clone()).await?),
        false => None,
    };
    let rings = Arc::new(RingCache::new(db.clone(), settings.conductor.heartbeats));
    let router = conductor_router(
        &settings,
        &db,
        &rings,
        conductor.as_ref().map(|c| &c.conductor),
    )?;
    let state = AppState {
        db: db.clone(),
        config: settings.api.clone(),
        conductor: Arc::new(router),
        rings,
        metrics,
        boot_files: Some(boot_files.clone()),
    };
    let boot_server = match (settings.http_boot_listen, roles.boot) {
        (Some(addr), true) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot serve HTTP boot on {addr}: {e}"))?;
            let mut boot = ferric_api::boot_service(state.clone());
            if metrics_on_boot {
                boot = boot.merge(state.metrics.router(db.clone()));
            }
            tracing::info!(listen = %addr, "HTTP boot serving");
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, boot).await {
                    tracing::error!(error = %e, "HTTP boot server failed");
                }
            }))
        }
        _ => None,
    };
    if let Some(c) = &certificate {
        tls::reload_on_sighup(c.clone())?;
    }
    let network_api = match (settings.network_api_listen, roles.api) {
        (Some(addr), true) => {
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
        _ => None,
    };
    // On a stop request the conductor leaves the rings and waits for its work
    // while the API (if here) keeps serving; then the API finishes its requests.
    let (api_done, api_stop) = tokio::sync::oneshot::channel::<()>();
    let (waits, running) = (settings.shutdown_waits, conductor.as_ref());
    let stopping = async move {
        let stop = signals.next().await;
        if let Some(c) = running {
            let limit = match stop {
                Stop::Graceful => waits.0,
                Stop::Drain => waits.1,
            };
            tokio::select! {
                _ = c.drain(limit) => {}
                // A second request: stop waiting, hand back what still runs.
                _ = signals.next() => tracing::warn!("second stop request: not waiting for the work any longer"),
            }
        }
        let _ = api_done.send(());
    };
    match listener {
        Some(listener) => {
            let api = match &identity {
                Some(id) => ferric_api::service_with(state.clone(), "/identity", id.router()),
                None => service(state.clone()),
            };
            // The networks page reads Ferric's own network model (none with an
            // external Neutron), whether or not its API has a listener.
            let network = settings
                .external_neutron
                .is_none()
                .then(|| ferric_api::neutron::service(state.clone()));
            let app = with_dashboard(
                api,
                network,
                settings.dashboard.clone(),
                settings.wait_timeouts,
            );
            let served = serve_api(listener, app, certificate, settings.listen, async {
                let _ = api_stop.await;
                tracing::info!("finishing API requests in flight");
            });
            let (served, ()) = tokio::join!(served, stopping);
            served?;
        }
        None => stopping.await,
    }
    for task in [boot_server, network_api, Some(upkeep)]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
    if let Some(boot) = boot {
        boot.stop().await;
    }
    if let Some(conductor) = conductor {
        conductor.stop().await;
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The API listener's routes: the API, and the web dashboard under `/dashboard`
/// (a client of that same API) unless it is turned off.
fn with_dashboard(
    api: ferric_api::Service,
    network: Option<axum::Router>,
    login: Option<ferric_dashboard::Login>,
    waits: ferric_conductor::WaitTimeouts,
) -> axum::Router {
    let Some(login) = login else {
        return axum::Router::new().fallback_service(api);
    };
    let timeouts = ferric_dashboard::WaitTimeouts {
        deploy_callback: waits.deploy,
        clean_callback: waits.clean,
        inspect_wait: waits.inspect,
        rescue_callback: waits.rescue,
        service_callback: waits.service,
    };
    let mut dashboard = ferric_dashboard::Dashboard::new(
        tower::util::BoxCloneSyncService::new(api.clone()),
        login,
        timeouts,
    );
    if let Some(network) = network {
        dashboard = dashboard.with_network_api(tower::util::BoxCloneSyncService::new(network));
    }
    axum::Router::new()
        .nest_service("/dashboard", dashboard.router())
        .fallback_service(api)
}

/// Serves the API until SIGTERM or Ctrl-C, finishing the requests in flight.
async fn serve_api(
    listener: TcpListener,
    app: axum::Router,
    certificate: Option<Arc<tls::Certificate>>,
    listen: std::net::SocketAddr,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    tracing::info!(listen = %listen, tls = certificate.is_some(), "Ferric API serving");
    match certificate {
        Some(c) => {
            let listener = tls::listen(listener, c).map_err(|e| format!("TLS listener: {e}"))?;
            axum::serve(
                listener,
                ServiceExt::<Request>::into_make_service(https(app)),
            )
            .with_graceful_shutdown(stop)
            .await
        }
        None => {
            axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
                .with_graceful_shutdown(stop)
                .await
        }
    }
    .map_err(|e| format!("server error: {e}"))
}

/// How the process was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGTERM or Ctrl-C: wait `graceful_shutdown_timeout` for the work.
    Graceful,
    /// SIGUSR2: drain — wait `drain_shutdown_timeout`, long work finishes.
    Drain,
}

/// The stop requests of this process — SIGTERM or Ctrl-C, SIGUSR2 — listened for
/// from the start, so none arriving while it starts up kills it unprepared, and a
/// second one during a drain is heard.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    drain: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<Self, String> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind| {
            signal(kind).map_err(|e| format!("cannot listen for stop signals: {e}"))
        };
        Ok(Self {
            term: listen(SignalKind::terminate())?,
            drain: listen(SignalKind::user_defined2())?,
        })
    }

    /// The next stop request.
    async fn next(&mut self) -> Stop {
        let stop = tokio::select! {
            _ = tokio::signal::ctrl_c() => Stop::Graceful,
            _ = self.term.recv() => Stop::Graceful,
            _ = self.drain.recv() => Stop::Drain,
        };
        tracing::info!(?stop, "stop requested");
        stop
    }
}
