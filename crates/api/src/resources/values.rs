//! Typed readers for fields of request documents, with Ironic's "Schema error for
//! <resource>: …" messages. Every create and patch goes through these, so a value is
//! validated the same way whichever way it arrives.

use ferric_types::{JsonObject, MacAddress};
use serde_json::Value;

use crate::error::ApiError;

/// Which resource a document describes, for error messages.
#[derive(Clone, Copy)]
pub struct Schema(pub &'static str);

impl Schema {
    pub fn error(self, detail: impl std::fmt::Display) -> ApiError {
        ApiError::bad_request(format!("Schema error for {}: {detail}", self.0))
    }

    fn type_error(self, v: &Value, types: &str) -> ApiError {
        self.error(format!("{} is not of type {types}", python_repr(v)))
    }

    pub fn string(self, v: Value, max_len: usize) -> Result<String, ApiError> {
        match v {
            Value::String(s) if s.chars().count() <= max_len => Ok(s),
            Value::String(s) => {
                Err(self.error(format!("'{s}' is too long (at most {max_len} characters)")))
            }
            other => Err(self.type_error(&other, "'string'")),
        }
    }

    pub fn opt_string(self, v: Value, max_len: usize) -> Result<Option<String>, ApiError> {
        match v {
            Value::Null => Ok(None),
            Value::String(_) => self.string(v, max_len).map(Some),
            other => Err(self.type_error(&other, "'string', 'null'")),
        }
    }

    pub fn object(self, v: Value) -> Result<JsonObject, ApiError> {
        match v {
            Value::Null => Ok(JsonObject::new()),
            Value::Object(map) => Ok(map),
            other => Err(self.type_error(&other, "'object', 'null'")),
        }
    }

    pub fn boolean(self, v: Value) -> Result<bool, ApiError> {
        match v {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => Err(self.type_error(&other, "'boolean'")),
        }
    }

    pub fn opt_bool(self, v: Value) -> Result<Option<bool>, ApiError> {
        match v {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(b)),
            other => Err(self.type_error(&other, "'boolean', 'null'")),
        }
    }
}

/// A UUID-valued field: `Expected UUID for <field>: <value>`.
pub fn uuid_field<T: std::str::FromStr>(field: &str, v: &Value) -> Result<T, ApiError> {
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("Expected UUID for {field}: {text}")))
}

/// An optional UUID-valued field.
pub fn opt_uuid_field<T: std::str::FromStr>(field: &str, v: &Value) -> Result<Option<T>, ApiError> {
    match v {
        Value::Null => Ok(None),
        other => uuid_field(field, other).map(Some),
    }
}

/// A MAC-valued field: `Expected valid MAC address for <field>: <value>`.
pub fn mac_field(field: &str, v: &Value) -> Result<MacAddress, ApiError> {
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    text.parse().map_err(|_| {
        ApiError::bad_request(format!("Expected valid MAC address for {field}: {text}"))
    })
}

/// Roughly how Python prints a JSON value, as Ironic's schema messages show it.
pub fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Number(n) => n.to_string(),
    }
}

/// Refuses keys of a create document that are not creatable fields; a field newer
/// than the request's version is a 406 when it carries a value.
pub fn check_create_keys(
    schema: Schema,
    doc: &JsonObject,
    creatable: &[(&str, u16)],
    version: ferric_types::Microversion,
) -> Result<(), ApiError> {
    for (key, value) in doc {
        match creatable.iter().find(|(f, _)| f == key) {
            None => {
                return Err(schema.error(format!(
                    "Additional properties are not allowed ('{key}' was unexpected)"
                )))
            }
            Some((_, since)) if !version.at_least(*since) && !value.is_null() => {
                return Err(ApiError::not_acceptable("Request not acceptable."))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
