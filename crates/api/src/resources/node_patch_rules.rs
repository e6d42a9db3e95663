//! Which rule each path of a node PATCH needs (Ironic's table): an owner member may
//! rename its node, only an owner admin change its driver, only the system move it
//! to another owner or conductor group, and anything unlisted needs the generic
//! `baremetal:node:update`. Every path is checked; the first denied answers 403.

use ferric_db::DbError;
use ferric_types::provision::ProvisionState;
use ferric_types::{AllocationId, Node};
use serde_json::Value;

use crate::access::{node_target, Access};
use crate::error::ApiError;
use crate::patch::PatchOp;
use crate::AppState;

/// The rule a PATCH of the field `root` needs.
fn rule_for(op: &PatchOp) -> &'static str {
    let root = op.root();
    match root {
        "instance_info" | "instance_name" => "baremetal:node:update_instance_info",
        "extra" => "baremetal:node:update_extra",
        "driver_info" => "baremetal:node:update:driver_info",
        "properties" => "baremetal:node:update:properties",
        "instance_uuid" => "baremetal:node:update:instance_uuid",
        "lessee" => "baremetal:node:update:lessee",
        "network_data" => "baremetal:node:update:network_data",
        "name" => "baremetal:node:update:name",
        "owner" => "baremetal:node:update:owner",
        "conductor_group" => "baremetal:node:update:conductor_group",
        "parent_node" => "baremetal:node:update:parent_node",
        "chassis_uuid" => "baremetal:node:update:chassis_uuid",
        "shard" => "baremetal:node:update:shard",
        "disable_power_off" => "baremetal:node:update:disable_power_off",
        "automated_clean" if turns_off(op.value()) => "baremetal:node:disable_cleaning",
        "driver" => "baremetal:node:update:driver_interfaces",
        _ if root.starts_with("retired") => "baremetal:node:update:retired",
        _ if root.ends_with("_interface") => "baremetal:node:update:driver_interfaces",
        _ => "baremetal:node:update",
    }
}

/// Whether a value sets a boolean to false (`false`, `"false"`, `"0"`, `"no"`, …).
fn turns_off(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "false" | "f" | "0" | "no" | "n" | "off"
            )
        }
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        _ => false,
    }
}

/// 403 unless the caller passes the rule of every path of `ops` on `node`.
pub fn check(access: &Access, node: &Node, ops: &[PatchOp]) -> Result<(), ApiError> {
    let target = node_target(node);
    for op in ops {
        access.require(rule_for(op), &target)?;
    }
    Ok(())
}

/// Ironic's limits on changing a node's owner: not while it is deployed (unless
/// the caller passes `baremetal:node:update_owner_provisioned`), nor while an
/// allocation with an owner holds it. Both answer 409.
pub async fn check_owner_change(
    access: &Access,
    state: &AppState,
    before: &Node,
    after: &Node,
) -> Result<(), ApiError> {
    if before.owner == after.owner || !access.is_restricted() {
        return Ok(());
    }
    if before.provision_state == ProvisionState::Active
        && !access.allows(
            "baremetal:node:update_owner_provisioned",
            &node_target(before),
        )
    {
        return Err(ApiError::conflict(format!(
            "Node {} is deployed: its owner can change only with the \
             baremetal:node:update_owner_provisioned permission.",
            before.uuid
        )));
    }
    if let Some(allocation) = before.allocation_uuid {
        match state.db.allocation_get(AllocationId(allocation)).await {
            Ok(a) if a.owner.is_some() => {
                return Err(ApiError::conflict(format!(
                    "Node {} is allocated by allocation {allocation}, which has an owner; \
                     the node's owner cannot change.",
                    before.uuid
                )))
            }
            Ok(_) | Err(DbError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_off_is_read_like_ironic() {
        assert!(turns_off(Some(&Value::Bool(false))));
        assert!(turns_off(Some(&Value::String("False".into()))));
        assert!(!turns_off(Some(&Value::Bool(true))));
        assert!(!turns_off(None));
    }
}
