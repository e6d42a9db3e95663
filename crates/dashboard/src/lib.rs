//! Ferric's web dashboard, served by `ferricd` under `/dashboard/` on the API listener.
//!
//! It is a client of the public API only: the browser talks to `/dashboard/api/…`,
//! which this crate hands to the Ironic API in process with the signed-in user's
//! credentials, so a user sees and may do exactly what the API lets them. Nothing
//! here reads the database or calls a conductor.
//!
//! - [`session`]: who is signed in — an opaque `HttpOnly`, `SameSite=Strict` cookie
//!   naming a server-side session that holds the credentials and a CSRF token.
//! - [`login`]: the login page (http_basic or the built-in identity), logout, and
//!   what the browser may know of its session.
//! - [`proxy`]: `/dashboard/api/…` forwarded to the API, state changes only with the
//!   session's CSRF token; `/dashboard/net/…` to the network API, read-only.
//! - [`events`]: the live feed (Server-Sent Events): changed nodes and fleet counts,
//!   read through the API on the server side, one feed per open page.
//! - [`assets`]: the page, scripts and styles, compiled into the binary.

mod api;
mod assets;
mod events;
mod login;
mod proxy;
mod session;
mod summary;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use axum::routing::{any, get, post};
use axum::Router;
use tower::util::BoxCloneSyncService;

use session::SessionStore;

/// The API the dashboard is a client of: the whole API service of this process
/// (the Ironic API, and the built-in identity under `/identity` when it runs).
pub type ApiService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// How users sign in: the API's authentication strategy.
#[derive(Debug, Clone)]
pub enum Login {
    /// `noauth`: no login page; every visitor acts as the API's anonymous admin.
    Open,
    /// `http_basic`: user name and password, checked by the API on every call;
    /// `grants` says which project and roles the API's user file gives a user.
    HttpBasic { grants: BasicGrants },
    /// Keystone tokens issued by the built-in identity service at `path`
    /// (`/identity/v3/auth/tokens`): password in, token out.
    Keystone { token_path: String },
    /// Keystone tokens from an identity service elsewhere: the dashboard cannot
    /// sign users in (it says so on the login page).
    ExternalKeystone,
}

/// What the API's `http_basic` user file grants a user: the project's name
/// (none for a system or unrestricted user) and the roles (none: unrestricted).
/// The dashboard shows a reader no action buttons from it; the API decides.
#[derive(Clone)]
pub struct BasicGrants(pub Arc<dyn Fn(&str) -> Grant + Send + Sync>);

/// A user's project (by name, if any) and roles.
pub type Grant = (Option<String>, Vec<String>);

impl std::fmt::Debug for BasicGrants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicGrants(..)")
    }
}

/// The conductor's wait timeouts, shown in "why is it waiting".
#[derive(Debug, Clone, Copy)]
pub struct WaitTimeouts {
    pub deploy_callback: Duration,
    pub clean_callback: Duration,
    pub inspect_wait: Duration,
    pub rescue_callback: Duration,
    pub service_callback: Duration,
}

/// A refusal the page reads: `{"error": why}` with `status`.
pub(crate) fn refuse(status: axum::http::StatusCode, why: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(serde_json::json!({"error": why}))).into_response()
}

/// What the dashboard needs from the process serving it.
#[derive(Clone)]
pub struct Dashboard {
    api: api::Api,
    /// The network API (Neutron-shaped), when this process serves one.
    network: Option<api::Api>,
    login: Login,
    timeouts: WaitTimeouts,
    sessions: Arc<SessionStore>,
}

impl Dashboard {
    pub fn new(api: ApiService, login: Login, timeouts: WaitTimeouts) -> Self {
        Self {
            api: api::Api::new(api),
            network: None,
            login,
            timeouts,
            sessions: Arc::new(SessionStore::default()),
        }
    }

    /// Shows the networks of this network API (the networks page reads it).
    pub fn with_network_api(mut self, network: ApiService) -> Self {
        self.network = Some(api::Api::new(network));
        self
    }

    /// The routes, relative to `/dashboard` (mount with `nest_service`).
    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(assets::index))
            .route("/static/{file}", get(assets::file))
            .route("/login", get(login::page).post(login::submit))
            .route("/logout", post(login::logout))
            .route("/session", get(login::session))
            .route("/events", get(events::stream))
            .route("/api/{*path}", any(proxy::forward))
            .route("/net/{*path}", any(proxy::forward_network))
            .fallback(assets::not_found)
            .layer(axum::middleware::from_fn(assets::security_headers))
            .with_state(self)
    }
}
