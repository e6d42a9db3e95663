//! A held node lock: released explicitly when the work ends, or by `Drop` on every
//! other path (an error, a panic, a cancelled task). Taking and releasing run to
//! their end even when the future asking for them is dropped.

use ferric_db::{Datastore, DbError};
use ferric_types::{Node, NodeId};

use crate::ConductorError;

pub(crate) struct NodeLock {
    db: Datastore,
    node: NodeId,
    host: String,
    held: bool,
}

impl NodeLock {
    /// Takes the node's lock, or says who holds it. The reservation runs on a task
    /// of its own: when the caller goes away mid-way (a request whose client hung
    /// up — a machine powered off while its agent waited on a lookup), the lock the
    /// database took still comes back as a `NodeLock`, whose drop releases it.
    pub async fn acquire(
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
        match self.db.node_save_locked(node, &self.host).await? {
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

    /// Releases the lock (on a task of its own, so a caller that goes away cannot
    /// leave it half done).
    pub async fn release(mut self) {
        self.held = false;
        let (db, node, host) = (self.db.clone(), self.node, self.host.clone());
        let _ = tokio::spawn(async move {
            if let Err(e) = db.node_release(node, &host).await {
                tracing::error!(node = %node, error = %e, "could not release the node lock");
            }
        })
        .await;
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let (db, node, host) = (self.db.clone(), self.node, self.host.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = db.node_release(node, &host).await {
                    tracing::error!(node = %node, error = %e, "could not release the node lock");
                }
            });
        }
    }
}
