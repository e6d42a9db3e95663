//! Errors in Neutron's body: `{"NeutronError": {"type", "message", "detail"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::DbError;
use serde_json::json;

/// An error answer of the network API.
#[derive(Debug)]
pub struct NetError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl NetError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, kind, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }

    /// `InvalidInput`: "Invalid input for operation: …".
    pub fn invalid(message: impl Into<String>) -> Self {
        let m = message.into();
        let text = if m.starts_with("Invalid input") {
            m
        } else {
            format!("Invalid input for operation: {m}")
        };
        Self::new(StatusCode::BAD_REQUEST, "InvalidInput", text)
    }

    pub fn conflict(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "HTTPInternalServerError",
            "Request Failed: internal server error while processing your request.",
        )
    }
}

impl From<DbError> for NetError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "network API database error");
        Self::internal()
    }
}

impl IntoResponse for NetError {
    fn into_response(self) -> Response {
        let body = json!({"NeutronError": {
            "type": self.kind,
            "message": self.message,
            "detail": "",
        }});
        (self.status, Json(body)).into_response()
    }
}
