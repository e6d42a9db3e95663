//! In-band inspection: before looking its node up, an agent booted with an
//! inspection callback URL posts what it found on the machine — the hardware
//! inventory (with each NIC's LLDP when `ipa-collect-lldp` is set), the disk it
//! would pick as root, the PXE NIC — as ironic-python-agent does. Connection errors, 409 and 5xx answers are retried five times with
//! exponential backoff (5–30 s); any other refusal is logged and the agent goes on
//! to its lookup.

use std::time::Duration;

use serde_json::{json, Value};

use crate::settings::Settings;
use crate::{disks, hints, inventory, lldp};

/// Attempts in all, and the backoff bounds between them.
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The inspection data: the `default` collector's keys, with LLDP when asked for.
pub async fn gather(settings: &Settings) -> Value {
    let heard = if settings.collect_lldp {
        Some(lldp::collect(settings, &inventory::nics(settings)).await)
    } else {
        None
    };
    payload(settings, heard.as_ref())
}

/// The inspection data from what the NICs heard.
pub fn payload(settings: &Settings, heard: Option<&lldp::Heard>) -> Value {
    let inventory = inventory::collect_with(settings, heard);
    let disks = disks::list(settings).unwrap_or_default();
    let root_disk = hints::choose(&disks, None, settings.test_mode())
        .map(disks::Disk::to_json)
        .ok();
    json!({
        "inventory": inventory,
        "root_disk": root_disk,
        "boot_interface": settings.bootif,
        "configuration": {
            "collectors": ["default"],
            "managers": [{"name": "generic_hardware_manager", "version": "1.2"}],
        },
        "error": null,
    })
}

/// Posts the inspection data with the API client's HTTP client (same timeout and
/// TLS settings); returns the node's UUID when the answer names it.
pub async fn run(settings: &Settings, http: &reqwest::Client, url: &str) -> Option<String> {
    let body = gather(settings).await;
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let retry = match http.post(url).json(&body).send().await {
            Ok(resp) if resp.status().is_success() => {
                let answer: Value = resp.json().await.unwrap_or(Value::Null);
                let uuid = answer
                    .get("uuid")
                    .or_else(|| answer.pointer("/node/uuid"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                tracing::info!(node = ?uuid, "inspection data accepted");
                return uuid;
            }
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                if status.as_u16() != 409 && !status.is_server_error() {
                    tracing::error!(%status, answer = %text, "inspection data refused; going on to the lookup");
                    return None;
                }
                format!("{status}: {text}")
            }
            Err(e) => e.to_string(),
        };
        if attempt == ATTEMPTS {
            tracing::error!(error = %retry, "inspection data not delivered; going on to the lookup");
            break;
        }
        tracing::warn!(error = %retry, attempt, "posting inspection data failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_carries_the_inventory_and_the_root_disk() {
        let dir = std::env::temp_dir().join(format!("ferric-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("disk");
        std::fs::write(&disk, vec![0u8; 4096]).unwrap();
        let settings = Settings {
            disks: vec![disk.clone()],
            macs: vec!["52:54:00:aa:bb:cc".into()],
            bootif: Some("01-52-54-00-aa-bb-cc".into()),
            ..Settings::default()
        };
        let p = payload(&settings, None);
        assert_eq!(
            p.pointer("/inventory/interfaces/0/mac_address"),
            Some(&json!("52:54:00:aa:bb:cc"))
        );
        assert_eq!(p["root_disk"]["name"], json!(disk.display().to_string()));
        assert_eq!(p["root_disk"]["size"], json!(4096));
        assert_eq!(p["boot_interface"], json!("01-52-54-00-aa-bb-cc"));
        assert_eq!(p["error"], Value::Null);
        assert_eq!(p["inventory"]["interfaces"][0]["lldp"], Value::Null);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn with_lldp_collected_each_nic_reports_its_switch_tlvs() {
        use ferric_types::lldp::{encode_frame, Tlv};
        let switch = [0x02, 0xfe, 0, 0, 0, 1];
        let frame = encode_frame(
            switch,
            &[
                Tlv::chassis_mac(switch),
                Tlv::port_name("Ethernet1/1"),
                Tlv::ttl(120),
                Tlv::system_name("leaf"),
            ],
        )
        .unwrap();
        let settings = Settings {
            disks: vec!["/dev/null".into()],
            macs: vec!["52:54:00:aa:bb:cc".into(), "52:54:00:aa:bb:cd".into()],
            collect_lldp: true,
            lldp_frames: [("52:54:00:aa:bb:cc".to_string(), frame)].into(),
            ..Settings::default()
        };
        let p = gather(&settings).await;
        let nics = &p["inventory"]["interfaces"];
        assert_eq!(nics[0]["lldp"][0], json!([1, "0402fe00000001"]));
        assert_eq!(nics[0]["lldp"][3], json!([5, "6c656166"]));
        assert_eq!(nics[0]["lldp"][4], json!([0, ""]));
        assert_eq!(nics[1]["lldp"], json!([]), "a NIC that heard nothing");
    }
}
