//! Port group rows: create, get by UUID or name, list, conditional update, delete.

use ferric_types::{PortGroup, PortGroupId};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::PORTGROUPS;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort port groups by for an API `sort_key`, if allowed.
pub fn portgroup_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&PORTGROUPS, field)
}

impl Datastore {
    pub async fn portgroup_create(&self, pg: &PortGroup) -> Result<(), DbError> {
        self.insert_row(&PORTGROUPS, pg).await
    }

    pub async fn portgroup_get(&self, uuid: PortGroupId) -> Result<PortGroup, DbError> {
        self.get_row(&PORTGROUPS, "uuid", &uuid.to_string()).await
    }

    pub async fn portgroup_get_by_name(&self, name: &str) -> Result<PortGroup, DbError> {
        self.get_row(&PORTGROUPS, "name", name).await
    }

    pub async fn portgroup_list(&self, q: &ListQuery) -> Result<Vec<PortGroup>, DbError> {
        self.list_rows(&PORTGROUPS, q).await
    }

    pub async fn portgroup_update(
        &self,
        pg: &PortGroup,
        read_updated_at: Option<ferric_types::Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&PORTGROUPS, &pg.uuid.to_string(), pg, expected.as_deref())
            .await
    }

    /// Deletes a port group; refuses (`Reference`) while ports still belong to it.
    pub async fn portgroup_delete(&self, uuid: PortGroupId) -> Result<(), DbError> {
        match self
            .delete_rows(&PORTGROUPS, &[Cond::Eq("uuid", uuid.to_string().into())])
            .await?
        {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }
}
