//! Helpers every resource handler shares: query-string parsing, the next
//! `updated_at` stamp, and the answer to a lost conditional update.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferric_db::{Cond, ListQuery, UpdateOutcome};
use std::collections::BTreeSet;

use ferric_types::Microversion;
use ferric_types::Timestamp;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::listing::Params;
use crate::patch::{self, PatchOp};

/// A resource's JSON form as an object (every field, unmasked).
pub fn to_object<T: serde::Serialize>(item: &T) -> Map<String, Value> {
    match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The field selection of a show request: `?fields=` or the full view.
pub fn show_selection(
    raw_query: Option<String>,
    fields: &FieldSet,
    version: Microversion,
) -> Result<Selection, ApiError> {
    let mut params = params(raw_query)?;
    let csv = params.take_since("fields", 8, version)?;
    params.finish()?;
    Ok(match csv {
        Some(csv) => Selection::Only(fields.parse_selection(&csv, version)?),
        None => Selection::Full,
    })
}

/// Applies a JSON patch to a copy of `item` and re-validates every touched field with
/// `apply_field`, so a patched value passes the same checks as a created one.
pub fn patched<T: Clone + serde::Serialize>(
    item: &T,
    ops: &[PatchOp],
    mut apply_field: impl FnMut(&mut T, &str, Value) -> Result<(), ApiError>,
) -> Result<T, ApiError> {
    let mut doc = to_object(item);
    patch::apply(&mut doc, ops)?;
    let touched: BTreeSet<&str> = ops.iter().map(|op| op.root()).collect();
    let mut updated = item.clone();
    for field in touched {
        apply_field(
            &mut updated,
            field,
            doc.get(field).cloned().unwrap_or(Value::Null),
        )?;
    }
    Ok(updated)
}

/// A resource or sub-resource that appeared at API `1.minor`: older requests see
/// nothing there (404), as Ironic answers.
pub fn require(version: Microversion, minor: u16) -> Result<(), ApiError> {
    if version.at_least(minor) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "The API is not supported for this version",
        ))
    }
}

/// `node_uuid IN (…)` for the nodes matching every one of `conds`: how ports and
/// port groups are filtered by properties of their node (shard, conductor group,
/// project), with one read of the nodes however many there are.
pub async fn nodes_cond(state: &crate::AppState, conds: Vec<Cond>) -> Result<Cond, ApiError> {
    let query = ListQuery {
        conds,
        ..ListQuery::default()
    };
    let nodes = state.db.node_list(&query).await?;
    Ok(Cond::In(
        "node_uuid",
        nodes.iter().map(|n| n.uuid.to_string().into()).collect(),
    ))
}

/// The items of a comma-separated filter value, trimmed, empty ones dropped.
pub fn csv_items(csv: &str) -> Vec<ferric_db::Value> {
    csv.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| ferric_db::Value::Text(s.to_string()))
        .collect()
}

/// Parses a raw query string into strict parameters.
pub fn params(raw: Option<String>) -> Result<Params, ApiError> {
    let pairs: Vec<(String, String)> = match raw {
        None => Vec::new(),
        Some(q) => serde_urlencoded::from_str(&q)
            .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))?,
    };
    Ok(Params::new(pairs))
}

/// A timestamp strictly after `previous`, so every update changes `updated_at`.
pub fn next_stamp(previous: Option<Timestamp>) -> Timestamp {
    Timestamp::after(previous)
}

/// Maps a conditional update's outcome to success or the right error.
pub fn check_outcome(outcome: UpdateOutcome, what: &str) -> Result<(), ApiError> {
    match outcome {
        UpdateOutcome::Updated => Ok(()),
        UpdateOutcome::Conflict => Err(ApiError::conflict(format!(
            "{what} was changed by another request at the same time; nothing was changed. Retry."
        ))),
        UpdateOutcome::NotFound => Err(ApiError::not_found(format!("{what} could not be found."))),
    }
}

/// 201 with `Location` and the new resource.
pub fn created(location: String, body: Value) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}
