//! The built-in identity service's rows: projects, users, role assignments,
//! application credentials, revoked tokens and the signing key. Names of projects
//! and users are unique (one domain), as is each (user, scope, role) grant.

use ferric_types::identity::{
    AppCredential, Project, Revocation, RoleAssignment, SigningKey, User,
};
use ferric_types::Timestamp;

use crate::query::{Cond, ListQuery};
use crate::table::{
    IDENTITY_APP_CREDENTIALS, IDENTITY_ASSIGNMENTS, IDENTITY_KEYS, IDENTITY_PROJECTS,
    IDENTITY_REVOCATIONS, IDENTITY_USERS,
};
use crate::{Datastore, DbError, UpdateOutcome};

fn all(conds: Vec<Cond>) -> ListQuery {
    ListQuery {
        conds,
        ..ListQuery::default()
    }
}

fn one_deleted(n: u64) -> Result<(), DbError> {
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

impl Datastore {
    pub async fn project_create(&self, p: &Project) -> Result<(), DbError> {
        self.insert_row(&IDENTITY_PROJECTS, p).await
    }

    /// A project by id, or by name.
    pub async fn project_get(&self, id: &str) -> Result<Project, DbError> {
        self.get_row(&IDENTITY_PROJECTS, "uuid", id).await
    }

    pub async fn project_get_by_name(&self, name: &str) -> Result<Project, DbError> {
        self.get_row(&IDENTITY_PROJECTS, "name", name).await
    }

    pub async fn project_list(&self, conds: Vec<Cond>) -> Result<Vec<Project>, DbError> {
        self.list_rows(&IDENTITY_PROJECTS, &all(conds)).await
    }

    pub async fn project_update(
        &self,
        p: &Project,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&IDENTITY_PROJECTS, &p.uuid, p, expected.as_deref())
            .await
    }

    /// Deletes a project and every role assignment on it.
    pub async fn project_delete(&self, id: &str) -> Result<(), DbError> {
        self.delete_rows(&IDENTITY_ASSIGNMENTS, &[Cond::Eq("scope", id.into())])
            .await?;
        one_deleted(
            self.delete_rows(&IDENTITY_PROJECTS, &[Cond::Eq("uuid", id.into())])
                .await?,
        )
    }

    pub async fn user_create(&self, u: &User) -> Result<(), DbError> {
        self.insert_row(&IDENTITY_USERS, u).await
    }

    pub async fn user_get(&self, id: &str) -> Result<User, DbError> {
        self.get_row(&IDENTITY_USERS, "uuid", id).await
    }

    pub async fn user_get_by_name(&self, name: &str) -> Result<User, DbError> {
        self.get_row(&IDENTITY_USERS, "name", name).await
    }

    pub async fn user_list(&self, conds: Vec<Cond>) -> Result<Vec<User>, DbError> {
        self.list_rows(&IDENTITY_USERS, &all(conds)).await
    }

    pub async fn user_update(
        &self,
        u: &User,
        read_updated_at: Option<Timestamp>,
    ) -> Result<UpdateOutcome, DbError> {
        let expected = read_updated_at.map(|t| t.to_string());
        self.update_row_if_unchanged(&IDENTITY_USERS, &u.uuid, u, expected.as_deref())
            .await
    }

    /// Deletes a user (its assignments and application credentials go with it).
    pub async fn user_delete(&self, id: &str) -> Result<(), DbError> {
        one_deleted(
            self.delete_rows(&IDENTITY_USERS, &[Cond::Eq("uuid", id.into())])
                .await?,
        )
    }

    /// Grants a role; granting one already held is not an error.
    pub async fn assignment_create(&self, a: &RoleAssignment) -> Result<(), DbError> {
        match self.insert_row(&IDENTITY_ASSIGNMENTS, a).await {
            Err(DbError::Duplicate(col)) if col != "uuid" => Ok(()),
            other => other,
        }
    }

    /// Assignments matching `conds` (`user_uuid`, `scope`, `role`).
    pub async fn assignment_list(&self, conds: Vec<Cond>) -> Result<Vec<RoleAssignment>, DbError> {
        self.list_rows(&IDENTITY_ASSIGNMENTS, &all(conds)).await
    }

    pub async fn assignment_delete(
        &self,
        user: &str,
        scope: &str,
        role: &str,
    ) -> Result<(), DbError> {
        one_deleted(
            self.delete_rows(
                &IDENTITY_ASSIGNMENTS,
                &[
                    Cond::Eq("user_uuid", user.into()),
                    Cond::Eq("scope", scope.into()),
                    Cond::Eq("role", role.into()),
                ],
            )
            .await?,
        )
    }

    pub async fn app_credential_create(&self, c: &AppCredential) -> Result<(), DbError> {
        self.insert_row(&IDENTITY_APP_CREDENTIALS, c).await
    }

    pub async fn app_credential_get(&self, id: &str) -> Result<AppCredential, DbError> {
        self.get_row(&IDENTITY_APP_CREDENTIALS, "uuid", id).await
    }

    pub async fn app_credential_list(
        &self,
        conds: Vec<Cond>,
    ) -> Result<Vec<AppCredential>, DbError> {
        self.list_rows(&IDENTITY_APP_CREDENTIALS, &all(conds)).await
    }

    pub async fn app_credential_delete(&self, id: &str) -> Result<(), DbError> {
        one_deleted(
            self.delete_rows(&IDENTITY_APP_CREDENTIALS, &[Cond::Eq("uuid", id.into())])
                .await?,
        )
    }

    /// Records a revoked token; revoking twice is not an error.
    pub async fn revocation_create(&self, r: &Revocation) -> Result<(), DbError> {
        match self.insert_row(&IDENTITY_REVOCATIONS, r).await {
            Err(DbError::Duplicate(_)) => Ok(()),
            other => other,
        }
    }

    pub async fn revocation_exists(&self, audit_id: &str) -> Result<bool, DbError> {
        Ok(self
            .count_rows(&IDENTITY_REVOCATIONS, &[Cond::Eq("uuid", audit_id.into())])
            .await?
            > 0)
    }

    /// Forgets revocations of tokens that have expired anyway.
    pub async fn revocation_prune(&self, now: Timestamp) -> Result<u64, DbError> {
        let expired = self
            .list_rows::<Revocation>(&IDENTITY_REVOCATIONS, &ListQuery::default())
            .await?
            .into_iter()
            .filter(|r| r.expires_at < now)
            .map(|r| r.uuid.into())
            .collect();
        self.delete_rows(&IDENTITY_REVOCATIONS, &[Cond::In("uuid", expired)])
            .await
    }

    /// The signing key: the oldest one, created from `fresh` if there is none yet
    /// (two processes starting at once agree on whichever was stored first).
    pub async fn signing_key(&self, fresh: &SigningKey) -> Result<SigningKey, DbError> {
        let existing: Vec<SigningKey> = self
            .list_rows(&IDENTITY_KEYS, &ListQuery::default())
            .await?;
        if let Some(k) = existing.into_iter().next() {
            return Ok(k);
        }
        self.insert_row(&IDENTITY_KEYS, fresh).await?;
        let stored: Vec<SigningKey> = self
            .list_rows(&IDENTITY_KEYS, &ListQuery::default())
            .await?;
        stored.into_iter().next().ok_or(DbError::NotFound)
    }
}
