//! Ferric's built-in identity service: enough of Keystone's v3 API that the
//! `openstack` client authenticates against Ferric with a `clouds.yaml` (password or
//! application credential) and no Keystone installed — version discovery, tokens
//! (issue, validate, revoke), and the projects, users, role assignments and
//! application credentials behind `openstack project|user|role|application
//! credential …`. It is served under `/identity` on the API listener, and it is the
//! [`TokenValidator`] of the API's `keystone` strategy.
//!
//! [`remote::RemoteKeystone`] is the other validator: a client of an external
//! Keystone (or of another Ferric's built-in service), as keystonemiddleware is.

mod app_credentials;
pub mod bootstrap;
mod catalog;
mod error;
mod grants;
mod projects;
pub mod remote;
mod render;
mod session;
mod tokens;
mod users;
mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use ferric_authz::{PasswordMemo, Principal};
use ferric_db::Datastore;
use serde_json::{json, Value};

pub use error::KsError;
pub use tokens::keystone_time;

/// Settings of the identity service.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// How long a token lives.
    pub token_ttl: Duration,
    /// The `baremetal` endpoint of the catalog; `None` = from the request's `Host`.
    pub baremetal_url: Option<String>,
    /// The `network` endpoint of the catalog, when the network API is served.
    pub network_url: Option<String>,
    pub region: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(3600),
            baremetal_url: None,
            network_url: None,
            region: "RegionOne".into(),
        }
    }
}

/// How long a validated token is believed without looking again (revocations by
/// this process take effect at once; by another process, within this time).
const VALIDATION_CACHE_TTL: Duration = Duration::from_secs(10);
const VALIDATION_CACHE_SIZE: usize = 10_000;

/// The service: its database, signing key and settings.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    db: Datastore,
    signer: tokens::Signer,
    config: IdentityConfig,
    memo: PasswordMemo,
    /// Digest of a token → who it is, when that was checked, when it expires.
    validated: Mutex<HashMap<[u8; 32], (Principal, Instant, ferric_types::Timestamp)>>,
}

impl Identity {
    /// Opens the service on `db`, creating the signing key on first use.
    pub async fn start(db: Datastore, config: IdentityConfig) -> Result<Identity, String> {
        let key = db
            .signing_key(&tokens::fresh_key())
            .await
            .map_err(|e| format!("cannot read the token signing key: {e}"))?;
        Ok(Identity {
            inner: Arc::new(Inner {
                db,
                signer: tokens::Signer::new(&key)?,
                config,
                memo: PasswordMemo::default(),
                validated: Mutex::default(),
            }),
        })
    }

    fn db(&self) -> &Datastore {
        &self.inner.db
    }

    /// The routes, relative to `/identity`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(versions))
            .route("/v3", get(version))
            .route(
                "/v3/auth/tokens",
                get(session::validate)
                    .head(session::check)
                    .post(session::issue)
                    .delete(session::revoke),
            )
            .route("/v3/auth/catalog", get(session::catalog))
            .route("/v3/projects", get(projects::list).post(projects::create))
            .route(
                "/v3/projects/{id}",
                get(projects::show)
                    .patch(projects::update)
                    .delete(projects::delete),
            )
            .route("/v3/users", get(users::list).post(users::create))
            .route(
                "/v3/users/{id}",
                get(users::show).patch(users::update).delete(users::delete),
            )
            .route("/v3/users/{id}/projects", get(grants::user_projects))
            .route("/v3/roles", get(grants::roles))
            .route("/v3/roles/{id}", get(grants::role))
            .route("/v3/domains", get(grants::domains))
            .route("/v3/domains/{id}", get(grants::domain))
            .route("/v3/role_assignments", get(grants::assignments))
            .route(
                "/v3/projects/{project}/users/{user}/roles/{role}",
                put(grants::grant_project)
                    .head(grants::check_project)
                    .get(grants::check_project)
                    .delete(grants::revoke_project),
            )
            .route(
                "/v3/system/users/{user}/roles/{role}",
                put(grants::grant_system)
                    .head(grants::check_system)
                    .get(grants::check_system)
                    .delete(grants::revoke_system),
            )
            .route(
                "/v3/users/{user}/application_credentials",
                get(app_credentials::list).post(app_credentials::create),
            )
            .route(
                "/v3/users/{user}/application_credentials/{id}",
                get(app_credentials::show).delete(app_credentials::delete),
            )
            .fallback(|| async {
                KsError::new(StatusCode::NOT_FOUND, "The resource could not be found.")
            })
            .layer(axum::middleware::from_fn(absolute_authenticate_uri))
            .with_state(self.clone())
    }
}

/// `http://host/identity`, the base of this service as the client reached it.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}/identity")
}

/// A 401 tells the client where to authenticate, as an absolute URL.
async fn absolute_authenticate_uri(request: Request, next: Next) -> Response {
    let base = base_url(request.headers());
    let mut resp = next.run(request).await;
    if resp.status() == StatusCode::UNAUTHORIZED {
        if let Ok(v) = HeaderValue::from_str(&format!("Keystone uri=\"{base}/v3\"")) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

fn version_doc(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{
            "base": "application/json",
            "type": "application/vnd.openstack.identity-v3+json",
        }],
    })
}

/// `GET /identity`: 300 Multiple Choices, as Keystone's root.
async fn versions(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let mut resp = (
        StatusCode::MULTIPLE_CHOICES,
        Json(json!({"versions": {"values": [version_doc(&base)]}})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/v3/")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn version(headers: HeaderMap) -> Json<Value> {
    Json(json!({"version": version_doc(&base_url(&headers))}))
}
