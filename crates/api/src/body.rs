//! Request bodies: read with the size limit (413 beyond it), parsed as JSON (400 when
//! it is not JSON or nests deeper than Ironic allows), errors in Ironic's body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

use crate::error::{ApiError, ErrorStyle};

/// How deep a request document may nest.
const MAX_DEPTH: usize = 25;

/// A parsed JSON request body.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body is too large. Please contact the service administrator.",
                )
                .styled(ErrorStyle::Guard)
            } else {
                ApiError::bad_request(format!("Could not read the request body: {rejection}"))
            }
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses a body that must be JSON.
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty; a JSON document is required.",
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    if depth(&value) > MAX_DEPTH {
        return Err(ApiError::bad_request(
            "Request body JSON is nested too deeply. Please contact the service administrator.",
        )
        .styled(ErrorStyle::Guard));
    }
    Ok(value)
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The body as a JSON object, or a 400 naming what was expected.
pub fn object(value: Value, what: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(format!(
            "The {what} must be a JSON object."
        ))),
    }
}
