//! Ferric's Ironic-compatible REST API v1: version discovery and microversion
//! negotiation, Ironic's error bodies, and the chassis, node, port and port group
//! resources with their listings, JSON-patch updates and sub-resources.

mod access;
pub mod auth;
mod body;
pub mod boot_files;
mod boot_script;
mod chunked;
mod error;
mod fields;
mod fleet_gauges;
mod images;
mod json_suffix;
mod links;
mod listing;
pub mod metrics;
pub mod neutron;
mod patch;
mod request_metrics;
mod resources;
mod root;
mod shaped;
mod unsupported;
mod version;

pub use error::ApiError;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use ferric_conductor_api::{ConductorApi, RingCache};
use ferric_db::Datastore;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};

/// The largest request body accepted (Ironic's default).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of the API layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The URL clients reach the API at (used in links); `None` = from the request's
    /// `Host` header.
    pub public_endpoint: Option<String>,
    /// The largest page a list returns (and the page size when none is asked for).
    pub max_limit: i64,
    /// What the ramdisk agent endpoints tell and require of agents.
    pub agent: AgentApiConfig,
    /// How requests are authenticated (the Ironic API and the network API).
    pub auth: auth::AuthStrategy,
    /// What each caller may do: Ironic's rules with the operator's overrides.
    pub policy: Arc<ferric_authz::Policy>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_endpoint: None,
            max_limit: 1000,
            agent: AgentApiConfig::default(),
            auth: auth::AuthStrategy::default(),
            policy: Arc::new(ferric_authz::Policy::ironic_defaults()),
        }
    }
}

/// Settings of `/v1/lookup` and `/v1/heartbeat`.
#[derive(Debug, Clone)]
pub struct AgentApiConfig {
    /// Seconds an agent may go without heartbeating (told to the agent at lookup).
    pub heartbeat_timeout: u64,
    /// Refuse agents whose callback URL is not https.
    pub require_tls: bool,
    /// Let agents verify images by MD5.
    pub allow_md5_checksum: bool,
}

impl Default for AgentApiConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout: 300,
            require_tls: true,
            allow_md5_checksum: true,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Datastore,
    pub config: ApiConfig,
    /// The conductor side: in process when all-in-one.
    pub conductor: Arc<dyn ConductorApi>,
    /// Which conductor owns which node (the `conductor` field).
    pub rings: Arc<RingCache>,
    /// Counters served at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// What `/boot/` and `/images/` serve, when this process has boot files.
    pub boot_files: Option<Arc<dyn boot_files::BootFiles>>,
}

/// The API as one service: its routes behind trailing-slash normalisation.
pub type Service = NormalizePath<Router>;

/// The whole API as one service: the router behind a layer that drops trailing
/// slashes (clients ask for `/v1/nodes/?…`), which must run before routing.
pub fn service(state: AppState) -> Service {
    NormalizePathLayer::trim_trailing_slash().layer(before_routing(router(state)))
}

/// Path rewrites that must happen before routing (the `.json` suffix of old
/// clients): a router whose only job is to hand the rewritten request on.
fn before_routing(router: Router) -> Router {
    Router::new().fallback_service(axum::middleware::map_request(json_suffix::strip).layer(router))
}

/// The whole API with another service's routes under `prefix` (the built-in
/// identity service under `/identity`): they answer before authentication, which
/// they do themselves.
pub fn service_with(state: AppState, prefix: &str, extra: Router) -> Service {
    NormalizePathLayer::trim_trailing_slash().layer(before_routing(
        Router::new().nest(prefix, extra).merge(router(state)),
    ))
}

/// What firmware and ramdisks fetch: boot files, per-node scripts, cached images.
fn boot_routes() -> Router<AppState> {
    Router::new()
        .route("/images/{key}", get(images::image))
        .route("/boot/{file}", get(boot_script::file))
        .route("/boot/{dir}/{file}", get(boot_script::node_file))
}

/// The HTTP boot server alone (`[boot] http_listen`): `/boot/` and `/images/`, for a
/// listener on the provisioning network apart from the API (`/metrics` is added by
/// the server when this is the process's only listener).
pub fn boot_service(state: AppState) -> Router {
    boot_routes()
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn(request_metrics::record))
        .with_state(state)
}

/// The whole API as one router.
fn router(state: AppState) -> Router {
    let v1 = resources::routes().merge(unsupported::routes());
    Router::new()
        .route("/", get(root::root))
        .route("/v1", get(root::v1))
        .route("/metrics", get(metrics::metrics))
        .merge(boot_routes())
        .nest("/v1", v1.clone())
        // Ironic routes resource paths missing the `/v1` prefix as if it were there.
        .merge(v1)
        .fallback(error::not_found_fallback)
        .method_not_allowed_fallback(error::method_not_allowed_fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(version::negotiate))
        // Outermost: its answers are not wrapped in the API's error envelope.
        .layer(axum::middleware::from_fn_with_state(
            state.config.auth.clone(),
            auth::authenticate,
        ))
        // Outside authentication: refused requests are counted too.
        .layer(axum::middleware::from_fn(request_metrics::record))
        .with_state(state)
}
