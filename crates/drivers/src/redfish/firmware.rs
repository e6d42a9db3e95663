//! The firmware a Redfish BMC reports, read as Ironic's redfish firmware interface
//! reads it: the system's `BiosVersion` (`bios`), its manager's `FirmwareVersion`
//! and `Model` (`bmc`), and each network adapter controller's
//! `FirmwarePackageVersion` (`nic:<serial number or id>`, with the adapter's
//! manufacturer, model and serial number).

use ferric_types::firmware::FirmwareReading;
use serde_json::Value;

use super::client::{odata_ids, RedfishClient};
use crate::interfaces::DriverError;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn first_link(v: &Value, pointer: &str) -> Option<String> {
    odata_ids(v, pointer).into_iter().next()
}

/// The NIC firmware of the chassis' network adapters; none when it has none.
async fn nics(c: &RedfishClient, chassis: &str) -> Vec<FirmwareReading> {
    let mut found = Vec::new();
    let Ok(ch) = c.get(chassis).await else {
        return found;
    };
    let Some(adapters) = ch
        .pointer("/NetworkAdapters/@odata.id")
        .and_then(Value::as_str)
    else {
        return found;
    };
    let Ok(list) = c.get(adapters).await else {
        return found;
    };
    for member in odata_ids(&list, "/Members") {
        let Ok(adapter) = c.get(&member).await else {
            continue;
        };
        let serial = text(&adapter, "SerialNumber");
        let id = serial
            .clone()
            .or_else(|| text(&adapter, "Id"))
            .unwrap_or_else(|| member.rsplit('/').next().unwrap_or_default().to_string());
        for ctrl in adapter
            .get("Controllers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(version) = text(ctrl, "FirmwarePackageVersion") {
                found.push(FirmwareReading {
                    component: format!("nic:{id}"),
                    version,
                    vendor: text(&adapter, "Manufacturer"),
                    model: text(&adapter, "Model"),
                    serial_number: serial.clone(),
                });
            }
        }
    }
    found
}

pub async fn read(c: &RedfishClient, system: &str) -> Result<Vec<FirmwareReading>, DriverError> {
    let sys = c.get(system).await?;
    let mut found = Vec::new();
    if let Some(version) = text(&sys, "BiosVersion") {
        found.push(FirmwareReading {
            component: "bios".into(),
            version,
            vendor: None,
            model: None,
            serial_number: None,
        });
    }
    if let Some(manager) = first_link(&sys, "/Links/ManagedBy") {
        if let Ok(m) = c.get(&manager).await {
            if let Some(version) = text(&m, "FirmwareVersion") {
                found.push(FirmwareReading {
                    component: "bmc".into(),
                    version,
                    vendor: None,
                    model: text(&m, "Model"),
                    serial_number: None,
                });
            }
        }
    }
    if let Some(chassis) = first_link(&sys, "/Links/Chassis") {
        found.extend(nics(c, &chassis).await);
    }
    if found.is_empty() {
        return Err(DriverError::Unsupported(
            "the BMC reports no BIOS, BMC or NIC firmware version".into(),
        ));
    }
    Ok(found)
}
