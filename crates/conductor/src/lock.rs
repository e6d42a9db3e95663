//! A held node lock: released explicitly when the work ends, or by `Drop` on every
//! other path (an error, a panic, a cancelled task). Taking and releasing run to
//! their end even when the future asking for them is dropped. While the database
//! is out of reach, a release — and the save of work that finished meanwhile — is
//! tried again until it is back, so an outage loses no outcome and leaves no node
//! locked; the save stays conditional on the lock, so a node that changed hands
//! meanwhile is never overwritten.

use std::time::{Duration, Instant};

use ferric_db::{Datastore, DbError};
use ferric_types::{Node, NodeId};

use crate::ConductorError;

/// How long a release, or the save of finished work, is tried again while the
/// database is out of reach.
const PATIENCE: Duration = Duration::from_secs(600);
/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// How long `release` waits for the database before leaving the release to a
/// task of its own.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// Runs `call` until it succeeds, fails for a reason other than an unreachable
/// database, or `PATIENCE` has passed.
async fn patiently<T, F, Fut>(node: NodeId, what: &str, mut call: F) -> Result<T, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match call().await {
            Err(e) if e.is_unreachable() && started.elapsed() < PATIENCE => {
                tracing::warn!(%node, error = %e, "the database is out of reach; {what} is tried again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => return other,
        }
    }
}

/// Releases the lock, trying again while the database is out of reach.
async fn release_patiently(db: Datastore, node: NodeId, host: String) {
    if let Err(e) = patiently(node, "the lock's release", || db.node_release(node, &host)).await {
        tracing::error!(node = %node, error = %e, "could not release the node lock");
    }
}

pub(crate) struct NodeLock {
    db: Datastore,
    node: NodeId,
    host: String,
    held: bool,
}

impl NodeLock {
    /// Takes the node's lock, or says who holds it (a conflict, counted on
    /// `/metrics`).
    pub async fn acquire(
        db: &Datastore,
        node: NodeId,
        host: &str,
    ) -> Result<(Self, Node), ConductorError> {
        let taken = Self::try_acquire(db, node, host).await;
        if matches!(taken, Err(ConductorError::Locked { .. })) {
            metrics::counter!(crate::metrics::LOCK_CONFLICTS).increment(1);
        }
        taken
    }

    /// Takes the node's lock, or says who holds it, uncounted: for a caller that
    /// tries again and counts its wait once. The reservation runs on a task of its
    /// own: when the caller goes away mid-way (a request whose client hung up — a
    /// machine powered off while its agent waited on a lookup), the lock the
    /// database took still comes back as a `NodeLock`, whose drop releases it.
    pub async fn try_acquire(
        db: &Datastore,
        node: NodeId,
        host: &str,
    ) -> Result<(Self, Node), ConductorError> {
        let (db, host) = (db.clone(), host.to_string());
        let reserve = tokio::spawn(async move {
            match db.node_reserve(node, &host).await {
                Ok(locked) => Ok((
                    NodeLock {
                        db,
                        node,
                        host,
                        held: true,
                    },
                    locked,
                )),
                Err(DbError::Locked(holder)) => Err(ConductorError::Locked {
                    node: node.to_string(),
                    holder,
                }),
                Err(DbError::NotFound) => Err(ConductorError::NodeNotFound(node.to_string())),
                Err(e) => Err(e.into()),
            }
        });
        reserve.await.map_err(|e| {
            ConductorError::Conflict(format!("taking the lock of node {node} failed: {e}"))
        })?
    }

    /// Saves the node while the lock is held.
    pub async fn save(&self, node: &Node) -> Result<(), ConductorError> {
        Self::outcome(node, self.db.node_save_locked(node, &self.host).await?)
    }

    /// Saves the outcome of work running on its own (no caller waits for it),
    /// trying again while the database is out of reach.
    pub async fn save_patiently(&self, node: &Node) -> Result<(), ConductorError> {
        let saved = patiently(node.uuid, "saving the node", || {
            self.db.node_save_locked(node, &self.host)
        })
        .await?;
        Self::outcome(node, saved)
    }

    fn outcome(node: &Node, saved: ferric_db::UpdateOutcome) -> Result<(), ConductorError> {
        match saved {
            ferric_db::UpdateOutcome::Updated => Ok(()),
            ferric_db::UpdateOutcome::NotFound => {
                Err(ConductorError::NodeNotFound(node.uuid.to_string()))
            }
            ferric_db::UpdateOutcome::Conflict => Err(ConductorError::Locked {
                node: node.uuid.to_string(),
                holder: "another conductor".into(),
            }),
        }
    }

    /// Saves the node and releases the lock in one write (trying again while the
    /// database is out of reach). The lock is released whether or not the save
    /// took; a later `release` does nothing.
    pub async fn save_and_release(&mut self, node: &Node) -> Result<(), ConductorError> {
        let saved = patiently(node.uuid, "saving the node", || {
            self.db.node_save_and_release(node, &self.host)
        })
        .await;
        if let Ok(ferric_db::UpdateOutcome::Updated) = saved {
            self.held = false;
            return Ok(());
        }
        self.unlock().await;
        Self::outcome(node, saved?)
    }

    /// Releases the lock (on a task of its own, so a caller that goes away cannot
    /// leave it half done).
    pub async fn release(mut self) {
        self.unlock().await;
    }

    async fn unlock(&mut self) {
        if !self.held {
            return;
        }
        self.held = false;
        let task = tokio::spawn(release_patiently(
            self.db.clone(),
            self.node,
            self.host.clone(),
        ));
        // Done at once unless the database is away; then the task keeps trying.
        let _ = tokio::time::timeout(RELEASE_WAIT, task).await;
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(release_patiently(
                self.db.clone(),
                self.node,
                self.host.clone(),
            ));
        }
    }
}
