//! BIOS settings (`/v1/nodes/{node}/bios`, API 1.40; registry fields 1.74) as the
//! node's BIOS interface reports them, and the target RAID configuration
//! (`PUT /v1/nodes/{node}/states/raid`, API 1.12) that the `raid.create_configuration`
//! step builds, with the logical-disk properties a driver accepts.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use ferric_conductor_api::ErrorKind;
use ferric_types::{JsonObject, Microversion};
use serde_json::{json, Map, Value};

use super::common::params;
use super::nodes::check_unlocked;
use crate::access::Access;
use crate::body::{object, JsonBody};
use crate::error::ApiError;
use crate::links::{base_url, self_and_bookmark};
use crate::listing::parse_bool;
use crate::AppState;

/// Registry fields of a detailed BIOS setting (fake hardware has no registry).
const REGISTRY_FIELDS: &[&str] = &[
    "attribute_type",
    "allowable_values",
    "lower_bound",
    "max_length",
    "min_length",
    "read_only",
    "reset_required",
    "unique",
    "upper_bound",
];

/// RAID levels a logical disk may ask for.
const RAID_LEVELS: &[&str] = &["0", "1", "2", "5", "6", "1+0", "5+0", "6+0"];

/// Keys a logical disk may carry, with what they mean.
const LOGICAL_DISK_PROPERTIES: &[(&str, &str)] = &[
    ("size_gb", "Size in GiB (an integer) or \"MAX\". Required."),
    (
        "raid_level",
        "RAID level: 0, 1, 2, 5, 6, 1+0, 5+0 or 6+0. Required.",
    ),
    (
        "is_root_volume",
        "Whether the deploy should use this volume as the root device. Optional.",
    ),
    ("volume_name", "Name of the volume. Optional."),
    (
        "share_physical_disks",
        "Whether other logical disks may share its physical disks. Optional.",
    ),
    ("disk_type", "hdd or ssd. Optional."),
    ("interface_type", "sata, scsi or sas. Optional."),
    (
        "number_of_physical_disks",
        "How many physical disks to use. Optional.",
    ),
    ("controller", "The RAID controller to use. Optional."),
    ("physical_disks", "The physical disks to use. Optional."),
];

fn setting_json(
    base: &str,
    node: &str,
    name: &str,
    value: &Value,
    version: Microversion,
    detail: bool,
) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(name));
    obj.insert("value".into(), value.clone());
    obj.insert("created_at".into(), Value::Null);
    obj.insert("updated_at".into(), Value::Null);
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("nodes/{node}/bios/{name}")),
    );
    if detail && version.at_least(74) {
        for field in REGISTRY_FIELDS {
            obj.insert((*field).into(), Value::Null);
        }
    }
    Value::Object(obj)
}

