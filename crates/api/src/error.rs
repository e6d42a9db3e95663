//! The API's one error type and the one place that turns errors into HTTP responses
//! with Ironic's body: `{"error_message": "<JSON string with faultcode, faultstring,
//! debuginfo>"}`. Database and internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferric_conductor_api::CallError;
use ferric_db::DbError;

/// An error answer: a status and the operator-readable `faultstring`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub style: ErrorStyle,
}

/// The three body shapes Ironic answers errors with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"error_message": "{faultcode, faultstring, debuginfo}"}`: errors of handlers.
    Fault,
    /// `{"error_message": "{code, title, description}"}`: routing and version errors.
    Routing,
    /// `{"faultcode", "faultstring"}` unwrapped: the body-size and depth guards.
    Guard,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            style: ErrorStyle::Fault,
        }
    }

    /// The same error, answered in another body shape.
    pub fn styled(mut self, style: ErrorStyle) -> Self {
        self.style = style;
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error occurred; the server log has the details.",
        )
    }

    /// The error body Ironic sends.
    pub fn body(&self) -> String {
        let faultcode = if self.status.is_server_error() {
            "Server"
        } else {
            "Client"
        };
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let inner = match self.style {
            ErrorStyle::Fault => format!(
                "{{\"faultcode\": {}, \"faultstring\": {}, \"debuginfo\": null}}",
                text(faultcode),
                text(&self.message)
            ),
            ErrorStyle::Routing => format!(
                "{{\"code\": {}, \"title\": {}, \"description\": {}}}",
                self.status.as_u16(),
                text(self.status.canonical_reason().unwrap_or("Error")),
                text(&self.message)
            ),
            ErrorStyle::Guard => {
                return format!(
                    "{{\"faultcode\": {}, \"faultstring\": {}}}",
                    text(faultcode),
                    text(&self.message)
                )
            }
        };
        format!("{{\"error_message\": {}}}", text(&inner))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl From<DbError> for ApiError {
    /// Database failures without a more specific meaning at the call site.
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => ApiError::not_found("The requested resource could not be found."),
            DbError::Duplicate(col) => {
                ApiError::conflict(format!("A resource with this {col} already exists."))
            }
            DbError::Locked(holder) => ApiError::conflict(format!(
                "The resource is locked by host {holder}, please retry after the current operation is completed."
            )),
            DbError::Reference => ApiError::conflict(
                "The request refers to an object that no longer exists or is still in use; retry.",
            ),
            other => {
                tracing::error!(error = %other, "database failure");
                ApiError::internal()
            }
        }
    }
}

impl From<CallError> for ApiError {
    /// A conductor's refusal or failure, with the status its kind calls for.
    fn from(err: CallError) -> Self {
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, err.message)
    }
}

/// The answer for paths no route knows.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found("").styled(ErrorStyle::Routing)
}

/// The answer for a known path with a method it does not take.
pub async fn method_not_allowed_fallback() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    )
    .styled(ErrorStyle::Routing)
}
