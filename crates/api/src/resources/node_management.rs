//! `/v1/nodes/{node}/management/…`: boot device get/set, supported boot devices, NMI
//! injection (API 1.29), indicators (API 1.63), and virtual media (`/vmedia`, API
//! 1.89), done by the conductor through the node's driver.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use ferric_conductor_api::BootSetting;
use ferric_types::hardware::BOOT_DEVICES;
use ferric_types::management::BootDevice;
use ferric_types::Microversion;
use serde_json::{json, Value};

use super::nodes::check_unlocked;
use crate::access::Access;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::AppState;

pub async fn get_boot_device(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:get_boot_device",
        )
        .await?;
    let device = state.conductor.get_boot_device(node.uuid).await?;
    Ok(Json(match device {
        Some(d) => json!({"boot_device": d.device, "persistent": d.persistent}),
        None => json!({"boot_device": null, "persistent": null}),
    }))
}

pub async fn set_boot_device(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let mut doc = object(body, "request body")?;
    let device = match doc.remove("boot_device") {
        Some(Value::String(d)) if BOOT_DEVICES.contains(&d.as_str()) => d,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid boot device {other}: use one of {}",
                BOOT_DEVICES.join(", ")
            )))
        }
        None => return Err(ApiError::bad_request("A \"boot_device\" is required")),
    };
    let persistent = match doc.remove("persistent") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid persistent {other}: it must be a boolean"
            )))
        }
    };
    if let Some(key) = doc.keys().next() {
        return Err(ApiError::bad_request(format!(
            "Unexpected arguments: {key}"
        )));
    }
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_boot_device",
        )
        .await?;
    check_unlocked(&node)?;
    state
        .conductor
        .set_boot_device(node.uuid, BootDevice { device, persistent })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn supported_boot_devices(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:get_boot_device",
        )
        .await?;
    let devices = state.conductor.supported_boot_devices(node.uuid).await?;
    Ok(Json(json!({ "supported_boot_devices": devices })))
}

pub async fn inject_nmi(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 29)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let doc = object(crate::body::parse(&body)?, "request body")?;
        if let Some(key) = doc.keys().next() {
            return Err(ApiError::bad_request(format!(
                "Unexpected arguments: {key}"
            )));
        }
    }
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:inject_nmi")
        .await?;
    check_unlocked(&node)?;
    state.conductor.inject_nmi(node.uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

const VMEDIA_DEVICES: &[&str] = &["cdrom", "disk", "floppy"];

/// `POST /v1/nodes/{node}/vmedia` (API 1.89): insert an image as virtual media.
pub async fn attach_vmedia(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 89)?;
    let mut doc = object(body, "request body")?;
    let device = match doc.remove("device_type") {
        Some(Value::String(d)) if VMEDIA_DEVICES.contains(&d.as_str()) => d,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid device_type {}: use one of cdrom, disk, floppy",
                other.unwrap_or(Value::Null)
            )))
        }
    };
    let url = match doc.remove("image_url") {
        Some(Value::String(u))
            if ["http://", "https://", "nfs://", "cifs://"]
                .iter()
                .any(|p| u.starts_with(p)) =>
        {
            u
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid image_url {}: it must be an http(s), nfs or cifs URL",
                other.unwrap_or(Value::Null)
            )))
        }
    };
    match doc.remove("image_download_source") {
        None => {}
        Some(Value::String(s)) if ["http", "local", "swift"].contains(&s.as_str()) => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid image_download_source {other}: use http, local or swift"
            )))
        }
    }
    if let Some(key) = doc.keys().next() {
        return Err(ApiError::bad_request(format!(
            "Unexpected arguments: {key}"
        )));
    }
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vmedia:attach")
        .await?;
    check_unlocked(&node)?;
    state
        .conductor
        .set_boot_setting(node.uuid, BootSetting::AttachMedia { device, url })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/nodes/{node}/vmedia` (API 1.93): the node's virtual media devices, a
/// bare array of `{media_types, inserted, image}` read from the BMC.
pub async fn get_vmedia(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 93)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vmedia:get")
        .await?;
    let media = state.conductor.virtual_media(node.uuid).await?;
    Ok(Json(Value::Array(
        media
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "media_types": m.media_types,
                    "inserted": m.inserted,
                    "image": m.image,
                })
            })
            .collect(),
    )))
}

/// `DELETE /v1/nodes/{node}/vmedia[?device_types=…]` (API 1.89): eject virtual media.
pub async fn detach_vmedia(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 89)?;
    let mut params = super::common::params(q)?;
    let devices: Vec<String> = params
        .take("device_types")
        .map(|csv| {
            csv.split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    params.finish()?;
    if let Some(bad) = devices
        .iter()
        .find(|d| !VMEDIA_DEVICES.contains(&d.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "Invalid device type {bad}: use cdrom, disk or floppy"
        )));
    }
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:vmedia:detach")
        .await?;
    check_unlocked(&node)?;
    state
        .conductor
        .set_boot_setting(node.uuid, BootSetting::DetachMedia(devices))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/nodes/{node}/management/indicators` (API 1.63).
pub async fn list_indicators(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: axum::http::HeaderMap,
    Path(node_ident): Path<String>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 63)?;
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:get_indicator_state",
        )
        .await?;
    let base = crate::links::base_url(&state, &headers);
    let items: Vec<Value> = state
        .conductor
        .indicators(node.uuid)
        .await?
        .into_iter()
        .map(|i| {
            json!({
                "name": i.name,
                "component": i.component,
                "readonly": i.readonly,
                "states": i.states,
                "links": crate::links::self_and_bookmark(
                    &base,
                    &format!("nodes/{}/management/indicators/{}", node.uuid, i.name)
                ),
            })
        })
        .collect();
    Ok(Json(json!({ "indicators": items })))
}

/// `GET /v1/nodes/{node}/management/indicators/{indicator@component}`.
pub async fn get_indicator(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path((node_ident, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 63)?;
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:get_indicator_state",
        )
        .await?;
    let found = state
        .conductor
        .indicators(node.uuid)
        .await?
        .into_iter()
        .find(|i| i.name == name);
    match found {
        Some(i) => Ok(Json(json!({ "state": i.state }))),
        None => Err(ApiError::not_found(format!(
            "Node {} has no indicator {name}",
            node.uuid
        ))),
    }
}

/// `PUT /v1/nodes/{node}/management/indicators/{indicator@component}` with `{"state"}`.
pub async fn set_indicator(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path((node_ident, name)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    super::common::require(version, 63)?;
    let mut doc = object(body, "request body")?;
    let wanted = match doc.remove("state") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        _ => return Err(ApiError::bad_request("Missing mandatory parameter: state")),
    };
    if let Some(key) = doc.keys().next() {
        return Err(ApiError::bad_request(format!(
            "Unexpected arguments: {key}"
        )));
    }
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_indicator_state",
        )
        .await?;
    if !state
        .conductor
        .indicators(node.uuid)
        .await?
        .iter()
        .any(|i| i.name == name)
    {
        return Err(ApiError::not_found(format!(
            "Node {} has no indicator {name}",
            node.uuid
        )));
    }
    check_unlocked(&node)?;
    state
        .conductor
        .set_indicator(node.uuid, name, wanted)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
