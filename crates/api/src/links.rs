//! Links as Ironic writes them: the base URL (configured public endpoint or the
//! request's `Host`), and the `self`/`bookmark` pairs every resource carries.

use axum::http::HeaderMap;
use serde_json::Value;

use crate::shaped::LinkPair;
use crate::AppState;

/// The base URL the client used to reach us, without a trailing slash.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(endpoint) = &state.config.public_endpoint {
        return endpoint.trim_end_matches('/').to_string();
    }
    request_origin(headers)
}

/// `scheme://host` as the client reached us: the `Host` header, and https when the
/// TLS listener said so (`X-Forwarded-Proto`).
pub fn request_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// `[{"href": base/v1/<path>, "rel": "self"}, {"href": base/<path>, "rel": "bookmark"}]`
/// (the pair `shaped` writes, as a value).
pub fn self_and_bookmark(base: &str, path: &str) -> Value {
    serde_json::to_value(LinkPair {
        base,
        path,
        sub: "",
        bookmark: true,
    })
    .unwrap_or_default()
}
