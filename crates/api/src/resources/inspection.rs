//! `POST /v1/continue_inspection`: where a ramdisk agent booted for inspection
//! posts what it found. The node is the one whose ports carry the inventory's MACs
//! (`?node_uuid=` must name that node too), and only a node waiting for inspection
//! data is found — like the lookup, the endpoint tells an unauthenticated caller
//! nothing about others. The data goes to the conductor (202). The answer is
//! `{"uuid"}`, or from API 1.84 the lookup's answer (node, agent configuration,
//! agent token).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferric_conductor_api::ErrorKind;
use ferric_types::provision::ProvisionState;
use ferric_types::{MacAddress, Microversion, NodeId};
use serde_json::{json, Value};

use super::common::params;
use super::ramdisk::{find_by_macs, lookup_answer};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::AppState;

/// The inventory's MACs, in its order.
fn macs_of(data: &Value) -> Vec<MacAddress> {
    data.pointer("/inventory/interfaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|nic| nic.get("mac_address").and_then(Value::as_str))
        .filter_map(|m| m.parse().ok())
        .collect()
}

pub async fn continue_inspection(
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    JsonBody(data): JsonBody,
) -> Result<Response, ApiError> {
    let mut q = params(raw)?;
    let node_uuid = q.take("node_uuid");
    q.finish()?;
    if !data.is_object() {
        return Err(ApiError::bad_request(
            "The inspection data must be a JSON object.",
        ));
    }
    ferric_types::inspection_data::validate(&data)
        .map_err(|e| ApiError::bad_request(format!("Invalid inspection data: {e}.")))?;
    let not_found = || {
        ApiError::not_found(
            "Node could not be found: no node waiting for inspection data has these MAC addresses.",
        )
    };
    let by_mac = find_by_macs(&state, &macs_of(&data)).await?;
    let node = match node_uuid {
        Some(u) => {
            let id: NodeId = u
                .parse()
                .map_err(|_| ApiError::bad_request(format!("Expected a UUID but received {u}.")))?;
            // The UUID narrows the lookup; the inventory's MACs must still be its.
            by_mac.filter(|n| n.uuid == id)
        }
        None => by_mac,
    }
    // `inspecting` too: the node's ramdisk may call before the conductor has
    // recorded `inspect wait`; the conductor decides under the node's lock.
    .filter(|n| {
        matches!(
            n.provision_state,
            ProvisionState::Inspecting | ProvisionState::InspectWait
        )
    })
    .ok_or_else(not_found)?;
    let uuid = node.uuid;
    let answer = if version.at_least(84) {
        lookup_answer(&state, &headers, version, node).await?
    } else {
        json!({ "uuid": uuid.to_string() })
    };
    match state.conductor.continue_inspection(uuid, data).await {
        Ok(()) => {}
        // Like the lookup, tell an unauthenticated caller nothing about the node.
        Err(e) if e.kind == ErrorKind::InvalidState => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}
