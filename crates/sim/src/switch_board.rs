//! The rack's switches as their management plane sees them: each port's access
//! segment (untagged, one VLAN, or shut down) and a log of every change, in order.
//! Served on the rack's listener as a small management API, the one Ferric's `sim`
//! switch driver drives:
//!
//! - `PUT /sim/switches/{switch}/ports/{port}` with `{"vlan": 100}` makes the port an
//!   access port of VLAN 100 (`{"vlan": null}`: untagged), and enables it;
//! - `DELETE /sim/switches/{switch}/ports/{port}` shuts it down;
//! - `GET /sim/switches` and `GET /sim/switches/{switch}` show them, the latter with
//!   its change log.
//!
//! Port names carry a `/` (`Ethernet1/7`), so it travels percent-encoded. Writes
//! need the rack's BMC credentials, as a switch's configuration would; reading is
//! open, like `/sim/machines`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::redfish::{authorized, Bmc};
use crate::switch::{SimSwitch, PORTS_PER_SWITCH};

/// What a switch port is configured as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSegment {
    /// Enabled, untagged (the switch's default VLAN): how ports start.
    Untagged,
    /// Enabled, an access port of this VLAN.
    Vlan(u16),
    /// Shut down: it reaches nothing.
    Down,
}

impl std::fmt::Display for PortSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSegment::Untagged => f.write_str("untagged"),
            PortSegment::Vlan(id) => write!(f, "vlan {id}"),
            PortSegment::Down => f.write_str("down"),
        }
    }
}

/// One change of a switch port's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub port: String,
    pub segment: PortSegment,
}

struct BoardSwitch {
    switch: SimSwitch,
    /// Port `Ethernet1/n` at index n - 1.
    ports: Vec<PortSegment>,
    log: Vec<Change>,
}

/// Every switch of the rack and its ports' configuration.
pub struct SwitchBoard {
    /// In the rack's order.
    names: Vec<String>,
    switches: Mutex<HashMap<String, BoardSwitch>>,
}

/// The index of a port name (`Ethernet1/1` … `Ethernet1/48`).
fn port_index(port: &str) -> Option<usize> {
    let n: usize = port.strip_prefix("Ethernet1/")?.parse().ok()?;
    (1..=PORTS_PER_SWITCH).contains(&n).then(|| n - 1)
}

fn port_name(index: usize) -> String {
    format!("Ethernet1/{}", index + 1)
}

