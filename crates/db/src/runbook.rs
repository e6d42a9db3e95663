//! Runbook rows.

use ferric_types::runbook::Runbook;
use ferric_types::{RunbookId, Timestamp};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::RUNBOOKS;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort runbooks by for an API `sort_key`, if allowed.
pub fn runbook_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&RUNBOOKS, field)
}

/// The runbooks a project sees: its own and the public ones.
pub fn runbook_project_cond(project: &str) -> Cond {
    Cond::Or(vec![
        Cond::Eq("owner", project.into()),
        Cond::Eq("public", true.into()),
    ])
}

impl Datastore {
    pub async fn runbook_create(&self, r: &Runbook) -> Result<(), DbError> {
        self.insert_row(&RUNBOOKS, r).await
    }

    pub async fn runbook_get(&self, uuid: RunbookId) -> Result<Runbook, DbError> {
        self.get_row(&RUNBOOKS, "uuid", &uuid.to_string()).await
    }

    pub async fn runbook_get_by_name(&self, name: &str) -> Result<Runbook, DbError> {
        self.get_row(&RUNBOOKS, "name", name).await
    }

    pub async fn runbook_list(&self, q: &ListQuery) -> Result<Vec<Runbook>, DbError> {
        self.list_rows(&RUNBOOKS, q).await
    }

    /// Saves `r` if nobody changed it since it was read.
    pub async fn runbook_update(
        &self,
        r: &Runbook,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&RUNBOOKS, &r.uuid.to_string(), r, expected.as_deref())
            .await
    }

    pub async fn runbook_delete(&self, uuid: RunbookId) -> Result<(), DbError> {
        self.delete_by_uuid(&RUNBOOKS, uuid.to_string()).await
    }
}
