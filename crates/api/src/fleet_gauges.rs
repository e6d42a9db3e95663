//! The fleet gauge `ferric_nodes`: how many nodes are in each combination of
//! provision state, power state, maintenance and fault, read from the database at
//! a scrape — at most once a second, one scrape at a time, so that `/metrics`
//! (which needs no credentials) cannot be made to load the database. A
//! combination no node is in any longer reads 0, not its last value.

use std::collections::HashSet;
use std::time::{Duration, Instant};

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

/// How old the counts may be before a scrape reads them again.
const FRESH: Duration = Duration::from_secs(1);

/// The last read: when, and every combination ever set.
struct LastRead {
    at: Instant,
    seen: HashSet<Labels>,
}

/// Sets the gauge from the database unless it was read less than [`FRESH`] ago;
/// on a database error the gauge keeps its last values and the error is logged.
pub(crate) async fn update(db: &Datastore) {
    static LAST: tokio::sync::Mutex<Option<LastRead>> = tokio::sync::Mutex::const_new(None);
    // Held across the query: concurrent scrapes wait for one read, not race it.
    let mut last = LAST.lock().await;
    if last.as_ref().is_some_and(|l| l.at.elapsed() < FRESH) {
        return;
    }
    let rows = match db.node_state_counts().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "cannot count the nodes for /metrics");
            return;
        }
    };
    let now: HashSet<Labels> = rows.iter().map(labels).collect();
    let mut seen = last.take().map(|l| l.seen).unwrap_or_default();
    for gone in seen.iter().filter(|l| !now.contains(*l)) {
        metrics::gauge!(NODES, gone.as_slice()).set(0.0);
    }
    for row in &rows {
        metrics::gauge!(NODES, labels(row).as_slice()).set(row.nodes as f64);
    }
    seen.extend(now);
    *last = Some(LastRead {
        at: Instant::now(),
        seen,
    });
}
