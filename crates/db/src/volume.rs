//! Volume connector and volume target rows.

use ferric_types::volume::{VolumeConnector, VolumeTarget};
use ferric_types::{Timestamp, VolumeConnectorId, VolumeTargetId};

use crate::node::sort_column;
use crate::query::ListQuery;
use crate::table::{VOLUME_CONNECTORS, VOLUME_TARGETS};
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort volume connectors by for an API `sort_key`, if allowed.
pub fn volume_connector_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&VOLUME_CONNECTORS, field)
}

/// The column to sort volume targets by for an API `sort_key`, if allowed.
pub fn volume_target_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&VOLUME_TARGETS, field)
}

impl Datastore {
    pub async fn volume_connector_create(&self, c: &VolumeConnector) -> Result<(), DbError> {
        self.insert_row(&VOLUME_CONNECTORS, c).await
    }

    pub async fn volume_connector_get(
        &self,
        uuid: VolumeConnectorId,
    ) -> Result<VolumeConnector, DbError> {
        self.get_row(&VOLUME_CONNECTORS, "uuid", &uuid.to_string())
            .await
    }

    pub async fn volume_connector_list(
        &self,
        q: &ListQuery,
    ) -> Result<Vec<VolumeConnector>, DbError> {
        self.list_rows(&VOLUME_CONNECTORS, q).await
    }

    pub async fn volume_connector_update(
        &self,
        c: &VolumeConnector,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(
            &VOLUME_CONNECTORS,
            &c.uuid.to_string(),
            c,
            expected.as_deref(),
        )
        .await
    }

    pub async fn volume_connector_delete(&self, uuid: VolumeConnectorId) -> Result<(), DbError> {
        self.delete_by_uuid(&VOLUME_CONNECTORS, uuid.to_string())
            .await
    }

    pub async fn volume_target_create(&self, t: &VolumeTarget) -> Result<(), DbError> {
        self.insert_row(&VOLUME_TARGETS, t).await
    }

    pub async fn volume_target_get(&self, uuid: VolumeTargetId) -> Result<VolumeTarget, DbError> {
        self.get_row(&VOLUME_TARGETS, "uuid", &uuid.to_string())
            .await
    }

    pub async fn volume_target_list(&self, q: &ListQuery) -> Result<Vec<VolumeTarget>, DbError> {
        self.list_rows(&VOLUME_TARGETS, q).await
    }

    pub async fn volume_target_update(
        &self,
        t: &VolumeTarget,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&VOLUME_TARGETS, &t.uuid.to_string(), t, expected.as_deref())
            .await
    }

    pub async fn volume_target_delete(&self, uuid: VolumeTargetId) -> Result<(), DbError> {
        self.delete_by_uuid(&VOLUME_TARGETS, uuid.to_string()).await
    }
}
