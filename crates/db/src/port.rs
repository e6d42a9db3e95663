//! Port rows: create, get by UUID or MAC address, list, conditional update, delete.

use ferric_types::{MacAddress, Port, PortId};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::PORTS;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort ports by for an API `sort_key`, if allowed.
pub fn port_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&PORTS, field)
}

impl Datastore {
    pub async fn port_create(&self, port: &Port) -> Result<(), DbError> {
        self.insert_row(&PORTS, port).await
    }

    pub async fn port_get(&self, uuid: PortId) -> Result<Port, DbError> {
        self.get_row(&PORTS, "uuid", &uuid.to_string()).await
    }

    pub async fn port_get_by_name(&self, name: &str) -> Result<Port, DbError> {
        self.get_row(&PORTS, "name", name).await
    }

    pub async fn port_get_by_address(&self, mac: &MacAddress) -> Result<Port, DbError> {
        self.get_row(&PORTS, "address", mac.as_str()).await
    }

    pub async fn port_list(&self, q: &ListQuery) -> Result<Vec<Port>, DbError> {
        self.list_rows(&PORTS, q).await
    }

    pub async fn port_count(&self, conds: &[Cond]) -> Result<i64, DbError> {
        self.count_rows(&PORTS, conds).await
    }

    pub async fn port_update(
        &self,
        port: &Port,
        read_updated_at: Option<ferric_types::Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&PORTS, &port.uuid.to_string(), port, expected.as_deref())
            .await
    }

    pub async fn port_delete(&self, uuid: PortId) -> Result<(), DbError> {
        match self
            .delete_rows(&PORTS, &[Cond::Eq("uuid", uuid.to_string().into())])
            .await?
        {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }
}
