//! Node rows: create, get by UUID or name, list, conditional update, delete (with the
//! node's ports and port groups).

use ferric_types::{Node, NodeId};

use crate::query::{Cond, ListQuery, Sql};
use crate::table::{Kind, NODES, PORTGROUPS, PORTS};
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort nodes by for an API `sort_key`, if sorting by it is allowed
/// (JSON documents cannot be sorted).
pub fn node_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&NODES, field)
}

pub(crate) fn sort_column(table: &crate::table::Table, field: &str) -> Option<&'static str> {
    if field == "id" {
        return Some("id");
    }
    table
        .columns
        .iter()
        .find(|(c, k)| *c == field && *k != Kind::Json)
        .map(|(c, _)| *c)
}

impl Datastore {
    pub async fn node_create(&self, node: &Node) -> Result<(), DbError> {
        self.insert_row(&NODES, node).await
    }

    pub async fn node_get(&self, uuid: NodeId) -> Result<Node, DbError> {
        self.get_row(&NODES, "uuid", &uuid.to_string()).await
    }

    pub async fn node_get_by_name(&self, name: &str) -> Result<Node, DbError> {
        self.get_row(&NODES, "name", name).await
    }

    pub async fn node_list(&self, q: &ListQuery) -> Result<Vec<Node>, DbError> {
        self.list_rows(&NODES, q).await
    }

    pub async fn node_count(&self, conds: &[Cond]) -> Result<i64, DbError> {
        self.count_rows(&NODES, conds).await
    }

    /// Saves `node` if nobody changed it since it was read with `read_updated_at`.
    pub async fn node_update(
        &self,
        node: &Node,
        read_updated_at: Option<ferric_types::Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&NODES, &node.uuid.to_string(), node, expected.as_deref())
            .await
    }

    /// Deletes the node with its ports and port groups, in one transaction.
    pub async fn node_delete(&self, uuid: NodeId) -> Result<(), DbError> {
        let uuid = uuid.to_string();
        let mut stmts = Vec::new();
        for table in [&PORTS, &PORTGROUPS, &NODES] {
            let column = if table.name == "nodes" {
                "uuid"
            } else {
                "node_uuid"
            };
            let mut sql = Sql::default();
            sql.push("DELETE FROM ")
                .push(table.name)
                .where_all(&[Cond::Eq(column, uuid.as_str().into())]);
            sql.must_affect = table.name == "nodes";
            stmts.push(sql);
        }
        self.execute_all(stmts).await?;
        Ok(())
    }
}
