//! `GET /dashboard/events`: the live feed of an open page, as Server-Sent Events.
//!
//! The server, not the browser, watches the fleet: once a second it asks the API
//! (as the signed-in user) for the nodes most recently changed and created, sorted
//! by `updated_at` / `created_at`, and sends the page those past its watermark
//! (`nodes`). The fleet's counts (`summary`) go out at the start, after changes (at
//! most every two seconds) and every thirty seconds (which also catches deletes).
//! When more nodes changed than one poll reads, it says `resync` (read the page
//! again). When the session ends, or its credentials stop working, the feed says
//! `expired` and closes. A session may hold a few feeds open, not more. A closed page drops the
//! stream, which stops its watcher.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::api::Api;
use crate::session::Credentials;
use crate::summary::fleet_counts;
use crate::{refuse, Dashboard};

/// The node fields a `nodes` event carries.
pub(crate) const NODE_FIELDS: &str = "uuid,name,provision_state,target_provision_state,\
power_state,target_power_state,maintenance,fault,last_error,updated_at,created_at,\
resource_class,conductor,owner,lessee,instance_uuid,traits";

const POLL: Duration = Duration::from_secs(1);
const SUMMARY_AFTER_CHANGE: Duration = Duration::from_secs(2);
const SUMMARY_ANYWAY: Duration = Duration::from_secs(30);
/// How many of the most recently changed nodes each poll reads.
const WINDOW: usize = 200;

