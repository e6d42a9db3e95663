//! A held node lock: released explicitly when the work ends, or by `Drop` on every
//! other path (an error, a panic, a cancelled task).

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
    /// Takes the node's lock, or says who holds it.
    pub async fn acquire(
        db: &Datastore,
        node: NodeId,
        host: &str,
    ) -> Result<(Self, Node), ConductorError> {
        match db.node_reserve(node, host).await {
            Ok(locked) => Ok((
                NodeLock {
                    db: db.clone(),
                    node,
                    host: host.to_string(),
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

    /// Releases the lock.
    pub async fn release(mut self) {
        self.held = false;
        if let Err(e) = self.db.node_release(self.node, &self.host).await {
            tracing::error!(node = %self.node, error = %e, "could not release the node lock");
        }
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
