//! `/dashboard/api/…`: the Ironic API for the page, with the session's credentials.
//! The browser never holds them; it holds the session cookie, and it must echo the
//! session's CSRF token (`X-CSRF-Token`) on every request that changes something,
//! which another site cannot read and so cannot forge. Only the Ironic API (`/v1…`
//! and the version document `/`) is reachable this way.
//!
//! `/dashboard/net/v2.0/…`: the network API (Neutron-shaped), read-only, for the
//! networks page.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::api::with_credentials;
use crate::{refuse, Dashboard};

/// The request headers the page may pass to the API (`Host` and the TLS mark, so
/// the API's links name the address the browser used).
const PASSED: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::HOST,
    HeaderName::from_static("x-openstack-ironic-api-version"),
    HeaderName::from_static("openstack-api-version"),
    HeaderName::from_static("x-forwarded-proto"),
];

/// `ANY /dashboard/api/{path}`.
pub(crate) async fn forward(State(dash): State<Dashboard>, request: Request) -> Response {
    let Some(session) = dash.sessions.find(request.headers()) else {
        return refuse(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes && !session.csrf_sent(request.headers()) {
        return refuse(StatusCode::FORBIDDEN, "missing or wrong X-CSRF-Token");
    }
    let Some(target) = target(request.uri(), "/api", is_ironic_path) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "the dashboard proxies the Ironic API (/v1) only",
        );
    };
    pass(&dash.api, &dash, session, request, target).await
}

/// `GET /dashboard/net/{path}`: the network API, read-only.
pub(crate) async fn forward_network(State(dash): State<Dashboard>, request: Request) -> Response {
    let Some(session) = dash.sessions.find(request.headers()) else {
        return refuse(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let Some(network) = dash.network.clone() else {
        return refuse(StatusCode::NOT_FOUND, "this Ferric serves no network API");
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "the dashboard reads the network API; change networks with the API itself",
        );
    }
    let Some(target) = target(request.uri(), "/net", |p| p.starts_with("/v2.0/")) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "the dashboard proxies /v2.0 of the network API only",
        );
    };
    pass(&network, &dash, session, request, target).await
}

/// Hands `request` to `service` at `target` as the session's user; its answer,
/// without anything that would set or ask for credentials in the browser.
async fn pass(
    service: &crate::api::Api,
    dash: &Dashboard,
    session: crate::session::Session,
    request: Request,
    target: String,
) -> Response {
    let (parts, body) = request.into_parts();
    let mut outgoing = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(target)
        .body(Body::new(body))
        .expect("a valid request");
    copy_headers(&parts.headers, outgoing.headers_mut());
    let answer = service
        .call(with_credentials(outgoing, &session.credentials))
        .await;
    if answer.status() == StatusCode::UNAUTHORIZED {
        // The credentials no longer work (a token expired or was revoked).
        dash.sessions.close(&parts.headers);
    }
    let (mut answer_parts, answer_body) = answer.into_parts();
    answer_parts.headers.remove(header::SET_COOKIE);
    answer_parts.headers.remove(header::WWW_AUTHENTICATE);
    answer_parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(answer_parts, answer_body)
}

/// The Ironic API's paths: the version document and `/v1…`.
fn is_ironic_path(path: &str) -> bool {
    path == "/" || path == "/v1" || path.starts_with("/v1/")
}

/// The path and query behind the dashboard's `prefix` in `uri` (relative to the
/// dashboard), if `allowed` lets the dashboard reach it.
fn target(uri: &axum::http::Uri, prefix: &str, allowed: fn(&str) -> bool) -> Option<String> {
    let path = uri.path().strip_prefix(prefix)?;
    let path = if path.is_empty() { "/" } else { path };
    if !allowed(path) || path.split('/').any(|seg| seg == "..") {
        return None;
    }
    Some(match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    })
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for name in &PASSED {
        if let Some(v) = from.get(name) {
            to.insert(name.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_ironic_api_is_reachable() {
        let t = |u: &str| target(&u.parse().unwrap(), "/api", is_ironic_path);
        assert_eq!(
            t("/api/v1/nodes?limit=5").as_deref(),
            Some("/v1/nodes?limit=5")
        );
        assert_eq!(t("/api/v1").as_deref(), Some("/v1"));
        assert_eq!(t("/api/").as_deref(), Some("/"));
        assert_eq!(t("/api/identity/v3/users"), None);
        assert_eq!(t("/api/metrics"), None);
        assert_eq!(t("/api/v1/../identity/v3"), None);
        assert_eq!(t("/api/v10"), None);
        let n = |u: &str| target(&u.parse().unwrap(), "/net", |p| p.starts_with("/v2.0/"));
        assert_eq!(
            n("/net/v2.0/ports?limit=5").as_deref(),
            Some("/v2.0/ports?limit=5")
        );
        assert_eq!(n("/net/v1/nodes"), None);
        assert_eq!(n("/net/v2.0/../v1"), None);
    }
}