impl SwitchBoard {
    /// The switches, every port untagged.
    pub fn new(switches: &[SimSwitch]) -> Self {
        Self {
            names: switches.iter().map(|s| s.name.clone()).collect(),
            switches: Mutex::new(
                switches
                    .iter()
                    .map(|s| {
                        (
                            s.name.clone(),
                            BoardSwitch {
                                switch: s.clone(),
                                ports: vec![PortSegment::Untagged; PORTS_PER_SWITCH],
                                log: Vec::new(),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, BoardSwitch>> {
        // A panic elsewhere cannot leave a port half-configured: keep serving.
        self.switches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Configures a port; an unknown switch or port is an error naming it.
    pub fn set(&self, switch: &str, port: &str, segment: PortSegment) -> Result<(), String> {
        let mut all = self.lock();
        let s = all
            .get_mut(switch)
            .ok_or_else(|| format!("no switch {switch}"))?;
        let i = port_index(port).ok_or_else(|| format!("switch {switch} has no port {port}"))?;
        s.ports[i] = segment;
        s.log.push(Change {
            port: port.to_string(),
            segment,
        });
        Ok(())
    }

    /// A port's configuration now.
    pub fn segment(&self, switch: &str, port: &str) -> Option<PortSegment> {
        let i = port_index(port)?;
        self.lock().get(switch).map(|s| s.ports[i])
    }

    /// Every change to a switch's ports, in order.
    pub fn log(&self, switch: &str) -> Vec<Change> {
        self.lock()
            .get(switch)
            .map(|s| s.log.clone())
            .unwrap_or_default()
    }

    /// The switches' names, in the rack's order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn document(s: &BoardSwitch, with_log: bool) -> Value {
        let mut doc = json!({
            "name": s.switch.name,
            "switch_id": s.switch.switch_id(),
            "ports": s.ports.iter().enumerate().map(|(i, seg)| json!({
                "port": port_name(i),
                "segment": seg.to_string(),
            })).collect::<Vec<_>>(),
            "changes": s.log.len(),
        });
        if with_log {
            doc["log"] = s
                .log
                .iter()
                .map(|c| json!({"port": c.port, "segment": c.segment.to_string()}))
                .collect();
        }
        doc
    }
}

type Shared = Arc<Bmc>;

/// The management API's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/sim/switches", get(list))
        .route("/sim/switches/{switch}", get(show))
        .route(
            "/sim/switches/{switch}/ports/{port}",
            get(show_port).put(configure).delete(shut_down),
        )
}

fn refusal(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn list(State(bmc): State<Shared>) -> Response {
    let all = bmc.switches.lock();
    let docs: Vec<Value> = bmc
        .switches
        .names
        .iter()
        .filter_map(|n| all.get(n))
        .map(|s| SwitchBoard::document(s, false))
        .collect();
    Json(json!({"switches": docs})).into_response()
}

async fn show(State(bmc): State<Shared>, Path(switch): Path<String>) -> Response {
    match bmc.switches.lock().get(&switch) {
        Some(s) => Json(SwitchBoard::document(s, true)).into_response(),
        None => refusal(StatusCode::NOT_FOUND, format!("no switch {switch}")),
    }
}

async fn show_port(
    State(bmc): State<Shared>,
    Path((switch, port)): Path<(String, String)>,
) -> Response {
    match bmc.switches.segment(&switch, &port) {
        Some(seg) => Json(json!({"port": port, "segment": seg.to_string()})).into_response(),
        None => refusal(
            StatusCode::NOT_FOUND,
            format!("no port {port} on switch {switch}"),
        ),
    }
}

/// The segment a `PUT` body asks for: `{"vlan": 1–4094 or null}`.
fn requested(body: &[u8]) -> Result<PortSegment, String> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let obj = doc.as_object().ok_or("the body must be an object")?;
    if let Some(k) = obj.keys().find(|k| *k != "vlan") {
        return Err(format!("unknown attribute {k}"));
    }
    match obj.get("vlan") {
        None => Err("vlan is required (a VLAN id, or null for untagged)".into()),
        Some(Value::Null) => Ok(PortSegment::Untagged),
        Some(v) => v
            .as_u64()
            .filter(|id| (1..=4094).contains(id))
            .map(|id| PortSegment::Vlan(id as u16))
            .ok_or_else(|| format!("vlan {v} is not a VLAN id (1–4094)")),
    }
}

fn apply(bmc: &Bmc, switch: &str, port: &str, segment: PortSegment) -> Response {
    match bmc.switches.set(switch, port, segment) {
        Ok(()) => {
            tracing::debug!(switch, port, %segment, "simulated switch port configured");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => refusal(StatusCode::NOT_FOUND, e),
    }
}

async fn configure(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    Path((switch, port)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorized(&bmc, &headers) {
        return r.into_response();
    }
    match requested(&body) {
        Ok(segment) => apply(&bmc, &switch, &port, segment),
        Err(e) => refusal(StatusCode::BAD_REQUEST, e),
    }
}

async fn shut_down(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    Path((switch, port)): Path<(String, String)>,
) -> Response {
    if let Err(r) = authorized(&bmc, &headers) {
        return r.into_response();
    }
    apply(&bmc, &switch, &port, PortSegment::Down)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_named_and_bounded() {
        assert_eq!(port_index("Ethernet1/1"), Some(0));
        assert_eq!(port_index("Ethernet1/48"), Some(47));
        assert_eq!(port_index("Ethernet1/49"), None);
        assert_eq!(port_index("Ethernet1/0"), None);
        assert_eq!(port_index("eth0"), None);
        assert_eq!(port_name(6), "Ethernet1/7");
    }

    #[test]
    fn changes_are_kept_in_order_and_bad_ones_refused() {
        let board = SwitchBoard::new(&[SimSwitch::new(0, 0)]);
        assert_eq!(
            board.segment("sim-leaf-000a", "Ethernet1/3"),
            Some(PortSegment::Untagged)
        );
        board
            .set("sim-leaf-000a", "Ethernet1/3", PortSegment::Vlan(101))
            .unwrap();
        board
            .set("sim-leaf-000a", "Ethernet1/3", PortSegment::Down)
            .unwrap();
        assert!(board
            .set("sim-leaf-000b", "Ethernet1/3", PortSegment::Down)
            .unwrap_err()
            .contains("no switch sim-leaf-000b"));
        assert!(board
            .set("sim-leaf-000a", "Ethernet9/9", PortSegment::Down)
            .unwrap_err()
            .contains("no port Ethernet9/9"));
        let log = board.log("sim-leaf-000a");
        assert_eq!(
            log.iter().map(|c| c.segment).collect::<Vec<_>>(),
            [PortSegment::Vlan(101), PortSegment::Down]
        );
        assert_eq!(
            board.segment("sim-leaf-000a", "Ethernet1/3"),
            Some(PortSegment::Down)
        );
    }

    #[test]
    fn bodies_name_a_vlan_or_untagged() {
        assert_eq!(requested(br#"{"vlan": 100}"#), Ok(PortSegment::Vlan(100)));
        assert_eq!(requested(br#"{"vlan": null}"#), Ok(PortSegment::Untagged));
        for bad in [
            &br#"{"vlan": 0}"#[..],
            br#"{"vlan": 4095}"#,
            br#"{"vlan": "100"}"#,
            br#"{}"#,
            br#"{"vlan": 5, "mode": "trunk"}"#,
            br#"[]"#,
            b"not json",
        ] {
            assert!(requested(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
