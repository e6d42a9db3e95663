//! Allocation rows, and claiming a node for an allocation: the node's
//! `instance_uuid` and `allocation_uuid` are set only if it is still free, available,
//! unlocked and out of maintenance, so two allocations never get the same node.

use ferric_types::{Allocation, AllocationId, NodeId, Timestamp};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery, Sql};
use crate::table::ALLOCATIONS;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort allocations by for an API `sort_key`, if allowed.
pub fn allocation_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&ALLOCATIONS, field)
}

impl Datastore {
    pub async fn allocation_create(&self, a: &Allocation) -> Result<(), DbError> {
        self.insert_row(&ALLOCATIONS, a).await
    }

    pub async fn allocation_get(&self, uuid: AllocationId) -> Result<Allocation, DbError> {
        self.get_row(&ALLOCATIONS, "uuid", &uuid.to_string()).await
    }

    pub async fn allocation_get_by_name(&self, name: &str) -> Result<Allocation, DbError> {
        self.get_row(&ALLOCATIONS, "name", name).await
    }

    pub async fn allocation_get_by_node(&self, node: NodeId) -> Result<Allocation, DbError> {
        self.get_row(&ALLOCATIONS, "node_uuid", &node.to_string())
            .await
    }

    pub async fn allocation_list(&self, q: &ListQuery) -> Result<Vec<Allocation>, DbError> {
        self.list_rows(&ALLOCATIONS, q).await
    }

    pub async fn allocation_update(
        &self,
        a: &Allocation,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&ALLOCATIONS, &a.uuid.to_string(), a, expected.as_deref())
            .await
    }

    /// Deletes the allocation and frees its node (if it still holds it), atomically.
    pub async fn allocation_delete(&self, a: &Allocation) -> Result<(), DbError> {
        let mut stmts = Vec::new();
        if let Some(node) = a.node_uuid {
            let mut free = Sql::default();
            free.push(
                "UPDATE nodes SET instance_uuid = NULL, allocation_uuid = NULL, updated_at = ",
            )
            .arg(Timestamp::now().to_string().into())
            .push(" WHERE uuid = ")
            .arg(node.to_string().into())
            .push(" AND allocation_uuid = ")
            .arg(a.uuid.to_string().into());
            stmts.push(free);
        }
        let mut del = Sql::default();
        del.push("DELETE FROM allocations")
            .where_all(&[Cond::Eq("uuid", a.uuid.to_string().into())]);
        del.must_affect = true;
        stmts.push(del);
        self.execute_all(stmts).await?;
        Ok(())
    }

    /// Records allocation `a` on an active node (backfill); true when the node still
    /// had no allocation and either no instance or the allocation's UUID as instance.
    pub async fn node_backfill_allocation(
        &self,
        node: NodeId,
        a: AllocationId,
    ) -> Result<bool, DbError> {
        let mut sql = assign_allocation(node, a);
        sql.push(" AND allocation_uuid IS NULL AND reservation IS NULL AND (instance_uuid IS NULL OR instance_uuid = ")
            .arg(a.to_string().into())
            .push(")");
        Ok(self.execute(sql).await? == 1)
    }

    /// Gives `node` to allocation `a` if the node is still free; true when it did.
    /// The node's `instance_uuid` becomes the allocation's UUID, as Ironic does.
    pub async fn node_claim_for_allocation(
        &self,
        node: NodeId,
        a: AllocationId,
    ) -> Result<bool, DbError> {
        let mut sql = assign_allocation(node, a);
        sql.push(" AND instance_uuid IS NULL AND allocation_uuid IS NULL AND reservation IS NULL")
            .push(" AND maintenance = 0 AND provision_state = 'available'");
        match self.execute(sql).await {
            Ok(n) => Ok(n == 1),
            // Another node already carries this instance UUID: not claimed.
            Err(DbError::Duplicate(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// `UPDATE nodes SET instance_uuid = a, allocation_uuid = a … WHERE uuid = node`, for
/// the caller to add its conditions to.
fn assign_allocation(node: NodeId, a: AllocationId) -> Sql {
    let mut sql = Sql::default();
    sql.push("UPDATE nodes SET instance_uuid = ")
        .arg(a.to_string().into())
        .push(", allocation_uuid = ")
        .arg(a.to_string().into())
        .push(", updated_at = ")
        .arg(Timestamp::now().to_string().into())
        .push(" WHERE uuid = ")
        .arg(node.to_string().into());
    sql
}
