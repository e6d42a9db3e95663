//! Firmware component rows: each node's set, replaced whole when its BMC is read.

use ferric_types::firmware::FirmwareComponent;
use ferric_types::NodeId;

use crate::query::{insert_statement, Cond, ListQuery, Sql};
use crate::table::FIRMWARE_COMPONENTS;
use crate::{Datastore, DbError};

impl Datastore {
    /// The node's firmware components, by name.
    pub async fn firmware_list(&self, node: NodeId) -> Result<Vec<FirmwareComponent>, DbError> {
        let q = ListQuery {
            conds: vec![Cond::Eq("node_uuid", node.to_string().into())],
            sort_key: Some("component"),
            ..ListQuery::default()
        };
        self.list_rows(&FIRMWARE_COMPONENTS, &q).await
    }

    /// Replaces the node's firmware components with `components`, in one
    /// transaction.
    pub async fn firmware_replace(
        &self,
        node: NodeId,
        components: &[FirmwareComponent],
    ) -> Result<(), DbError> {
        let mut clear = Sql::default();
        clear
            .push("DELETE FROM ")
            .push(FIRMWARE_COMPONENTS.name)
            .where_all(&[Cond::Eq("node_uuid", node.to_string().into())]);
        let mut stmts = vec![clear];
        for c in components {
            stmts.push(insert_statement(&FIRMWARE_COMPONENTS, c)?);
        }
        self.execute_all(stmts).await?;
        Ok(())
    }
}
