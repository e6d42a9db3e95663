//! Node inventories: what inspection found on a node (the agent's hardware
//! inventory and the rest of its inspection data), one row per node, replaced by
//! each new inspection.

use ferric_types::{NodeId, Timestamp};
use serde_json::Value as Json;

use crate::exec::Scalar;
use crate::query::{Sql, Value};
use crate::{Datastore, DbError};

/// A node's stored inspection result.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInventory {
    pub inventory: Json,
    pub plugin_data: Json,
    pub created_at: String,
}

impl Datastore {
    /// Records (or replaces) what inspection found on `node`.
    pub async fn inventory_put(
        &self,
        node: NodeId,
        inventory: &Json,
        plugin_data: &Json,
    ) -> Result<(), DbError> {
        let mut sql = Sql::default();
        sql.push(
            "INSERT INTO node_inventory (node_uuid, inventory, plugin_data, created_at) VALUES (",
        )
        .arg(node.to_string().as_str().into())
        .push(", ")
        .arg(inventory.to_string().as_str().into())
        .push(", ")
        .arg(plugin_data.to_string().as_str().into())
        .push(", ")
        .arg(Timestamp::now().to_string().as_str().into())
        .push(
            ") ON CONFLICT (node_uuid) DO UPDATE SET inventory = excluded.inventory, \
                 plugin_data = excluded.plugin_data, created_at = excluded.created_at",
        );
        self.execute(sql).await?;
        Ok(())
    }

    /// What the last inspection of `node` found.
    pub async fn inventory_get(&self, node: NodeId) -> Result<NodeInventory, DbError> {
        let mut sql = Sql::default();
        sql.push(
            "SELECT inventory, plugin_data, created_at FROM node_inventory WHERE node_uuid = ",
        )
        .arg(node.to_string().as_str().into());
        let rows = self
            .fetch_scalar_rows(sql, &[Scalar::Text, Scalar::Text, Scalar::Text])
            .await?;
        let parse = |text: &str| {
            serde_json::from_str(text)
                .map_err(|e| DbError::Corrupt(format!("node {node}'s stored inventory: {e}")))
        };
        match rows.first().map(Vec::as_slice) {
            Some([Value::Text(inventory), Value::Text(plugin_data), Value::Text(created_at)]) => {
                Ok(NodeInventory {
                    inventory: parse(inventory)?,
                    plugin_data: parse(plugin_data)?,
                    created_at: created_at.clone(),
                })
            }
            _ => Err(DbError::NotFound),
        }
    }
}
