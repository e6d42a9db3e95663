//! The API's policy enforcement point: every handler names the rule of its action
//! (Ironic's rule names) and asks [`Access`] whether the caller may. For a node and
//! what hangs off it, Ironic's order holds: a node the caller may not see is "not
//! found" (404) whatever the action, and only a visible node can answer 403. Lists
//! are narrowed to the caller's project instead of being refused.
//!
//! Callers policy does not restrict (`noauth`, plain htpasswd users) pass every
//! check, as in Ironic.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ferric_authz::{Caller, Policy, Target};
use ferric_db::{Cond, DbError};
use ferric_types::history::Requester;
use ferric_types::{Microversion, Node, NodeId};

use crate::error::ApiError;
use crate::resources::ident;
use crate::AppState;

/// The caller of a request and the policy it is held to.
#[derive(Clone)]
pub struct Access {
    pub caller: Caller,
    policy: Arc<Policy>,
    /// The id the request's work goes by (`crate::version::RequestId`).
    request_id: Option<String>,
}

/// Which rows a list may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    All,
    /// Only those of this project (nodes it owns or leases, allocations it owns).
    Project(String),
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a request reached a handler without passing authentication");
            ApiError::internal()
        })?;
        Ok(Access {
            caller,
            policy: state.config.policy.clone(),
            request_id: parts
                .extensions
                .get::<crate::version::RequestId>()
                .map(|id| id.0.clone()),
        })
    }
}

/// The target a node's rules are judged on.
pub fn node_target(node: &Node) -> Target {
    Target::node(node.owner.as_deref(), node.lessee.as_deref())
}

/// The 403 of a denied rule, in Ironic's words.
pub fn denied(rule: &str) -> ApiError {
    ApiError::forbidden(format!(
        "Access was denied to the following resource: {rule}"
    ))
}

impl Access {
    /// Whether policy applies to this caller at all.
    pub fn is_restricted(&self) -> bool {
        matches!(self.caller, Caller::Principal(_))
    }

    /// Whether the caller passes `rule` on `target`.
    pub fn allows(&self, rule: &str, target: &Target) -> bool {
        match &self.caller {
            Caller::Unrestricted { .. } => true,
            Caller::Principal(p) => self.policy.allows(rule, p, target),
        }
    }

    /// `rule` on `target`, or 403.
    pub fn require(&self, rule: &str, target: &Target) -> Result<(), ApiError> {
        if self.allows(rule, target) {
            Ok(())
        } else {
            Err(denied(rule))
        }
    }

    /// `rule` on a system resource (no target), or 403.
    pub fn require_system(&self, rule: &str) -> Result<(), ApiError> {
        self.require(rule, &Target::none())
    }

    /// Whether the caller may see `node` at all.
    pub fn sees(&self, node: &Node) -> bool {
        self.allows("baremetal:node:get", &node_target(node))
    }

    /// The node named `ident` if the caller may see it (404 otherwise) and passes
    /// `rule` on it (403 otherwise).
    pub async fn node(
        &self,
        state: &AppState,
        ident: &str,
        version: Microversion,
        rule: &str,
    ) -> Result<Node, ApiError> {
        let node = ident::node(state, ident, version).await?;
        self.check_node(&node, ident, rule)?;
        Ok(node)
    }

    /// The visibility and `rule` checks of [`Access::node`] on a node already read.
    pub fn check_node(&self, node: &Node, ident: &str, rule: &str) -> Result<(), ApiError> {
        if !self.sees(node) {
            return Err(ident::node_not_found(ident));
        }
        self.require(rule, &node_target(node))
    }

    /// For what hangs off a node (a port, a port group): `not_found` unless the
    /// caller may see the node, 403 unless it passes `rule` on it.
    pub async fn check_child(
        &self,
        state: &AppState,
        node: NodeId,
        rule: &str,
        not_found: impl FnOnce() -> ApiError,
    ) -> Result<(), ApiError> {
        if !self.is_restricted() {
            return Ok(());
        }
        match state.db.node_get(node).await {
            Ok(node) => self.check_child_of(&node, rule, not_found),
            Err(DbError::NotFound) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }

    /// [`Access::check_child`] on the node already read.
    pub fn check_child_of(
        &self,
        node: &Node,
        rule: &str,
        not_found: impl FnOnce() -> ApiError,
    ) -> Result<(), ApiError> {
        if !self.sees(node) {
            return Err(not_found());
        }
        self.require(rule, &node_target(node))
    }

    /// Ironic's create rule of ports and port groups: judged on the node the body
    /// names, with no visibility step, so a project caller gets 403 for another
    /// project's node and for one that does not exist.
    pub async fn require_on_node_of_body(
        &self,
        state: &AppState,
        node: NodeId,
        rule: &str,
    ) -> Result<(), ApiError> {
        if !self.is_restricted() {
            return Ok(());
        }
        let target = match state.db.node_get(node).await {
            Ok(node) => node_target(&node),
            Err(DbError::NotFound) => Target::none(),
            Err(e) => return Err(e.into()),
        };
        self.require(rule, &target)
    }

    /// The node a body names (a port's, a parent): 400 as if it did not exist when
    /// the caller may not see it.
    pub async fn referenced_node(
        &self,
        state: &AppState,
        ident: &str,
        version: Microversion,
    ) -> Result<Node, ApiError> {
        let node = ident::node(state, ident, version)
            .await
            .map_err(ident::as_bad_reference)?;
        if !self.sees(&node) {
            return Err(ident::as_bad_reference(ident::node_not_found(ident)));
        }
        Ok(node)
    }

    /// What a list of `object`s (`node`, `port`, `portgroup`, `allocation`) may show:
    /// everything with `…:list_all`, the caller's project with `…:list`, else 403.
    /// `asked` is the `project`/`owner` filter of the request: another project's is 403.
    pub fn list_scope(&self, object: &str, asked: Option<&str>) -> Result<ListScope, ApiError> {
        let Caller::Principal(p) = &self.caller else {
            return Ok(ListScope::All);
        };
        let all = format!("baremetal:{object}:list_all");
        if self.policy.allows(&all, p, &Target::none()) {
            return Ok(ListScope::All);
        }
        let own = format!("baremetal:{object}:list");
        let project = p
            .project_id()
            .filter(|_| self.policy.allows(&own, p, &Target::none()));
        match (project, asked) {
            (None, _) => Err(denied(&own)),
            (Some(mine), Some(asked)) if asked != mine => Err(denied(&all)),
            (Some(mine), _) => Ok(ListScope::Project(mine.to_string())),
        }
    }

    /// For lists of what hangs off nodes: the condition "on a node `project` owns or
    /// leases" over the `node_uuid` column.
    pub async fn project_nodes_cond(state: &AppState, project: &str) -> Result<Cond, ApiError> {
        crate::resources::nodes_cond(state, vec![crate::resources::project_cond(project)]).await
    }

    /// Who is asking, for the node's history.
    pub fn requester(&self) -> Requester {
        Requester {
            user: self.caller.user_name().map(str::to_string),
            project: self.caller.project_id().map(str::to_string),
            request_id: self.request_id.clone(),
        }
    }

    /// The caller's project when policy restricts it to one.
    pub fn project(&self) -> Option<&str> {
        match &self.caller {
            Caller::Principal(p) if !p.is_system() => p.project_id(),
            _ => None,
        }
    }
}
