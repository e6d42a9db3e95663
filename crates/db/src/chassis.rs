//! Chassis rows: create, get, list, conditional update, delete.

use ferric_types::{Chassis, ChassisId};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::CHASSIS;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort chassis by for an API `sort_key`, if allowed.
pub fn chassis_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&CHASSIS, field)
}

impl Datastore {
    pub async fn chassis_create(&self, chassis: &Chassis) -> Result<(), DbError> {
        self.insert_row(&CHASSIS, chassis).await
    }

    pub async fn chassis_get(&self, uuid: ChassisId) -> Result<Chassis, DbError> {
        self.get_row(&CHASSIS, "uuid", &uuid.to_string()).await
    }

    pub async fn chassis_list(&self, q: &ListQuery) -> Result<Vec<Chassis>, DbError> {
        self.list_rows(&CHASSIS, q).await
    }

    pub async fn chassis_update(
        &self,
        chassis: &Chassis,
        read_updated_at: Option<ferric_types::Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(
            &CHASSIS,
            &chassis.uuid.to_string(),
            chassis,
            expected.as_deref(),
        )
        .await
    }

    /// Deletes a chassis; refuses (`Reference`) while nodes still belong to it.
    pub async fn chassis_delete(&self, uuid: ChassisId) -> Result<(), DbError> {
        match self
            .delete_rows(&CHASSIS, &[Cond::Eq("uuid", uuid.to_string().into())])
            .await?
        {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }
}
