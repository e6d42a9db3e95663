//! The rack's BMCs: one HTTP listener serving every machine as a Redfish
//! `ComputerSystem` (`/redfish/v1/Systems/{id}`) — power state, `Boot` overrides
//! (`PATCH`), `ComputerSystem.Reset` — behind HTTP basic authentication, as plain
//! Redfish so Ferric's `redfish` driver (or sushy) drives it unchanged. Every machine
//! also has a BMC of its own under `/bmc/<name>` showing just itself. Also serves
//! the rack's status (`/sim/machines`), its switches' management API
//! (`/sim/switches`, see `switch_board`) and the stand-in deploy kernel and ramdisk
//! (`/sim/deploy.kernel`, `/sim/deploy.ramdisk`) a node's `driver_info` points at.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use crate::machine::Machine;
use crate::switch_board::{self, SwitchBoard};

/// What the BMC listener serves.
pub struct Bmc {
    /// By Redfish system id.
    pub machines: HashMap<String, Arc<Machine>>,
    /// By name (the per-machine BMC's path).
    pub by_name: HashMap<String, Arc<Machine>>,
    /// In machine order, for listings.
    pub order: Vec<Arc<Machine>>,
    /// `Authorization: Basic …` the requests must carry.
    pub expected_auth: String,
    /// The switches the machines are cabled to.
    pub switches: SwitchBoard,
}

type Shared = Arc<Bmc>;

/// The router of the rack's BMC listener.
pub fn router(bmc: Shared) -> Router {
    Router::new()
        .route("/redfish/v1", get(root))
        .route("/redfish/v1/", get(root))
        .route("/redfish/v1/Systems", get(systems))
        .route("/redfish/v1/Systems/{id}", get(system).patch(system_write))
        .route(
            "/redfish/v1/Systems/{id}/Actions/ComputerSystem.Reset",
            post(system_write),
        )
        // Each machine's own BMC: the same service under /bmc/<machine name>, showing
        // only that machine (nodes point their redfish_address here, so each has a
        // BMC of its own, as in a real rack).
        .route("/bmc/{machine}/redfish/v1", get(own_root))
        .route("/bmc/{machine}/redfish/v1/", get(own_root))
        .route("/bmc/{machine}/redfish/v1/Systems", get(own_systems))
        .route(
            "/bmc/{machine}/redfish/v1/Systems/{id}",
            get(own_system).patch(own_write),
        )
        .route(
            "/bmc/{machine}/redfish/v1/Systems/{id}/Actions/ComputerSystem.Reset",
            post(own_write),
        )
        .route("/sim/machines", get(status))
        .route(
            "/sim/deploy.kernel",
            get(|| async { "ferric simulated deploy kernel\n" }),
        )
        .route(
            "/sim/deploy.ramdisk",
            get(|| async { "ferric simulated deploy ramdisk\n" }),
        )
        .merge(switch_board::routes())
        .with_state(bmc)
}

/// The `Authorization` header value for a user and password.
pub fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {
        "code": "Base.1.0.GeneralError",
        "message": message,
        "@Message.ExtendedInfo": [{"Message": message}],
    }});
    (status, Json(body)).into_response()
}

/// A refused request: its status and message.
pub(crate) struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, &self.1)
    }
}

pub(crate) fn authorized(bmc: &Bmc, headers: &HeaderMap) -> Result<(), Refusal> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given == bmc.expected_auth {
        Ok(())
    } else {
        Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials".into(),
        ))
    }
}

/// The machine, after its BMC's delay (a fault makes it slow enough to time out).
async fn machine(bmc: &Bmc, headers: &HeaderMap, id: &str) -> Result<Arc<Machine>, Refusal> {
    authorized(bmc, headers)?;
    let m = bmc
        .machines
        .get(id)
        .cloned()
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, format!("System {id} not found")))?;
    if let Some(delay) = m.spec.faults.bmc_delay {
        tokio::time::sleep(delay).await;
    }
    Ok(m)
}

fn root_json(base: &str) -> Value {
    json!({
        "@odata.id": format!("{base}/redfish/v1/"),
        "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Ferric simulated rack",
        "RedfishVersion": "1.8.0",
        "Systems": {"@odata.id": format!("{base}/redfish/v1/Systems")},
    })
}

