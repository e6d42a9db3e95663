//! Inspection rule rows (the operator's built-in rules live in a file, not here).

use ferric_types::inspection_rules::{InspectionRule, InspectionRuleId};
use ferric_types::Timestamp;

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::INSPECTION_RULES;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort inspection rules by for an API `sort_key`, if allowed.
pub fn inspection_rule_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&INSPECTION_RULES, field)
}

impl Datastore {
    pub async fn inspection_rule_create(&self, r: &InspectionRule) -> Result<(), DbError> {
        self.insert_row(&INSPECTION_RULES, r).await
    }

    pub async fn inspection_rule_get(
        &self,
        uuid: InspectionRuleId,
    ) -> Result<InspectionRule, DbError> {
        self.get_row(&INSPECTION_RULES, "uuid", &uuid.to_string())
            .await
    }

    pub async fn inspection_rule_list(
        &self,
        q: &ListQuery,
    ) -> Result<Vec<InspectionRule>, DbError> {
        self.list_rows(&INSPECTION_RULES, q).await
    }

    /// Every rule of `phase`, in creation order (the engine orders by priority).
    pub async fn inspection_rules_of_phase(
        &self,
        phase: &str,
    ) -> Result<Vec<InspectionRule>, DbError> {
        let q = ListQuery {
            conds: vec![Cond::Eq("phase", phase.into())],
            ..ListQuery::default()
        };
        self.list_rows(&INSPECTION_RULES, &q).await
    }

    pub async fn inspection_rule_update(
        &self,
        r: &InspectionRule,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(
            &INSPECTION_RULES,
            &r.uuid.to_string(),
            r,
            expected.as_deref(),
        )
        .await
    }

    pub async fn inspection_rule_delete(&self, uuid: InspectionRuleId) -> Result<(), DbError> {
        self.delete_by_uuid(&INSPECTION_RULES, uuid.to_string())
            .await
    }

    /// Deletes every stored rule; how many there were.
    pub async fn inspection_rules_delete_all(&self) -> Result<u64, DbError> {
        self.delete_rows(&INSPECTION_RULES, &[]).await
    }
}
