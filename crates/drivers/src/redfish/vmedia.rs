//! Redfish virtual media: the devices a BMC offers (on the system, as newer BMCs
//! and sushy-tools do, else on its managers), what each holds, and the
//! `VirtualMedia.InsertMedia` / `EjectMedia` actions. Ferric's device names map to
//! Redfish media types as Ironic maps them: `cdrom` → `CD`, `floppy` → `Floppy`,
//! `disk` → `USBStick`.

use serde_json::{json, Value};

use super::client::{odata_ids, RedfishClient};
use crate::interfaces::{DriverError, VirtualMedia};

/// The Redfish media type behind each of Ferric's device types.
fn media_type(device: &str) -> Option<&'static str> {
    match device {
        "cdrom" => Some("CD"),
        "floppy" => Some("Floppy"),
        "disk" => Some("USBStick"),
        _ => None,
    }
}

/// The paths of the node's virtual media devices with their resources.
async fn devices(c: &RedfishClient, system: &str) -> Result<Vec<(String, Value)>, DriverError> {
    let sys = c.get(system).await?;
    let mut collections = Vec::new();
    if let Some(path) = sys
        .pointer("/VirtualMedia/@odata.id")
        .and_then(Value::as_str)
    {
        collections.push(path.to_string());
    } else {
        for manager in odata_ids(&sys, "/Links/ManagedBy") {
            let m = c.get(&manager).await?;
            if let Some(path) = m.pointer("/VirtualMedia/@odata.id").and_then(Value::as_str) {
                collections.push(path.to_string());
            }
        }
    }
    let mut found = Vec::new();
    for collection in collections {
        for member in odata_ids(&c.get(&collection).await?, "/Members") {
            let resource = c.get(&member).await?;
            found.push((member, resource));
        }
    }
    Ok(found)
}

fn types_of(resource: &Value) -> Vec<String> {
    resource
        .get("MediaTypes")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Every virtual media device of the node and what it holds.
pub async fn list(c: &RedfishClient, system: &str) -> Result<Vec<VirtualMedia>, DriverError> {
    Ok(devices(c, system)
        .await?
        .into_iter()
        .map(|(_, r)| VirtualMedia {
            media_types: types_of(&r),
            inserted: r.get("Inserted").and_then(Value::as_bool).unwrap_or(false),
            image: r
                .get("Image")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
                .map(str::to_string),
        })
        .collect())
}

/// Inserts `url` into the first device that takes the device type's media.
pub async fn insert(
    c: &RedfishClient,
    system: &str,
    device: &str,
    url: &str,
) -> Result<(), DriverError> {
    let wanted = media_type(device)
        .ok_or_else(|| DriverError::Unsupported(format!("no virtual media type {device}")))?;
    let (path, _) = devices(c, system)
        .await?
        .into_iter()
        .find(|(_, r)| types_of(r).iter().any(|t| t == wanted))
        .ok_or_else(|| {
            DriverError::Unsupported(format!(
                "the BMC has no virtual media device for {wanted} ({device})"
            ))
        })?;
    c.post(
        &format!("{path}/Actions/VirtualMedia.InsertMedia"),
        &json!({"Image": url, "Inserted": true, "WriteProtected": true}),
    )
    .await
    .map(|_| ())
}

/// Ejects what the devices of the given types hold (all devices when empty).
pub async fn eject(
    c: &RedfishClient,
    system: &str,
    devices_asked: &[String],
) -> Result<(), DriverError> {
    let wanted: Vec<&str> = devices_asked.iter().filter_map(|d| media_type(d)).collect();
    for (path, r) in devices(c, system).await? {
        let matches =
            wanted.is_empty() || types_of(&r).iter().any(|t| wanted.contains(&t.as_str()));
        let inserted = r.get("Inserted").and_then(Value::as_bool).unwrap_or(false);
        if matches && inserted {
            c.post(
                &format!("{path}/Actions/VirtualMedia.EjectMedia"),
                &json!({}),
            )
            .await?;
        }
    }
    Ok(())
}