/// The systems collection under the service root at `base` (`""` for the rack's,
/// `/bmc/<machine>` for a machine's own BMC).
fn systems_json<'a>(base: &str, machines: impl Iterator<Item = &'a Arc<Machine>>) -> Value {
    let members: Vec<Value> = machines
        .map(|m| json!({"@odata.id": format!("{base}/redfish/v1/Systems/{}", m.spec.id)}))
        .collect();
    json!({
        "@odata.id": format!("{base}/redfish/v1/Systems"),
        "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
        "Name": "Computer System Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

/// The service root, readable without credentials as Redfish requires.
async fn root() -> Response {
    Json(root_json("")).into_response()
}

async fn systems(State(bmc): State<Shared>, headers: HeaderMap) -> Response {
    match authorized(&bmc, &headers) {
        Ok(()) => Json(systems_json("", bmc.order.iter())).into_response(),
        Err(r) => r.into_response(),
    }
}

/// The machine a per-machine BMC path names, when authorized.
fn own(bmc: &Bmc, headers: &HeaderMap, name: &str) -> Result<Arc<Machine>, Refusal> {
    authorized(bmc, headers)?;
    bmc.by_name
        .get(name)
        .cloned()
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, format!("No BMC {name}")))
}

/// A machine's own service root, readable without credentials.
async fn own_root(State(bmc): State<Shared>, Path(name): Path<String>) -> Response {
    if bmc.by_name.contains_key(&name) {
        Json(root_json(&format!("/bmc/{name}"))).into_response()
    } else {
        Refusal(StatusCode::NOT_FOUND, format!("No BMC {name}")).into_response()
    }
}

async fn own_systems(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    match own(&bmc, &headers, &name) {
        Ok(m) => Json(systems_json(&format!("/bmc/{name}"), std::iter::once(&m))).into_response(),
        Err(r) => r.into_response(),
    }
}

/// A per-machine BMC serves only its own system.
fn own_id(bmc: &Bmc, headers: &HeaderMap, name: &str, id: &str) -> Result<(), Refusal> {
    let m = own(bmc, headers, name)?;
    if m.spec.id == id {
        Ok(())
    } else {
        Err(Refusal(
            StatusCode::NOT_FOUND,
            format!("System {id} not found"),
        ))
    }
}

async fn own_system(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = own_id(&bmc, &headers, &name, &id) {
        return r.into_response();
    }
    match machine(&bmc, &headers, &id).await {
        Ok(m) => Json(system_json(&format!("/bmc/{name}"), &m)).into_response(),
        Err(r) => r.into_response(),
    }
}

/// A per-machine BMC's PATCH of its system or POST of its reset action.
async fn own_write(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    method: axum::http::Method,
    Path((name, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    match own_id(&bmc, &headers, &name, &id) {
        Ok(()) => write(&bmc, &headers, &method, &id, &body).await,
        Err(r) => r.into_response(),
    }
}

/// A machine's ComputerSystem under the service root at `base`.
fn system_json(base: &str, m: &Machine) -> Value {
    let path = format!("{base}/redfish/v1/Systems/{}", m.spec.id);
    json!({
        "@odata.id": path,
        "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
        "Id": m.spec.id,
        "Name": m.spec.name,
        "SystemType": "Physical",
        "Manufacturer": "Ferric",
        "Model": "Simulated",
        "UUID": m.spec.id,
        "PowerState": if m.power_on() { "On" } else { "Off" },
        "Status": {"State": "Enabled", "Health": "OK"},
        "Boot": m.boot_json(),
        "ProcessorSummary": {"Count": 2, "Model": "Simulated CPU"},
        "MemorySummary": {"TotalSystemMemoryGiB": 4},
        "Actions": {"#ComputerSystem.Reset": {
            "target": format!("{path}/Actions/ComputerSystem.Reset"),
            "ResetType@Redfish.AllowableValues":
                ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "PushPowerButton"],
        }},
        "Oem": {"Ferric": {"Running": m.running().as_str(), "Boots": m.boots(), "MACAddress": m.spec.mac}},
    })
}

async fn system(State(bmc): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match machine(&bmc, &headers, &id).await {
        Ok(m) => Json(system_json("", &m)).into_response(),
        Err(r) => r.into_response(),
    }
}

/// `PATCH` of a system (its `Boot`) or `POST` of its reset action.
async fn system_write(
    State(bmc): State<Shared>,
    headers: HeaderMap,
    method: axum::http::Method,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    write(&bmc, &headers, &method, &id, &body).await
}

async fn write(
    bmc: &Bmc,
    headers: &HeaderMap,
    method: &axum::http::Method,
    id: &str,
    body: &[u8],
) -> Response {
    let m = match machine(bmc, headers, id).await {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "The request body is not JSON");
    };
    let applied = if method == axum::http::Method::PATCH {
        match doc.get("Boot") {
            Some(boot) => m.set_boot(boot),
            None => Ok(()),
        }
    } else {
        match doc.get("ResetType").and_then(Value::as_str) {
            Some(reset_type) => m.reset(reset_type),
            None => Err("ResetType is required".to_string()),
        }
    };
    match applied {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(why) => error(StatusCode::BAD_REQUEST, &why),
    }
}

async fn status(State(bmc): State<Shared>) -> Response {
    let machines: Vec<Value> = bmc
        .order
        .iter()
        .map(|m| {
            let mut v = m.status();
            // Each NIC's switch port as the switch has it configured now.
            for (doc, nic) in v["nics"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .zip(&m.spec.nics)
            {
                if let Some(seg) = bmc.switches.segment(&nic.link.switch.name, &nic.link.port) {
                    doc["segment"] = Value::from(seg.to_string());
                }
            }
            v
        })
        .collect();
    Json(json!({"machines": machines})).into_response()
}
