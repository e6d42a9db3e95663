//! Counts and times every API request by method, route and status: the route is
//! the matched template (`/v1/nodes/{node_ident}`), never the raw path, so the
//! series stay few whatever clients ask for.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

const REQUESTS: &str = "ferric_api_requests_total";
const DURATION: &str = "ferric_api_request_duration_seconds";

pub(crate) fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "API requests answered, by method, route and status."
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time to answer an API request, by method and route."
    );
}

/// The middleware: records the request once its answer is ready.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!(DURATION, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    resp
}

/// The method as a label; methods the API does not serve are one label, so a
/// client cannot add series by inventing them.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
