//! The heartbeat loop: the first heartbeat as soon as the API listens, then every
//! `heartbeat_timeout × U(0.3, 0.6)` after a success and `5 × U(1, 2)` s after a
//! failure; when an async command finishes, an early heartbeat once five seconds
//! have passed since the last one, so the conductor learns promptly.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::{sleep_until, Instant};

use crate::agent::Agent;
use crate::ironic::{Heartbeat, IronicClient};
use crate::jitter;

const MIN_GAP: Duration = Duration::from_secs(5);

/// Heartbeats until the machine halts.
pub async fn run(agent: Arc<Agent>, client: IronicClient, node_uuid: String, callback_url: String) {
    let timeout = agent
        .config
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get("heartbeat_timeout")
        .and_then(Value::as_f64)
        .filter(|t| *t > 0.0)
        .unwrap_or(300.0);
    let timeout = Duration::from_secs_f64(timeout);
    let mut next = Instant::now();
    let mut last: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = sleep_until(next) => {}
            _ = agent.finished.notified() => {
                if let Some(l) = last {
                    sleep_until(l + MIN_GAP).await;
                }
            }
        }
        let token = agent.token();
        let ca = agent
            .certificate_pem
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let request_id = agent.request_id();
        let hb = Heartbeat {
            callback_url: &callback_url,
            agent_token: token.as_deref(),
            verify_ca: ca.as_deref(),
            request_id: request_id.as_deref(),
        };
        let sent = client.heartbeat(&node_uuid, &hb).await;
        last = Some(Instant::now());
        next = match sent {
            Ok(()) => {
                tracing::debug!("heartbeat sent");
                Instant::now() + jitter::scaled(timeout, 0.3, 0.6)
            }
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat failed");
                Instant::now() + jitter::scaled(MIN_GAP, 1.0, 2.0)
            }
        };
    }
}
