//! Ironic endpoints this build does not serve yet answer 501 with a sentence saying
//! so, rather than a bare 404 that reads like a typo in the client.

use axum::http::StatusCode;
use axum::routing::any;
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

/// Paths (relative to `/v1`) of features that arrive with the conductor and later.
const NOT_YET: &[(&str, &str)] = &[("/events", "events")];

pub fn routes() -> Router<AppState> {
    NOT_YET
        .iter()
        .fold(Router::new(), |router, (path, feature)| {
            let message = format!("{feature} is not supported by this Ferric build yet.");
            router.route(
                path,
                any(move || {
                    let message = message.clone();
                    async move { ApiError::new(StatusCode::NOT_IMPLEMENTED, message) }
                }),
            )
        })
}
