//! Node history: what happened to a node (state changes, power changes, errors), when,
//! where and how bad.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{NodeId, Timestamp};

/// `severity` of an ordinary event.
pub const INFO: &str = "INFO";
/// `severity` of a failure.
pub const ERROR: &str = "ERROR";

/// One history entry. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub uuid: Uuid,
    pub node_uuid: NodeId,
    pub created_at: Timestamp,
    pub severity: String,
    /// What happened, in words (at most 255 characters).
    pub event: String,
    /// `provisioning`, `power`, `maintenance`, `console`…
    pub event_type: String,
    /// The conductor that did it, if a conductor did.
    pub conductor: Option<String>,
    /// Who asked for it (API 1.78) and in which project (API 1.113), when a request
    /// did.
    pub user: Option<String>,
    pub project: Option<String>,
    /// The node's provision state and target when it was recorded, and the
    /// seconds since its provision state last changed (API 1.115).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub target_provision_state: Option<String>,
    #[serde(default)]
    pub duration_seconds: Option<i64>,
}

/// Who asked for a change: the user and project of the API request, for the node's
/// history. Empty for what Ferric does by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub user: Option<String>,
    pub project: Option<String>,
    /// The id of the request (the caller's global one when it sent one): the
    /// conductor passes it to the node's agent, whose heartbeats bring it back,
    /// so the logs of one operation share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl HistoryEvent {
    pub fn new(
        node: NodeId,
        severity: &str,
        event_type: &str,
        event: impl Into<String>,
        conductor: Option<&str>,
    ) -> Self {
        let mut event: String = event.into();
        if event.chars().count() > 255 {
            event = event.chars().take(254).collect::<String>() + "…";
        }
        Self {
            uuid: Uuid::new_v4(),
            node_uuid: node,
            created_at: Timestamp::now(),
            severity: severity.to_string(),
            event,
            event_type: event_type.to_string(),
            conductor: conductor.map(str::to_string),
            user: None,
            project: None,
            state: None,
            target_provision_state: None,
            duration_seconds: None,
        }
    }

    /// The same entry with the node's state as it stands now.
    pub fn at_state_of(mut self, node: &crate::Node) -> Self {
        self.state = Some(node.provision_state.to_string());
        self.target_provision_state = node.target_provision_state.map(|s| s.to_string());
        self.duration_seconds = node
            .provision_updated_at
            .map(|t| (self.created_at.micros() - t.micros()).max(0) / 1_000_000);
        self
    }

    /// The same entry, recorded as asked for by `requester`.
    pub fn by(mut self, requester: &Requester) -> Self {
        self.user.clone_from(&requester.user);
        self.project.clone_from(&requester.project);
        self
    }
}
