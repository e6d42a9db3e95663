//! Keystone's error answers: `{"error": {"code", "title", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::DbError;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsError {
    pub status: StatusCode,
    pub message: String,
}

impl KsError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 401: no valid credentials or token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403 naming the action (Keystone's policy rule).
    pub fn forbidden(action: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            format!("You are not authorized to perform the requested action: {action}."),
        )
    }

    /// 404 `Could not find <what>: <id>.`
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Could not find {what}: {id}."),
        )
    }

    pub fn conflict(what: &str, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            format!("Conflict occurred attempting to store {what} - Duplicate entry found with name {name}."),
        )
    }

    pub fn not_supported(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{what} is not supported by Ferric's built-in identity service."),
        )
    }

    fn title(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "Bad Request",
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::NOT_FOUND => "Not Found",
            StatusCode::CONFLICT => "Conflict",
            StatusCode::NOT_IMPLEMENTED => "Not Implemented",
            _ => "Internal Server Error",
        }
    }
}

impl From<DbError> for KsError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "identity service database error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error prevented the server from fulfilling your request.",
        )
    }
}

impl IntoResponse for KsError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "code": self.status.as_u16(),
            "title": self.title(),
            "message": self.message,
        }});
        // A 401's `WWW-Authenticate` is added by the router, which knows the URL.
        (self.status, Json(body)).into_response()
    }
}