/// `GET /dashboard/events`.
pub(crate) async fn stream(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    let Some(session) = dash.sessions.find(&headers) else {
        return refuse(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let Some(slot) = dash.sessions.open_feed(&headers) else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "this session has as many live feeds open as it may",
        );
    };
    let (tx, rx) = mpsc::channel::<Event>(16);
    tokio::spawn(async move {
        watch(dash, headers, session.credentials, tx).await;
        drop(slot);
    });
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Watches the fleet for one page until it goes away or its session ends.
async fn watch(
    dash: Dashboard,
    headers: HeaderMap,
    credentials: Credentials,
    tx: mpsc::Sender<Event>,
) {
    let mut updated = Watermark::new("updated_at");
    let mut created = Watermark::new("created_at");
    let mut summary_at: Option<Instant> = None;
    let mut changed_since_summary = true;
    loop {
        if dash.sessions.find(&headers).is_none() {
            let _ = tx.send(expired()).await;
            return;
        }
        let mut changed = Vec::new();
        let mut overflowed = false;
        for mark in [&mut updated, &mut created] {
            match mark.poll(&dash.api, &credentials).await {
                Ok((nodes, overflow)) => {
                    changed.extend(nodes);
                    overflowed |= overflow;
                }
                Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                    // The credentials stopped working (a token expired).
                    dash.sessions.close(&headers);
                    let _ = tx.send(expired()).await;
                    return;
                }
                Err(e) => tracing::debug!(error = ?e, "dashboard feed: cannot read changes"),
            }
        }
        if overflowed {
            // More changed than one poll reads: the page must read again itself.
            if tx
                .send(Event::default().event("resync").data("{}"))
                .await
                .is_err()
            {
                return;
            }
        }
        if !changed.is_empty() {
            let mut seen = HashSet::new();
            changed.retain(|n| seen.insert(n["uuid"].as_str().unwrap_or("").to_string()));
            changed_since_summary = true;
            let event = Event::default()
                .event("nodes")
                .data(json!({ "nodes": changed }).to_string());
            if tx.send(event).await.is_err() {
                return;
            }
        }
        let due = match summary_at {
            None => true,
            Some(at) if changed_since_summary => at.elapsed() >= SUMMARY_AFTER_CHANGE,
            Some(at) => at.elapsed() >= SUMMARY_ANYWAY,
        };
        if due {
            match fleet_counts(&dash.api, &credentials).await {
                Ok(counts) => {
                    let event = Event::default().event("summary").data(counts.to_string());
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::debug!(error = ?e, "dashboard feed: cannot count the fleet"),
            }
            summary_at = Some(Instant::now());
            changed_since_summary = false;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = tx.closed() => return,
        }
    }
}

/// The event that tells the page its session ended.
fn expired() -> Event {
    Event::default().event("expired").data("{}")
}

/// What a feed saw in its last read of one time column: each node of the read
/// with its stamp. A (node, stamp) pair the last read did not have is a change,
/// also one whose write committed after a newer one's — its stamp older than
/// the newest seen, which a plain "newer than the last" watermark would skip.
/// The first read only fills it.
struct Watermark {
    column: &'static str,
    seen: Option<HashSet<(String, String)>>,
    /// The oldest stamp of the last read when the read was full: a node older
    /// than that which now shows up was pushed in by deletions, not changed.
    floor: Option<String>,
}

impl Watermark {
    fn new(column: &'static str) -> Self {
        Self {
            column,
            seen: None,
            floor: None,
        }
    }

    /// The nodes changed (in this column) since the last poll, and whether there
    /// may be more than the window held (every node in it had changed).
    async fn poll(
        &mut self,
        api: &Api,
        credentials: &Credentials,
    ) -> Result<(Vec<Value>, bool), crate::api::CallFailed> {
        let path = format!(
            "/v1/nodes?sort_key={}&sort_dir=desc&limit={WINDOW}&fields={NODE_FIELDS}",
            self.column
        );
        let page = api.get_json(&path, credentials).await?;
        let nodes = match page {
            Value::Object(mut m) => match m.remove("nodes") {
                Some(Value::Array(nodes)) => nodes,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let fresh = self.advance(nodes, WINDOW);
        let overflow = fresh.len() == WINDOW;
        Ok((fresh, overflow))
    }

    /// Takes a read (newest first, at most `window` nodes); returns the nodes
    /// changed since the last one. Nodes never stamped are no change.
    fn advance(&mut self, nodes: Vec<Value>, window: usize) -> Vec<Value> {
        let pair = |n: &Value| {
            let stamp = n[self.column].as_str()?;
            Some((
                n["uuid"].as_str().unwrap_or("").to_string(),
                stamp.to_string(),
            ))
        };
        let pairs: Vec<Option<(String, String)>> = nodes.iter().map(pair).collect();
        let fresh = match &self.seen {
            None => Vec::new(),
            Some(seen) => nodes
                .into_iter()
                .zip(&pairs)
                .filter(|(_, p)| {
                    p.as_ref().is_some_and(|p| {
                        !seen.contains(p) && self.floor.as_ref().is_none_or(|f| p.1 >= *f)
                    })
                })
                .map(|(n, _)| n)
                .collect(),
        };
        self.floor = if pairs.len() >= window {
            pairs.iter().rev().flatten().next().map(|p| p.1.clone())
        } else {
            None
        };
        self.seen = Some(pairs.into_iter().flatten().collect());
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uuid: &str, at: &str) -> Value {
        json!({"uuid": uuid, "updated_at": at})
    }

    const BIG: usize = 100;

    #[test]
    fn the_watermark_passes_each_change_once() {
        let mut w = Watermark::new("updated_at");
        let first = vec![
            node("a", "2026-01-01T00:00:02"),
            node("b", "2026-01-01T00:00:01"),
        ];
        assert!(
            w.advance(first.clone(), BIG).is_empty(),
            "the first read primes"
        );
        assert!(w.advance(first, BIG).is_empty(), "nothing new");
        let fresh = w.advance(
            vec![
                node("c", "2026-01-01T00:00:02"),
                node("a", "2026-01-01T00:00:02"),
                node("b", "2026-01-01T00:00:01"),
            ],
            BIG,
        );
        assert_eq!(fresh.len(), 1, "c changed in the same microsecond as a");
        assert_eq!(fresh[0]["uuid"], "c");
        let fresh = w.advance(
            vec![
                node("b", "2026-01-01T00:00:03"),
                node("c", "2026-01-01T00:00:02"),
                node("a", "2026-01-01T00:00:02"),
            ],
            BIG,
        );
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0]["uuid"], "b");
    }

    #[test]
    fn a_write_that_commits_late_is_still_seen() {
        let mut w = Watermark::new("updated_at");
        w.advance(vec![node("a", "2026-01-01T00:00:01")], BIG);
        w.advance(
            vec![
                node("b", "2026-01-01T00:00:05"),
                node("a", "2026-01-01T00:00:01"),
            ],
            BIG,
        );
        // c's change was stamped at :03 but committed after b's at :05.
        let fresh = w.advance(
            vec![
                node("b", "2026-01-01T00:00:05"),
                node("c", "2026-01-01T00:00:03"),
                node("a", "2026-01-01T00:00:01"),
            ],
            BIG,
        );
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0]["uuid"], "c");
    }

    #[test]
    fn a_node_pushed_into_a_full_window_by_deletions_is_no_change() {
        let mut w = Watermark::new("updated_at");
        w.advance(
            vec![
                node("b", "2026-01-01T00:00:05"),
                node("c", "2026-01-01T00:00:03"),
            ],
            2,
        );
        // b was deleted; a, older than all the full read held, moves in.
        let fresh = w.advance(
            vec![
                node("c", "2026-01-01T00:00:03"),
                node("a", "2026-01-01T00:00:01"),
            ],
            2,
        );
        assert!(fresh.is_empty(), "{fresh:?}");
    }

    #[test]
    fn nodes_never_updated_are_not_changes() {
        let mut w = Watermark::new("updated_at");
        w.advance(vec![], BIG);
        assert!(w
            .advance(vec![json!({"uuid": "n", "updated_at": null})], BIG)
            .is_empty());
        assert_eq!(
            w.advance(vec![node("n", "2026-01-01T00:00:00")], BIG).len(),
            1
        );
    }
}
