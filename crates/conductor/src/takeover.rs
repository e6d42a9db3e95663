//! Taking over from a dead conductor. Every heartbeat interval each conductor
//! looks for peers whose heartbeat is older than the heartbeat timeout (online or
//! not: a draining peer still heartbeats and keeps its nodes), never itself, and
//! only when its own heartbeats have reached the database without a gap for a
//! whole timeout — so a database outage that left every row stale makes nobody
//! take anybody's nodes. Of the nodes a dead peer still holds, it adopts those it
//! now owns on the ring: a node mid-operation fails with `last_error` naming the
//! dead conductor (never left stuck), and its lock is released. Nodes waiting on
//! their agent hold no lock and need nothing: their next heartbeat reaches the new
//! owner through the API's routing. Power sync and the wait timeouts follow the
//! ring, so the adopted nodes are watched from the next round on.

use std::time::Duration;

use ferric_conductor_api::ring::Rings;
use ferric_db::{Cond, ListQuery};

use crate::{Conductor, ConductorError};

/// Nodes adopted at once.
const ADOPTING_AT_ONCE: usize = 32;

impl Conductor {
    /// One round: adopts what dead peers held; returns how many nodes.
    pub async fn take_over_from_dead(&self) -> Result<usize, ConductorError> {
        if !self.liveness.sees_clearly() || self.liveness.leaving() {
            return Ok(0);
        }
        let now = self.db.clock().await?;
        let timeout = self.liveness.settings.timeout_secs();
        let conductors = self.db.conductor_list().await?;
        let dead: Vec<String> = conductors
            .iter()
            .filter(|c| c.hostname != *self.host && !c.heard_within(now, timeout))
            .map(|c| c.hostname.clone())
            .collect();
        if dead.is_empty() {
            return Ok(0);
        }
        let held = self
            .db
            .node_list(&ListQuery {
                conds: vec![Cond::In(
                    "reservation",
                    dead.iter().map(|h| h.as_str().into()).collect(),
                )],
                ..ListQuery::default()
            })
            .await?;
        if held.is_empty() {
            return Ok(0);
        }
        let rings = Rings::from_conductors(&conductors, now, timeout);
        let mine: Vec<_> = held
            .into_iter()
            .filter(|n| {
                rings.conductor_for(&n.uuid.to_string(), &n.conductor_group) == Some(&*self.host)
            })
            .collect();
        let adopted = mine.len();
        // Several at a time: a dead conductor may have held thousands.
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(ADOPTING_AT_ONCE));
        let mut tasks = tokio::task::JoinSet::new();
        for node in mine {
            let Some(holder) = node.reservation.clone() else {
                continue;
            };
            let (this, gate) = (self.clone(), gate.clone());
            tasks.spawn(async move {
                let _slot = gate.acquire_owned().await;
                let why = format!(
                    "Conductor {holder} stopped heartbeating (dead after {timeout} s) and conductor {} took over",
                    this.host
                );
                this.release_one(node, &holder, &why).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::warn!(error = %e, "could not adopt a node; the next round tries again");
            }
        }
        if adopted > 0 {
            tracing::warn!(nodes = adopted, dead = ?dead, "took over nodes from dead conductors");
        }
        Ok(adopted)
    }

    /// Runs takeover rounds every `interval` until aborted.
    pub fn start_takeover(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.take_over_from_dead().await {
                    tracing::warn!(error = %e, "takeover round failed");
                }
            }
        })
    }
}
