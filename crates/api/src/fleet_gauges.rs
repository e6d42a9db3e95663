//! The fleet gauge `ferric_nodes`: how many nodes are in each combination of
//! provision state, power state, maintenance and fault, read from the database at
//! each scrape. A combination no node is in any longer reads 0, not its last value.

use std::collections::HashSet;
use std::sync::Mutex;

use ferric_db::{Datastore, NodeStateCount};

const NODES: &str = "ferric_nodes";

pub(crate) fn describe() {
    metrics::describe_gauge!(
        NODES,
        "Nodes by provision state, power state, maintenance and fault (the whole fleet, from the database)."
    );
}

type Labels = [(&'static str, String); 4];

fn labels(row: &NodeStateCount) -> Labels {
    [
        ("provision_state", row.provision_state.clone()),
        (
            "power_state",
            row.power_state.clone().unwrap_or_else(|| "none".into()),
        ),
        ("maintenance", row.maintenance.to_string()),
        ("fault", row.fault.clone().unwrap_or_else(|| "none".into())),
    ]
}

/// Sets the gauge from the database; on a database error the gauge keeps its
/// last values and the error is logged.
pub(crate) async fn update(db: &Datastore) {
    static SEEN: Mutex<Option<HashSet<Labels>>> = Mutex::new(None);
    let rows = match db.node_state_counts().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count the nodes for /metrics");
            return;
        }
    };
    let now: HashSet<Labels> = rows.iter().map(labels).collect();
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    for gone in seen.iter().flatten().filter(|l| !now.contains(*l)) {
        metrics::gauge!(NODES, gone.as_slice()).set(0.0);
    }
    for row in &rows {
        metrics::gauge!(NODES, labels(row).as_slice()).set(row.nodes as f64);
    }
    seen.get_or_insert_with(HashSet::new).extend(now);
}
