//! Discovery: with `[boot] dhcp_discovery` on, a PXE client on the provisioning
//! network whose MAC is no port of any node is enrolled — a node of the configured
//! hardware type (`[boot] discovery_driver`, default `fake-hardware`, as Ironic's
//! auto-discovery) in `enroll`, `extra/auto_discovered = true`, with a pxe-enabled
//! port for that MAC and a history entry. It gets no boot answer until an operator
//! gives it its BMC settings and manages it; each MAC is handled once per run, and a
//! run enrolls at most 10 000 machines.

use std::collections::HashSet;
use std::sync::Mutex;

use ferric_db::Datastore;
use ferric_types::hardware::{hardware_type, InterfaceKind};
use ferric_types::history::{HistoryEvent, INFO};
use ferric_types::ids::{NodeId, PortId};
use ferric_types::provision::ProvisionState;
use ferric_types::{MacAddress, Node, Port, Timestamp};
use serde_json::Value;
use tokio::sync::mpsc;

/// How many unknown machines one run of ferricd enrolls at most.
const MAX_SEEN: usize = 10_000;

/// Hands unknown MACs to the enrolling task, each once.
pub struct Discovery {
    seen: Mutex<HashSet<[u8; 6]>>,
    tx: mpsc::UnboundedSender<[u8; 6]>,
    /// Set once the cap is reached (warned about once).
    full: std::sync::atomic::AtomicBool,
}

impl Discovery {
    /// The discoverer and its task, enrolling nodes of hardware type `driver`.
    pub fn start(db: Datastore, driver: String) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<[u8; 6]>();
        let task = tokio::spawn(async move {
            while let Some(mac) = rx.recv().await {
                if let Err(e) = enroll(&db, &driver, MacAddress::from(mac)).await {
                    tracing::warn!(error = %e, "could not enroll a discovered machine");
                }
            }
        });
        let seen = Mutex::new(HashSet::new());
        let full = Default::default();
        (Self { seen, tx, full }, task)
    }

    /// Notes a PXE client the boot policy does not know. At most `MAX_SEEN`
    /// machines a run: forged DHCP traffic cannot fill the database.
    pub fn saw(&self, mac: [u8; 6]) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_SEEN {
            if !self.full.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!("discovery stops: {MAX_SEEN} unknown machines seen since start");
            }
            return;
        }
        if seen.insert(mac) {
            let _ = self.tx.send(mac);
        }
    }
}

async fn enroll(db: &Datastore, driver: &str, mac: MacAddress) -> Result<(), String> {
    if db.port_get_by_address(&mac).await.is_ok() {
        return Ok(());
    }
    let hw = hardware_type(driver).ok_or_else(|| format!("unknown hardware type {driver}"))?;
    let now = Timestamp::now();
    let mut node = Node::new(
        NodeId::new_v4(),
        driver.to_string(),
        ProvisionState::Enroll,
        now,
    );
    for kind in InterfaceKind::ALL {
        node.set_interface(kind, hw.default_interface(kind).map(str::to_string));
    }
    node.extra
        .insert("auto_discovered".into(), Value::Bool(true));
    db.node_create(&node).await.map_err(|e| e.to_string())?;
    let port = Port::new(PortId::new_v4(), mac.clone(), node.uuid, now);
    if let Err(e) = db.port_create(&port).await {
        // Another ferricd enrolled it first.
        let _ = db.node_delete(node.uuid).await;
        return Err(e.to_string());
    }
    let event = HistoryEvent::new(
        node.uuid,
        INFO,
        "discovery",
        format!("Enrolled: a PXE client with MAC {mac} booted on the provisioning network"),
        None,
    );
    let _ = db.history_record(&event).await;
    tracing::info!(node = %node.uuid, %mac, driver, "discovered machine enrolled");
    Ok(())
}
