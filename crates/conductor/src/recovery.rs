//! Start-up recovery: a conductor that stopped without warning left its locks in the
//! database and its nodes mid-work. It fails those nodes into the right failure state,
//! says why in `last_error`, and releases every lock it held.

use ferric_db::{Cond, ListQuery};
use ferric_types::fsm::{self, Event};
use ferric_types::Timestamp;

use crate::{Conductor, ConductorError};

impl Conductor {
    /// Recovers from a previous run of this conductor; returns how many nodes it touched.
    pub async fn recover(&self) -> Result<usize, ConductorError> {
        let query = ListQuery {
            conds: vec![Cond::Eq("reservation", self.host.to_string().into())],
            ..ListQuery::default()
        };
        let stale = self.db.node_list(&query).await?;
        for mut node in stale.iter().cloned() {
            let state = node.provision_state;
            if fsm::is_interrupted_on_restart(state) {
                if let Some(to) = fsm::next(state, Event::Fail) {
                    node.provision_state = to;
                    node.target_provision_state = fsm::target_of(to, false);
                    node.provision_updated_at = Some(Timestamp::now());
                    node.last_error = Some(format!(
                        "Conductor {} restarted while node {} was in state \"{state}\"; the operation was interrupted.",
                        self.host, node.uuid
                    ));
                }
            }
            if node.target_power_state.take().is_some() {
                node.last_error = node.last_error.or_else(|| {
                    Some(format!(
                        "Conductor {} restarted during a power change.",
                        self.host
                    ))
                });
            }
            self.db.node_save_locked(&node, &self.host).await?;
            if let Some(err) = &node.last_error {
                self.record(
                    node.uuid,
                    ferric_types::history::ERROR,
                    "provisioning",
                    err.clone(),
                )
                .await;
            }
            tracing::warn!(node = %node.uuid, state = %node.provision_state, "recovered a node left locked by a previous run");
        }
        self.db.node_release_all(&self.host).await?;
        Ok(stale.len())
    }
}
