//! LLDP during inspection, collected as ironic-python-agent does with
//! `ipa-collect-lldp`: every NIC listens at once for the first LLDP frame its
//! switch sends, for up to `ipa-lldp-timeout`. The inventory then reports, per
//! interface, the frame's TLVs in IPA's wire form (`[[type, "hex"], …]`): an empty
//! list when nothing came, `null` when the NIC could not listen (or LLDP was not
//! collected). In test mode the frames come from the settings and go through the
//! same parser.

mod socket;

use std::collections::BTreeMap;
use std::time::Duration;

use ferric_types::lldp::{self, Tlv};
use serde_json::Value;

use crate::settings::Settings;

use socket::LldpSocket;

/// What each NIC heard, by interface name.
pub type Heard = BTreeMap<String, Vec<Tlv>>;

/// What each of `nics` (`(name, mac)`) heard.
pub async fn collect(settings: &Settings, nics: &[(String, String)]) -> Heard {
    if settings.test_mode() {
        return from_settings(settings, nics);
    }
    let names: Vec<String> = nics.iter().map(|(name, _)| name.clone()).collect();
    listen(&names, settings.lldp_timeout).await
}

/// Test mode: the frames the settings give each NIC's MAC, parsed.
fn from_settings(settings: &Settings, nics: &[(String, String)]) -> Heard {
    nics.iter()
        .map(|(name, mac)| {
            let tlvs = match settings.lldp_frames.get(mac).map(|f| lldp::parse_frame(f)) {
                None => Vec::new(),
                Some(Ok(tlvs)) => tlvs,
                Some(Err(e)) => {
                    tracing::warn!(interface = %name, error = %e, "ignoring a malformed LLDP frame");
                    Vec::new()
                }
            };
            (name.clone(), tlvs)
        })
        .collect()
}

/// Listens on every named interface at once. Each gets the TLVs of the first LLDP
/// frame it receives within `timeout` (frames that do not parse are skipped), or an
/// empty list; an interface that cannot be listened on is left out.
pub async fn listen(names: &[String], timeout: Duration) -> Heard {
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let sock = match LldpSocket::open(name) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(interface = %name, error = %e, "cannot listen for LLDP");
                continue;
            }
        };
        let name = name.clone();
        tasks.spawn(async move {
            let tlvs = tokio::time::timeout(timeout, first_lldpdu(&sock, &name))
                .await
                .unwrap_or_default();
            (name, tlvs)
        });
    }
    tracing::info!(
        interfaces = tasks.len(),
        timeout_s = timeout.as_secs_f64(),
        "waiting for LLDP"
    );
    let mut heard = Heard::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((name, tlvs)) => {
                if tlvs.is_empty() {
                    tracing::warn!(interface = %name, "no LLDP frame arrived");
                } else {
                    tracing::info!(interface = %name, tlvs = tlvs.len(), "LLDP received");
                }
                heard.insert(name, tlvs);
            }
            Err(e) => tracing::warn!(error = %e, "an LLDP listener failed"),
        }
    }
    heard
}

/// The TLVs of the first frame on `sock` that parses as LLDP; empty on a socket
/// error.
async fn first_lldpdu(sock: &LldpSocket, name: &str) -> Vec<Tlv> {
    loop {
        match sock.recv().await {
            Ok(frame) => match lldp::parse_frame(&frame) {
                Ok(tlvs) => return tlvs,
                Err(e) => {
                    tracing::debug!(interface = %name, error = %e, "skipping a frame that is not LLDP")
                }
            },
            Err(e) => {
                tracing::warn!(interface = %name, error = %e, "reading LLDP failed");
                return Vec::new();
            }
        }
    }
}

/// An interface's `lldp` field of the inventory.
pub fn inventory_value(heard: Option<&Heard>, name: &str) -> Value {
    heard
        .and_then(|h| h.get(name))
        .map_or(Value::Null, |tlvs| lldp::to_ipa(tlvs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> Settings {
        let frame = lldp::encode_frame(
            [2, 0, 0, 0, 0, 1],
            &[
                Tlv::chassis_mac([2, 0, 0, 0, 0, 1]),
                Tlv::port_name("Ethernet1/3"),
                Tlv::ttl(120),
            ],
        )
        .unwrap();
        Settings {
            disks: vec!["/dev/null".into()],
            macs: vec!["52:54:00:00:00:01".into(), "52:54:00:00:00:02".into()],
            lldp_frames: [
                ("52:54:00:00:00:01".to_string(), frame),
                ("52:54:00:00:00:02".to_string(), vec![1, 2, 3]),
            ]
            .into(),
            ..Settings::default()
        }
    }

    #[tokio::test]
    async fn test_mode_frames_are_parsed_and_bad_ones_heard_as_nothing() {
        let s = settings();
        let nics = vec![
            ("eth0".to_string(), s.macs[0].clone()),
            ("eth1".to_string(), s.macs[1].clone()),
            ("eth2".to_string(), "52:54:00:00:00:03".to_string()),
        ];
        let heard = collect(&s, &nics).await;
        assert_eq!(
            inventory_value(Some(&heard), "eth0"),
            json!([
                [1, "04020000000001"],
                [2, lldp::hex(b"\x05Ethernet1/3")],
                [3, "0078"],
                [0, ""]
            ])
        );
        assert_eq!(inventory_value(Some(&heard), "eth1"), json!([]));
        assert_eq!(inventory_value(Some(&heard), "eth2"), json!([]));
        assert_eq!(inventory_value(Some(&heard), "eth9"), Value::Null);
        assert_eq!(inventory_value(None, "eth0"), Value::Null);
    }
}
