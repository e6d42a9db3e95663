//! Microversion negotiation and request ids, for every request: reads
//! `OpenStack-API-Version: baremetal X` (preferred) or `X-OpenStack-Ironic-API-Version`,
//! answers 406 outside the supported range, and stamps the version and request-id
//! headers on every response.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ferric_types::Microversion;

use crate::error::{ApiError, ErrorStyle};

const STANDARD_HEADER: &str = "openstack-api-version";
const IRONIC_HEADER: &str = "x-openstack-ironic-api-version";
const MIN_HEADER: &str = "x-openstack-ironic-api-minimum-version";
const MAX_HEADER: &str = "x-openstack-ironic-api-maximum-version";

/// Why the requested version cannot be served.
enum VersionProblem {
    /// Not `major.minor` or `latest`: 406 without version headers.
    Malformed(String),
    /// Well-formed but outside the range: 406 with version headers.
    Unsupported(Microversion),
}

/// The version text a request carries, if any.
fn version_text(headers: &HeaderMap) -> Option<String> {
    let standard = headers
        .get_all(STANDARD_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut words = item.split_whitespace();
            match (words.next(), words.next()) {
                (Some(service), Some(version)) if service.eq_ignore_ascii_case("baremetal") => {
                    Some(version.to_string())
                }
                _ => None,
            }
        })
        .next_back();
    let ironic = || {
        headers
            .get_all(IRONIC_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .next_back()
    };
    standard.or_else(ironic)
}

/// The numbered version a request asked for: none when it named no version, or
/// `latest`, or something unreadable.
pub fn asked_version(headers: &HeaderMap) -> Option<Microversion> {
    version_text(headers).and_then(|t| Microversion::parse(&t))
}

/// The version a request asked for, `1.1` when it asked for none.
fn requested_version(headers: &HeaderMap) -> Result<Microversion, VersionProblem> {
    let Some(text) = version_text(headers) else {
        return Ok(Microversion::MIN);
    };
    if text.eq_ignore_ascii_case("latest") {
        return Ok(Microversion::MAX);
    }
    let version = Microversion::parse(&text).ok_or(VersionProblem::Malformed(text))?;
    if version.is_supported() {
        Ok(version)
    } else {
        Err(VersionProblem::Unsupported(version))
    }
}

/// The id a request's work goes by, for the handlers: the caller's global
/// request id when it sent one, else the request's own.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The middleware. Each request runs in a `request` span with its id, and the
/// caller's own (`X-OpenStack-Request-ID`, OpenStack's global request id) when it
/// sent one: every line logged for the request, the conductor's work it starts
/// included, carries them.
pub async fn negotiate(mut request: Request, next: Next) -> Response {
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        global_request_id = tracing::field::Empty
    );
    let global = request
        .headers()
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| ferric_types::ids::is_request_id(v))
        .map(str::to_string);
    if let Some(global) = &global {
        span.record("global_request_id", tracing::field::display(global));
    }
    let carried = global.unwrap_or_else(|| request_id.clone());
    request.extensions_mut().insert(RequestId(carried.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    // Who asked, for the log (the authentication layer runs first); nothing is
    // copied for an anonymous caller.
    let caller = request.extensions().get::<ferric_authz::Caller>();
    let user = caller.and_then(|c| c.user_name()).map(str::to_owned);
    let project = caller.and_then(|c| c.project_id()).map(str::to_owned);
    // Heartbeats come every few seconds from every ramdisk: not worth a line each.
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !path.contains("/heartbeat/");
    let started = std::time::Instant::now();
    // (response, whether to announce the supported range, the version served)
    let (mut response, announce_range, version) = match requested_version(request.headers()) {
        Ok(version) => {
            request.extensions_mut().insert(version);
            // The id also travels with the conductor calls the request makes.
            let run = ferric_conductor_api::request_context::scope(carried, next.run(request));
            let response = tracing::Instrument::instrument(run, span).await;
            (response, true, Some(version))
        }
        Err(VersionProblem::Malformed(text)) => (
            ApiError::not_acceptable(format!(
                "Invalid value for X-OpenStack-Ironic-API-Version header: {text}"
            ))
            .styled(ErrorStyle::Routing)
            .into_response(),
            false,
            None,
        ),
        Err(VersionProblem::Unsupported(v)) => {
            let range = format!(
                "The supported version range is: [{}, {}].",
                Microversion::MIN,
                Microversion::MAX
            );
            let message = if v.major != 1 {
                format!("Mutually exclusive versions requested. Version {v} requested but not supported by this service. {range}")
            } else {
                format!("Version {v} was requested but the minor version is not supported by this service. {range}")
            };
            (
                ApiError::not_acceptable(message)
                    .styled(ErrorStyle::Routing)
                    .into_response(),
                true,
                None,
            )
        }
    };
    let headers = response.headers_mut();
    if announce_range {
        headers.insert(
            MIN_HEADER,
            HeaderValue::from_str(&Microversion::MIN.to_string()).expect("ascii"),
        );
        headers.insert(
            MAX_HEADER,
            HeaderValue::from_str(&Microversion::MAX.to_string()).expect("ascii"),
        );
    }
    if let Some(v) = version {
        headers.insert(
            IRONIC_HEADER,
            HeaderValue::from_str(&v.to_string()).expect("ascii"),
        );
    }
    let id = HeaderValue::from_str(&request_id).expect("ascii");
    headers.insert("openstack-request-id", id.clone());
    headers.insert("x-openstack-request-id", id);
    let status = response.status();
    let micros = started.elapsed().as_micros() as u64;
    let user = user.as_deref().unwrap_or("-");
    let project = project.as_deref().unwrap_or("-");
    if let Some(err) = response.extensions().get::<ApiError>() {
        if status.is_server_error() {
            tracing::warn!(%request_id, %method, %path, %user, %project, status = status.as_u16(), micros, error = %err.message, "request failed");
        } else {
            tracing::debug!(%request_id, %method, %path, %user, %project, status = status.as_u16(), micros, error = %err.message, "request refused");
        }
    } else if changes {
        // What changed something, and who asked: the audit trail.
        tracing::info!(%request_id, %method, %path, %user, %project, status = status.as_u16(), micros, "request");
    } else {
        tracing::debug!(%request_id, %method, %path, %user, %project, status = status.as_u16(), micros, "request");
    }
    response
}
