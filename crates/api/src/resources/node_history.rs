//! `/v1/nodes/{node}/history` (API 1.78): the node's events, oldest first, with the
//! event type, conductor and user in the detailed view; and the node's inventory
//! (API 1.81), the other record of what is known about a node.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Json};
use ferric_db::{history_sort_column, DbError};
use ferric_types::history::HistoryEvent;
use ferric_types::Microversion;
use serde_json::{json, Value};

use super::common::{params, show_selection};
use crate::access::Access;
use crate::chunked::{rows, Chunk};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::base_url;
use crate::listing::{NextLink, Paging};
use crate::shaped::Shaped;
use crate::AppState;

static HISTORY_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 78),
        ("created_at", 78),
        ("severity", 78),
        ("event", 78),
        ("event_type", 78),
        ("conductor", 78),
        ("user", 78),
        ("project", 113),
        ("state", 115),
        ("target_provision_state", 115),
        ("duration_seconds", 115),
    ],
    &["uuid", "created_at", "severity", "event"],
);

/// The event as `version` shows it: its node is in the URL, not the body.
fn shaped<'a>(
    e: &'a HistoryEvent,
    base: &'a str,
    version: Microversion,
    selection: &'a Selection,
) -> Shaped<'a, HistoryEvent> {
    let mut shaped = Shaped::new(
        e,
        &HISTORY_FIELDS,
        version,
        selection,
        base,
        format!("nodes/{}/history/{}", e.node_uuid, e.uuid),
    );
    shaped.hide(&["node_uuid"]).self_link_only();
    shaped
}

/// [`shaped`] as a JSON value, for single answers.
fn render(e: &HistoryEvent, base: &str, version: Microversion, selection: &Selection) -> Value {
    shaped(e, base, version, selection).to_value()
}

pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    super::common::require(version, 78)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:history:get")
        .await?;
    let mut params = params(q)?;
    let paging = Paging::parse(
        &mut params,
        version,
        state.config.max_limit,
        &HISTORY_FIELDS,
        history_sort_column,
        &[],
        false,
    )?;
    params.finish()?;
    let base = base_url(&state, &headers);
    let url_path = format!("nodes/{}/history", node.uuid);
    let link = NextLink {
        base: &base,
        url_path: &url_path,
        carried: &[],
        default_fields: HISTORY_FIELDS.list_default,
    };
    let listing = paging.listing("history", Some(&link));
    let query = paging.query(Vec::new());
    let (db, selection, node) = (state.db.clone(), paging.selection, node.uuid);
    let source = rows(
        query,
        "History event",
        move |q| {
            let db = db.clone();
            async move { db.history_list(node, &q).await }
        },
        move |events: Vec<HistoryEvent>| {
            Chunk::of(
                events.iter().map(|e| shaped(e, &base, version, &selection)),
                events.last().map(|e| e.uuid.to_string()),
            )
        },
    );
    listing.respond(source).await
}

pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path((node_ident, event)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 78)?;
    let selection = show_selection(q, &HISTORY_FIELDS, version)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:history:get")
        .await?;
    let not_found =
        || ApiError::not_found(format!("Node history record {event} could not be found."));
    let entry = state.db.history_get(&event).await.map_err(|e| match e {
        DbError::NotFound => not_found(),
        other => other.into(),
    })?;
    if entry.node_uuid != node.uuid {
        return Err(not_found());
    }
    Ok(Json(render(
        &entry,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}

/// `GET /v1/nodes/{node}/inventory` (API 1.81): what the node's last inspection
/// found — the agent's inventory and the rest of its data (`plugin_data`).
pub async fn inventory(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 81)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:inventory:get")
        .await?;
    match state.db.inventory_get(node.uuid).await {
        Ok(found) => Ok(Json(json!({
            "inventory": found.inventory,
            "plugin_data": found.plugin_data,
        }))),
        Err(ferric_db::DbError::NotFound) => Err(ApiError::not_found(format!(
            "Node {} has no inventory: it has not been inspected.",
            node.uuid
        ))),
        Err(e) => Err(e.into()),
    }
}
