//! Deploy template rows.

use ferric_types::deploy_template::DeployTemplate;
use ferric_types::{DeployTemplateId, Timestamp};

use crate::node::sort_column;
use crate::query::{Cond, ListQuery};
use crate::table::DEPLOY_TEMPLATES;
use crate::{Datastore, DbError, UpdateOutcome};

/// The column to sort deploy templates by for an API `sort_key`, if allowed.
pub fn deploy_template_sort_column(field: &str) -> Option<&'static str> {
    sort_column(&DEPLOY_TEMPLATES, field)
}

impl Datastore {
    pub async fn deploy_template_create(&self, t: &DeployTemplate) -> Result<(), DbError> {
        self.insert_row(&DEPLOY_TEMPLATES, t).await
    }

    pub async fn deploy_template_get(
        &self,
        uuid: DeployTemplateId,
    ) -> Result<DeployTemplate, DbError> {
        self.get_row(&DEPLOY_TEMPLATES, "uuid", &uuid.to_string())
            .await
    }

    pub async fn deploy_template_get_by_name(&self, name: &str) -> Result<DeployTemplate, DbError> {
        self.get_row(&DEPLOY_TEMPLATES, "name", name).await
    }

    pub async fn deploy_template_list(
        &self,
        q: &ListQuery,
    ) -> Result<Vec<DeployTemplate>, DbError> {
        self.list_rows(&DEPLOY_TEMPLATES, q).await
    }

    /// The templates named by any of `traits`.
    pub async fn deploy_templates_for_traits(
        &self,
        traits: &[String],
    ) -> Result<Vec<DeployTemplate>, DbError> {
        let q = ListQuery {
            conds: vec![Cond::In(
                "name",
                traits.iter().map(|t| t.as_str().into()).collect(),
            )],
            ..ListQuery::default()
        };
        self.list_rows(&DEPLOY_TEMPLATES, &q).await
    }

    pub async fn deploy_template_update(
        &self,
        t: &DeployTemplate,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(
            &DEPLOY_TEMPLATES,
            &t.uuid.to_string(),
            t,
            expected.as_deref(),
        )
        .await
    }

    pub async fn deploy_template_delete(&self, uuid: DeployTemplateId) -> Result<(), DbError> {
        match self
            .delete_rows(
                &DEPLOY_TEMPLATES,
                &[Cond::Eq("uuid", uuid.to_string().into())],
            )
            .await?
        {
            0 => Err(DbError::NotFound),
            _ => Ok(()),
        }
    }
}