async fn settings(
    state: &AppState,
    node: ferric_types::NodeId,
) -> Result<Vec<(String, Value)>, ApiError> {
    match state.conductor.bios(node).await {
        Ok(s) => Ok(s),
        // A node without a BIOS interface simply has no settings to show.
        Err(e) if e.kind == ErrorKind::Unsupported => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

pub async fn list_bios(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 40)?;
    let mut params = params(q)?;
    let detail = match params.take_since("detail", 74, version)? {
        Some(v) => parse_bool("detail", &v)?,
        None => false,
    };
    params.finish()?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:bios:get")
        .await?;
    let base = base_url(&state, &headers);
    let items: Vec<Value> = settings(&state, node.uuid)
        .await?
        .iter()
        .map(|(k, v)| setting_json(&base, &node.uuid.to_string(), k, v, version, detail))
        .collect();
    Ok(Json(json!({ "bios": items })))
}

pub async fn show_bios(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path((node_ident, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 40)?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:bios:get")
        .await?;
    let all = settings(&state, node.uuid).await?;
    let (_, value) = all.iter().find(|(k, _)| *k == name).ok_or_else(|| {
        ApiError::not_found(format!(
            "BIOS setting {name} could not be found for node {}.",
            node.uuid
        ))
    })?;
    let base = base_url(&state, &headers);
    Ok(Json(
        json!({ name.clone(): setting_json(&base, &node.uuid.to_string(), &name, value, version, true) }),
    ))
}

/// Checks a target RAID configuration: `{}` or `{"logical_disks": [...]}`.
fn check_raid(target: &JsonObject) -> Result<(), ApiError> {
    if target.is_empty() {
        return Ok(());
    }
    if let Some(key) = target.keys().find(|k| *k != "logical_disks") {
        return Err(ApiError::bad_request(format!(
            "Invalid RAID configuration: unexpected key \"{key}\""
        )));
    }
    let Some(Value::Array(disks)) = target.get("logical_disks") else {
        return Err(ApiError::bad_request(
            "Invalid RAID configuration: \"logical_disks\" must be a list",
        ));
    };
    if disks.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid RAID configuration: \"logical_disks\" is empty",
        ));
    }
    for disk in disks {
        let Value::Object(d) = disk else {
            return Err(ApiError::bad_request(format!(
                "Invalid logical disk {disk}: it must be an object"
            )));
        };
        if let Some(key) = d
            .keys()
            .find(|k| !LOGICAL_DISK_PROPERTIES.iter().any(|(p, _)| p == k))
        {
            return Err(ApiError::bad_request(format!(
                "Invalid logical disk {disk}: unknown property \"{key}\""
            )));
        }
        let size_ok = match d.get("size_gb") {
            Some(Value::Number(n)) => n.as_u64().is_some_and(|s| s > 0),
            Some(Value::String(s)) => s == "MAX",
            _ => false,
        };
        if !size_ok {
            return Err(ApiError::bad_request(format!(
                "Invalid logical disk {disk}: size_gb must be a positive integer or \"MAX\""
            )));
        }
        if !d
            .get("raid_level")
            .and_then(Value::as_str)
            .is_some_and(|l| RAID_LEVELS.contains(&l))
        {
            return Err(ApiError::bad_request(format!(
                "Invalid logical disk {disk}: raid_level must be one of {}",
                RAID_LEVELS.join(", ")
            )));
        }
    }
    let roots = disks
        .iter()
        .filter(|d| d.get("is_root_volume") == Some(&Value::Bool(true)))
        .count();
    if roots > 1 {
        return Err(ApiError::bad_request(
            "Invalid RAID configuration: more than one root volume",
        ));
    }
    Ok(())
}

pub async fn set_raid(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    if !version.at_least(12) {
        return Err(ApiError::not_acceptable("Request not acceptable."));
    }
    let target = object(body, "target RAID configuration")?;
    let node = access
        .node(
            &state,
            &node_ident,
            version,
            "baremetal:node:set_raid_state",
        )
        .await?;
    if node
        .raid_interface
        .as_deref()
        .is_none_or(|r| r.starts_with("no-"))
    {
        return Err(ApiError::not_found(format!(
            "RAID is not supported by the raid interface of node {}",
            node.uuid
        )));
    }
    check_raid(&target)?;
    check_unlocked(&node)?;
    state.conductor.set_target_raid(node.uuid, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn logical_disk_properties(
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(driver): Path<String>,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:driver:get_raid_logical_disk_properties")?;
    super::common::require(version, 12)?;
    let hw = ferric_types::hardware::hardware_type(&driver)
        .ok_or_else(|| ApiError::not_found(format!("Driver {driver} could not be found.")))?;
    if hw
        .default_interface(ferric_types::hardware::InterfaceKind::Raid)
        .is_none_or(|r| r.starts_with("no-"))
    {
        return Err(ApiError::not_found(format!(
            "Driver {driver} has no RAID interface"
        )));
    }
    let props: Map<String, Value> = LOGICAL_DISK_PROPERTIES
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Ok(Json(Value::Object(props)))
}
