//! Nodes a conductor stopped holding without finishing: after its own restart
//! (`recover`), after it died and a peer adopts them (`takeover`), or when it
//! stops before its work ends. Each node mid-operation fails into its failure
//! state with `last_error` saying which conductor and why, a power change in
//! flight is dropped, the event goes into the node's history, and the lock is
//! released — every write conditional on the lock still being the old holder's.

use ferric_db::{Cond, ListQuery};
use ferric_types::fsm::{self, Event};
use ferric_types::Node;

use crate::{Conductor, ConductorError};

/// Fails an interrupted operation of `node`; `why` ends the sentence "… while
/// node N was in state S" (e.g. "Conductor c1 restarted").
fn interrupt(node: &mut Node, why: &str) {
    let state = node.provision_state;
    if fsm::is_interrupted_on_restart(state) && crate::provision::advance(node, Event::Fail) {
        node.last_error = Some(format!(
            "{why} while node {} was in state \"{state}\"; the operation was interrupted.",
            node.uuid
        ));
    }
    if node.target_power_state.take().is_some() {
        node.last_error = node
            .last_error
            .take()
            .or_else(|| Some(format!("{why} during a power change.")));
    }
}

impl Conductor {
    /// Recovers from a previous run of this conductor; returns how many nodes it touched.
    pub async fn recover(&self) -> Result<usize, ConductorError> {
        let why = format!("Conductor {} restarted", self.host);
        let n = self.release_held_by(&self.host, &why).await?;
        self.db.node_release_all(&self.host).await?;
        Ok(n)
    }

    /// Fails and releases every node `holder` holds (a dead or stopping conductor,
    /// or this one after a restart); returns how many.
    pub(crate) async fn release_held_by(
        &self,
        holder: &str,
        why: &str,
    ) -> Result<usize, ConductorError> {
        let query = ListQuery {
            conds: vec![Cond::Eq("reservation", holder.into())],
            ..ListQuery::default()
        };
        let held = self.db.node_list(&query).await?;
        for node in held.iter().cloned() {
            self.release_one(node, holder, why).await?;
        }
        Ok(held.len())
    }

    /// Fails one node `holder` held, then releases it.
    pub(crate) async fn release_one(
        &self,
        mut node: Node,
        holder: &str,
        why: &str,
    ) -> Result<(), ConductorError> {
        let before = node.last_error.clone();
        interrupt(&mut node, why);
        // Conditional on `holder` still holding it: a node someone else took
        // meanwhile is theirs.
        match self.db.node_save_locked(&node, holder).await? {
            ferric_db::UpdateOutcome::Updated => {}
            _ => return Ok(()),
        }
        self.db.node_release(node.uuid, holder).await?;
        if let Some(err) = node
            .last_error
            .as_ref()
            .filter(|e| before.as_ref() != Some(e))
        {
            self.record(
                node.uuid,
                ferric_types::history::ERROR,
                "provisioning",
                err.clone(),
            )
            .await;
        }
        tracing::warn!(node = %node.uuid, holder, state = %node.provision_state, "released a node its conductor left locked");
        Ok(())
    }
}
