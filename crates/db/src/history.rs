//! Node history rows: appended by the conductor and the API, listed per node.

use ferric_types::history::HistoryEvent;
use ferric_types::NodeId;

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::NODE_HISTORY;
use crate::{Datastore, DbError};

/// The column to sort history by for an API `sort_key`, if allowed.
pub fn history_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&NODE_HISTORY, field)
}

impl Datastore {
    /// Appends `event`; an entry that does not say the node's state gets the
    /// state the node is in now.
    pub async fn history_record(&self, event: &HistoryEvent) -> Result<(), DbError> {
        if event.state.is_none() {
            if let Ok(node) = self.node_get(event.node_uuid).await {
                let event = event.clone().at_state_of(&node);
                return self.insert_row(&NODE_HISTORY, &event).await;
            }
        }
        self.insert_row(&NODE_HISTORY, event).await
    }

    /// One page of a node's history (`q.conds` may narrow it further).
    pub async fn history_list(
        &self,
        node: NodeId,
        q: &ListQuery,
    ) -> Result<Vec<HistoryEvent>, DbError> {
        let mut q = q.clone();
        q.conds.push(Cond::Eq("node_uuid", node.to_string().into()));
        self.list_rows(&NODE_HISTORY, &q).await
    }

    pub async fn history_get(&self, uuid: &str) -> Result<HistoryEvent, DbError> {
        self.get_row(&NODE_HISTORY, "uuid", uuid).await
    }
}
