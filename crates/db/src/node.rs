//! Node rows: create, get by UUID or name, list, conditional update, delete (with the
//! node's ports and port groups).

use ferric_types::{Node, NodeId};

use crate::exec::Scalar;
use crate::query::{Cond, ListQuery, Sql};
use crate::table::{Kind, NODES};
use crate::{Datastore, DbError, UpdateOutcome};

/// The tables whose rows belong to a node (by `node_uuid`), deleted with it; ports
/// before the port groups they reference.
const NODE_DEPENDENTS: [&str; 9] = [
    "node_history",
    "node_inventory",
    "allocations",
    "boot_configs",
    "firmware_components",
    "volume_connectors",
    "volume_targets",
    "ports",
    "portgroups",
];

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

    /// Who holds the node's lock (`None`: nobody), without reading the rest of it.
    pub async fn node_reservation(&self, uuid: NodeId) -> Result<Option<String>, DbError> {
        self.node_text_column(uuid, "reservation").await
    }

    /// The node's conductor group, without reading the rest of it.
    pub async fn node_conductor_group(&self, uuid: NodeId) -> Result<String, DbError> {
        Ok(self
            .node_text_column(uuid, "conductor_group")
            .await?
            .unwrap_or_default())
    }

    async fn node_text_column(
        &self,
        uuid: NodeId,
        column: &'static str,
    ) -> Result<Option<String>, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT ")
            .push(column)
            .push(" FROM nodes")
            .where_all(&[Cond::Eq("uuid", uuid.to_string().into())]);
        match self.fetch_scalars(sql, &[Scalar::Text]).await? {
            None => Err(DbError::NotFound),
            Some(row) => Ok(match row.into_iter().next() {
                Some(crate::Value::Text(s)) => Some(s),
                _ => None,
            }),
        }
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

    /// Saves `node` if nobody changed it since it was read with `read_updated_at` and
    /// no conductor holds its lock (the API's writes).
    pub async fn node_update(
        &self,
        node: &Node,
        read_updated_at: Option<ferric_types::Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let stamp = match read_updated_at {
            Some(t) => Cond::Eq("updated_at", t.to_string().into()),
            None => Cond::IsNull("updated_at"),
        };
        self.update_row(
            &NODES,
            &node.uuid.to_string(),
            node,
            &[stamp, Cond::IsNull("reservation")],
        )
        .await
    }

    /// Saves `node` while `host` holds its lock (the conductor's writes).
    pub async fn node_save_locked(
        &self,
        node: &Node,
        host: &str,
    ) -> Result<UpdateOutcome, DbError> {
        self.save_held(node, host, "").await
    }

    /// Saves `node` and releases its lock in one write, while `host` holds it.
    pub async fn node_save_and_release(
        &self,
        node: &Node,
        host: &str,
    ) -> Result<UpdateOutcome, DbError> {
        self.save_held(node, host, ", reservation = NULL").await
    }

    /// Saves `node`, with `more` assignments, if `host` holds its lock; its
    /// `updated_at` becomes now, as every save of a node in Ironic sets it (clients
    /// and the dashboard's live feed watch it for changes).
    async fn save_held(
        &self,
        node: &Node,
        host: &str,
        more: &str,
    ) -> Result<UpdateOutcome, DbError> {
        self.update_row_and(
            &NODES,
            &node.uuid.to_string(),
            node,
            &[Cond::Eq("reservation", host.into())],
            Some(ferric_types::Timestamp::now()),
            more,
        )
        .await
    }

    /// How many nodes each shard holds, largest first; `None` is the unsharded nodes.
    pub async fn node_shard_counts(&self) -> Result<Vec<(Option<String>, i64)>, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT shard, COUNT(*) FROM nodes GROUP BY shard ORDER BY COUNT(*) DESC, shard IS NULL, shard");
        let rows = self
            .fetch_scalar_rows(sql, &[crate::exec::Scalar::Text, crate::exec::Scalar::Int])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| match (&r[0], &r[1]) {
                (crate::Value::Text(s), crate::Value::Int(n)) => (Some(s.clone()), *n),
                (_, crate::Value::Int(n)) => (None, *n),
                _ => (None, 0),
            })
            .collect())
    }

    /// How many nodes share each (provision state, power state, maintenance, fault)
    /// combination: the fleet gauges of `/metrics`.
    pub async fn node_state_counts(&self) -> Result<Vec<NodeStateCount>, DbError> {
        use crate::exec::Scalar::{Int, Text};
        let mut sql = Sql::default();
        // `maintenance` is an integer column (0/1) on both backends.
        sql.push(
            "SELECT provision_state, power_state, maintenance, fault, COUNT(*) \
             FROM nodes GROUP BY provision_state, power_state, maintenance, fault",
        );
        let rows = self
            .fetch_scalar_rows(sql, &[Text, Text, Int, Text, Int])
            .await?;
        let text = |v: &crate::Value| match v {
            crate::Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        Ok(rows
            .iter()
            .map(|r| NodeStateCount {
                provision_state: text(&r[0]).unwrap_or_default(),
                power_state: text(&r[1]),
                maintenance: matches!(r[2], crate::Value::Int(1)),
                fault: text(&r[3]).filter(|f| !f.is_empty()),
                nodes: match r[4] {
                    crate::Value::Int(n) => n,
                    _ => 0,
                },
            })
            .collect())
    }

    /// Takes the node's lock for `host`: sets `reservation` only if nobody holds it.
    /// Returns the node as locked, `Locked(holder)` if someone else holds it.
    pub async fn node_reserve(&self, uuid: NodeId, host: &str) -> Result<Node, DbError> {
        let mut sql = Sql::default();
        sql.push("UPDATE nodes SET reservation = ")
            .arg(host.into())
            .push(" WHERE uuid = ")
            .arg(uuid.to_string().into())
            .push(" AND reservation IS NULL");
        if self.execute(sql).await? == 1 {
            return self.node_get(uuid).await;
        }
        // Only the holder's name is wanted: the column, not the whole node decoded.
        Err(DbError::Locked(
            self.node_reservation(uuid).await?.unwrap_or_default(),
        ))
    }

    /// Releases the node's lock if `host` holds it.
    pub async fn node_release(&self, uuid: NodeId, host: &str) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push("UPDATE nodes SET reservation = NULL WHERE uuid = ")
            .arg(uuid.to_string().into())
            .push(" AND reservation = ")
            .arg(host.into());
        self.execute(sql).await?;
        Ok(())
    }

    /// Releases every lock `host` holds (a conductor starting up after a crash).
    pub async fn node_release_all(&self, host: &str) -> Result<u64, DbError> {
        let mut sql = Sql::default();
        sql.push("UPDATE nodes SET reservation = NULL WHERE reservation = ")
            .arg(host.into());
        self.execute(sql).await
    }

    /// Deletes the node with its ports, port groups, volume connectors and targets,
    /// allocation, history and inventory, all or nothing.
    ///
    /// On PostgreSQL this is one statement (the dependents' deletes as data-modifying
    /// `WITH` clauses), one round trip instead of a transaction of eleven; SQLite's
    /// writer runs the same deletes as one transaction in-process.
    pub async fn node_delete(&self, uuid: NodeId) -> Result<(), DbError> {
        let uuid = uuid.to_string();
        let affected = match self.backend() {
            crate::Backend::Postgres => {
                let mut sql = Sql::default();
                sql.push("WITH ");
                for (i, table) in NODE_DEPENDENTS.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push("d")
                        .push(&i.to_string())
                        .push(" AS (DELETE FROM ")
                        .push(table)
                        .push(" WHERE node_uuid = $1)");
                }
                sql.push(" DELETE FROM nodes WHERE uuid = ")
                    .arg(uuid.as_str().into());
                self.execute(sql).await?
            }
            crate::Backend::Sqlite => {
                let mut stmts: Vec<Sql> = NODE_DEPENDENTS
                    .iter()
                    .map(|table| {
                        let mut sql = Sql::default();
                        sql.push("DELETE FROM ")
                            .push(table)
                            .where_all(&[Cond::Eq("node_uuid", uuid.as_str().into())]);
                        sql
                    })
                    .collect();
                let mut node = Sql::default();
                node.push("DELETE FROM nodes")
                    .where_all(&[Cond::Eq("uuid", uuid.as_str().into())]);
                node.must_affect = true;
                stmts.push(node);
                *self.execute_all(stmts).await?.last().unwrap_or(&0)
            }
        };
        match affected {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }
}

/// One row of [`Datastore::node_state_counts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStateCount {
    pub provision_state: String,
    pub power_state: Option<String>,
    pub maintenance: bool,
    pub fault: Option<String>,
    pub nodes: i64,
}
