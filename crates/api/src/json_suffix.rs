//! The `.json` suffix of old clients: a request that names a version below 1.91
//! has a trailing `.json` stripped from its path before routing
//! (`/v1/nodes/n1.json` is node `n1`), as Ironic's middleware does. From 1.91 on,
//! and when no version is named, the path is taken as it is, so a node may be
//! named `n1.json`.

use axum::extract::Request;
use axum::http::Uri;

use crate::version::asked_version;

/// The first version that keeps the suffix.
const KEEPS_SUFFIX: u16 = 91;

/// Rewrites the request's path when the suffix is to be stripped.
pub async fn strip(mut request: Request) -> Request {
    // (Trailing slashes are gone already: this runs inside `NormalizePath`.)
    let Some(stripped) = request.uri().path().strip_suffix(".json") else {
        return request;
    };
    if asked_version(request.headers()).is_none_or(|v| v.at_least(KEEPS_SUFFIX)) {
        return request;
    }
    let rewritten = match request.uri().query() {
        Some(q) => format!("{stripped}?{q}"),
        None => stripped.to_string(),
    };
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request
}
