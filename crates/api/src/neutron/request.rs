//! Reading Neutron request bodies: `{"<resource>": {…}}`, and typed attributes out
//! of them with Neutron's "Invalid input" errors.

use axum::body::Bytes;
use serde_json::{Map, Value};

use super::error::NetError;

/// The object under `key` of a JSON body.
pub fn object(bytes: &Bytes, key: &str) -> Result<Map<String, Value>, NetError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| NetError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    match doc {
        Value::Object(mut m) => match m.remove(key) {
            Some(Value::Object(inner)) => Ok(inner),
            _ => Err(NetError::bad_request(format!(
                "Resource body required: a '{key}' object."
            ))),
        },
        _ => Err(NetError::bad_request(
            "The request body must be a JSON object.",
        )),
    }
}

pub fn string(m: &Map<String, Value>, key: &str) -> Result<Option<String>, NetError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(NetError::invalid(format!(
            "'{other}' is not a valid string for {key}."
        ))),
    }
}

pub fn boolean(m: &Map<String, Value>, key: &str) -> Result<Option<bool>, NetError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(NetError::invalid(format!(
            "'{other}' cannot be converted to boolean for {key}."
        ))),
    }
}

/// An integer given as a number or a string (the client sends VLAN ids as text).
pub fn integer(m: &Map<String, Value>, key: &str) -> Result<Option<i64>, NetError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
            Ok(s.trim().parse::<i64>().ok())
        }
        Some(other) => Err(NetError::invalid(format!(
            "'{other}' is not an integer for {key}."
        ))),
    }
}

/// Refuses attributes this API does not know (Neutron answers the same way).
pub fn known_only(m: &Map<String, Value>, known: &[&str], resource: &str) -> Result<(), NetError> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(NetError::bad_request(format!(
            "Unrecognized attribute(s) '{k}' for {resource}"
        ))),
        None => Ok(()),
    }
}
