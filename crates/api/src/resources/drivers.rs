//! `/v1/drivers`: the hardware types this Ferric knows, which alive conductors
//! serve each, and (detailed) their default and enabled interfaces and properties.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ferric_types::hardware::{enabled, hardware_type, HardwareType, InterfaceKind, HARDWARE_TYPES};
use ferric_types::{Microversion, Timestamp};
use serde_json::{json, Map, Value};

use super::common::params;
use crate::access::Access;
use crate::error::ApiError;
use crate::links::{base_url, self_and_bookmark};
use crate::listing::parse_bool;
use crate::AppState;

/// Interface kinds shown in a detailed driver, and the version that added each.
const DETAIL_INTERFACES: &[(InterfaceKind, u16)] = &[
    (InterfaceKind::Boot, 30),
    (InterfaceKind::Console, 30),
    (InterfaceKind::Deploy, 30),
    (InterfaceKind::Inspect, 30),
    (InterfaceKind::Management, 30),
    (InterfaceKind::Network, 30),
    (InterfaceKind::Power, 30),
    (InterfaceKind::Raid, 30),
    (InterfaceKind::Vendor, 30),
    (InterfaceKind::Storage, 33),
    (InterfaceKind::Rescue, 38),
    (InterfaceKind::Bios, 40),
    (InterfaceKind::Firmware, 86),
];

/// The `driver_info` keys fake-hardware understands.
const FAKE_PROPERTIES: &[(&str, &str)] = &[
    (
        "fake_power_delay",
        "Seconds a power change takes. Optional.",
    ),
    (
        "fake_verify_delay",
        "Seconds verification (manage) takes. Optional.",
    ),
    ("fake_clean_delay", "Seconds cleaning takes. Optional."),
    ("fake_inspect_delay", "Seconds inspection takes. Optional."),
    ("fake_deploy_delay", "Seconds a deploy takes. Optional."),
    (
        "fake_tear_down_delay",
        "Seconds tearing down an instance takes. Optional.",
    ),
    (
        "fake_rescue_delay",
        "Seconds entering rescue takes. Optional.",
    ),
        ("fake_fail_<work>", "true makes that work (power, deploy, clean, inspect, verify…) or that step (erase_devices…) fail. Optional."),
    ("fake_wait_clean", "true makes cleaning wait for an agent callback that never comes (clean wait). Optional."),
    ("fake_wait_deploy", "true makes deploying wait for an agent callback that never comes (wait call-back). Optional."),
];

/// Alive conductors serving `hw`.
async fn hosts(state: &AppState, hw: &HardwareType) -> Result<Vec<String>, ApiError> {
    let now = Timestamp::now();
    let timeout = state.rings.heartbeats().timeout_secs();
    Ok(state
        .db
        .conductor_list()
        .await?
        .into_iter()
        .filter(|c| c.is_alive(now, timeout) && c.drivers.iter().any(|d| d == hw.name))
        .map(|c| c.hostname)
        .collect())
}

async fn render(
    state: &AppState,
    base: &str,
    hw: &HardwareType,
    version: Microversion,
    detail: bool,
) -> Result<Value, ApiError> {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(hw.name));
    obj.insert("hosts".into(), json!(hosts(state, hw).await?));
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("drivers/{}", hw.name)),
    );
    if version.at_least(14) {
        obj.insert(
            "properties".into(),
            self_and_bookmark(base, &format!("drivers/{}/properties", hw.name)),
        );
    }
    if version.at_least(30) {
        obj.insert("type".into(), json!("dynamic"));
    }
    if detail && version.at_least(30) {
        for (kind, since) in DETAIL_INTERFACES {
            if version.at_least(*since) {
                let usable: Vec<&str> = hw
                    .supported(*kind)
                    .iter()
                    .copied()
                    .filter(|i| enabled(*kind).contains(i))
                    .collect();
                obj.insert(
                    format!("default_{}_interface", kind.as_str()),
                    json!(hw.default_interface(*kind)),
                );
                obj.insert(
                    format!("enabled_{}_interfaces", kind.as_str()),
                    json!(usable),
                );
            }
        }
    }
    Ok(Value::Object(obj))
}

fn find(name: &str) -> Result<&'static HardwareType, ApiError> {
    hardware_type(name)
        .ok_or_else(|| ApiError::not_found(format!("Driver {name} could not be found.")))
}

/// Keeps only the `?fields=` asked for (API 1.77) and the links.
fn select(mut driver: Value, fields: &Option<Vec<String>>) -> Result<Value, ApiError> {
    let (Some(fields), Value::Object(obj)) = (fields, &mut driver) else {
        return Ok(driver);
    };
    if let Some(unknown) = fields.iter().find(|f| !obj.contains_key(f.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Field(s) \"{unknown}\" are not valid"
        )));
    }
    obj.retain(|k, _| k == "links" || fields.iter().any(|f| f == k));
    Ok(driver)
}

fn fields_param(
    params: &mut crate::listing::Params,
    version: Microversion,
) -> Result<Option<Vec<String>>, ApiError> {
    Ok(params.take_since("fields", 77, version)?.map(|csv| {
        csv.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    }))
}

pub async fn list(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:driver:get")?;
    let mut params = params(q)?;
    let kind = params.take_since("type", 30, version)?;
    let fields = fields_param(&mut params, version)?;
    let detail = params
        .take_since("detail", 30, version)?
        .map(|v| parse_bool("detail", &v))
        .transpose()?
        .unwrap_or(false);
    params.finish()?;
    let base = base_url(&state, &headers);
    let wanted: &[&HardwareType] = match kind.as_deref() {
        None | Some("dynamic") => HARDWARE_TYPES,
        Some("classic") => &[],
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid driver type \"{other}\": use classic or dynamic"
            )))
        }
    };
    let mut drivers = Vec::new();
    for hw in wanted {
        let full = fields.is_some() || detail;
        drivers.push(select(
            render(&state, &base, hw, version, full).await?,
            &fields,
        )?);
    }
    Ok(Json(json!({ "drivers": drivers })))
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:driver:get")?;
    let hw = find(&name)?;
    Ok(Json(
        render(&state, &base_url(&state, &headers), hw, version, true).await?,
    ))
}

pub async fn properties(access: Access, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:driver:get_properties")?;
    let hw = find(&name)?;
    let props: Map<String, Value> = match hw.name {
        "fake-hardware" => FAKE_PROPERTIES
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
        _ => Map::new(),
    };
    Ok(Json(Value::Object(props)))
}
