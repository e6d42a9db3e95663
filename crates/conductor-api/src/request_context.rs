//! The id of the API request a conductor call is made for, carried across the
//! RPC: the API runs each request inside [`scope`]; the RPC client sends the id
//! in `X-OpenStack-Request-ID`; the RPC listener runs the call in a `request` span
//! with it, so the conductor process's lines for the call — and for the work it
//! starts — carry the id the API's lines carry.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The header the id travels in.
pub const HEADER: &str = "x-openstack-request-id";

/// Runs `work` as part of the request `id`.
pub async fn scope<F: Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The id of the request the current task works for, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
