//! Allocation processing: pick an available node that matches the allocation's
//! resource class, traits, candidate list and owner, and claim it with a conditional
//! update; another allocation racing for the same node simply moves on to the next.

use ferric_db::{Cond, ListQuery};
use ferric_types::allocation::{ACTIVE, ERROR};
use ferric_types::provision::ProvisionState;
use ferric_types::{Allocation, AllocationId, Node, Timestamp};

use crate::{Conductor, ConductorError};

/// True when `node` can serve `a`.
fn matches(node: &Node, a: &Allocation) -> bool {
    let class_ok = a.resource_class.is_none() || node.resource_class == a.resource_class;
    let traits_ok = a.traits.iter().all(|t| node.traits.contains(t));
    let candidate_ok =
        a.candidate_nodes.is_empty() || a.candidate_nodes.contains(&node.uuid.to_string());
    let owner_ok = match &a.owner {
        None => true,
        Some(owner) => node.owner.as_ref() == Some(owner) || node.lessee.as_ref() == Some(owner),
    };
    class_ok && traits_ok && candidate_ok && owner_ok
}

impl Conductor {
    /// Marks an allocation `error` after an unexpected failure, so it never stays
    /// `allocating`.
    pub(crate) async fn fail_allocation(&self, uuid: AllocationId, why: &str) {
        if let Ok(mut a) = self.db.allocation_get(uuid).await {
            let read_at = a.updated_at;
            a.state = ERROR.into();
            a.last_error = Some(format!("Allocation {uuid} failed: {why}"));
            a.updated_at = Some(Timestamp::now());
            let _ = self.db.allocation_update(&a, read_at).await;
        }
    }

    /// Works on an allocation in state `allocating` until it is `active` or `error`.
    pub(crate) async fn process_allocation(
        &self,
        uuid: AllocationId,
    ) -> Result<(), ConductorError> {
        let mut a = self.db.allocation_get(uuid).await?;
        let read_at = a.updated_at;
        let mut conds = vec![
            Cond::Eq("provision_state", ProvisionState::Available.as_str().into()),
            Cond::Eq("maintenance", false.into()),
            Cond::IsNull("instance_uuid"),
            Cond::IsNull("allocation_uuid"),
            Cond::IsNull("reservation"),
        ];
        if let Some(class) = &a.resource_class {
            conds.push(Cond::Eq("resource_class", class.clone().into()));
        }
        let candidates: Vec<Node> = self
            .db
            .node_list(&ListQuery {
                conds,
                ..ListQuery::default()
            })
            .await?
            .into_iter()
            .filter(|n| matches(n, &a))
            .collect();
        // Spread allocations over the matching nodes instead of all racing for the first.
        let mut offset = (uuid.0.as_u128() % candidates.len().max(1) as u128) as usize;
        // A node named like the allocation is tried first (API 1.79).
        if let Some(named) = a
            .name
            .as_ref()
            .and_then(|n| candidates.iter().position(|c| c.name.as_ref() == Some(n)))
        {
            offset = named;
        }
        let mut claimed = None;
        for node in candidates
            .iter()
            .cycle()
            .skip(offset)
            .take(candidates.len())
        {
            if self.db.node_claim_for_allocation(node.uuid, uuid).await? {
                claimed = Some(node.uuid);
                break;
            }
        }
        match claimed {
            Some(node) => {
                a.node_uuid = Some(node);
                a.state = ACTIVE.into();
                a.last_error = None;
            }
            None => {
                a.state = ERROR.into();
                a.last_error = Some(format!(
                    "No available node matches allocation {uuid} (resource class {}, traits [{}]{}{}).",
                    a.resource_class.as_deref().unwrap_or("any"),
                    a.traits.join(", "),
                    if a.candidate_nodes.is_empty() { "" } else { ", among its candidate nodes" },
                    a.owner.as_deref().map(|o| format!(", owned by or leased to {o}")).unwrap_or_default()
                ));
            }
        }
        a.updated_at = Some(Timestamp::now());
        let outcome = self.db.allocation_update(&a, read_at).await?;
        if outcome != ferric_db::UpdateOutcome::Updated {
            // Deleted or changed meanwhile: give the node back.
            if let Some(node) = claimed {
                let mut n = self.db.node_get(node).await?;
                if n.allocation_uuid == Some(uuid.0) {
                    let before = n.updated_at;
                    n.allocation_uuid = None;
                    n.instance_uuid = None;
                    n.updated_at = Some(Timestamp::now());
                    self.db.node_update(&n, before).await?;
                }
            }
        }
        tracing::info!(allocation = %uuid, state = %a.state, node = ?a.node_uuid, "allocation processed");
        Ok(())
    }
}
