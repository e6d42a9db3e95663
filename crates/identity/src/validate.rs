//! Who a token belongs to, checked against the database: the signature and expiry
//! first, then that it was not revoked, that its user still exists, is enabled and
//! has not changed password since, that its application credential still exists,
//! and which of its roles the user still holds. A result is believed for a few
//! seconds so a busy API does not read the database per request.

use std::time::Instant;

use axum::http::HeaderMap;
use ferric_authz::{expand_roles, Principal, Scope, TokenCheck, TokenError, TokenValidator};
use ferric_db::{Cond, DbError};
use ferric_types::identity::SYSTEM_SCOPE;
use ferric_types::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::KsError;
use crate::tokens::Claims;
use crate::{Identity, VALIDATION_CACHE_SIZE, VALIDATION_CACHE_TTL};

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Identity {
    /// The roles `user` holds in `scope` (a project id or the system), expanded.
    pub(crate) async fn roles_in(&self, user: &str, scope: &str) -> Result<Vec<String>, DbError> {
        let held: Vec<String> = self
            .db()
            .assignment_list(vec![
                Cond::Eq("user_uuid", user.into()),
                Cond::Eq("scope", scope.into()),
            ])
            .await?
            .into_iter()
            .map(|a| a.role)
            .collect();
        Ok(expand_roles(&held))
    }

    /// The claims and principal of a valid token; `None` when it is not one.
    pub(crate) async fn resolve(
        &self,
        token: &str,
    ) -> Result<Option<(Claims, Principal)>, DbError> {
        let Some(claims) = self.inner.signer.verify(token) else {
            return Ok(None);
        };
        if self.db().revocation_exists(&claims.jti).await? {
            return Ok(None);
        }
        let user = match self.db().user_get(&claims.sub).await {
            Ok(u) => u,
            Err(DbError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !user.enabled || claims.issued_at() < user.tokens_valid_after {
            return Ok(None);
        }
        if let Some(cred) = &claims.acr {
            match self.db().app_credential_get(cred).await {
                Ok(c) if c.user_uuid == user.uuid => {}
                Ok(_) | Err(DbError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        let (scope, scope_key) = match (&claims.prj, claims.sys) {
            (Some(project), _) => match self.db().project_get(project).await {
                Ok(p) if p.enabled => (
                    Scope::Project {
                        id: p.uuid.clone(),
                        name: p.name.clone(),
                    },
                    p.uuid,
                ),
                Ok(_) | Err(DbError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            },
            (None, true) => (Scope::System, SYSTEM_SCOPE.to_string()),
            (None, false) => (Scope::Unscoped, String::new()),
        };
        let roles = if scope_key.is_empty() {
            Vec::new()
        } else {
            let held = self.roles_in(&user.uuid, &scope_key).await?;
            claims
                .roles
                .iter()
                .filter(|r| held.contains(r))
                .cloned()
                .collect()
        };
        let principal = Principal {
            user_id: user.uuid,
            user_name: user.name,
            scope,
            roles,
        };
        Ok(Some((claims, principal)))
    }

    /// The principal of the request's `X-Auth-Token`, or 401.
    pub(crate) async fn caller(&self, headers: &HeaderMap) -> Result<(Claims, Principal), KsError> {
        let token = headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 8192)
            .ok_or_else(KsError::unauthorized)?;
        self.resolve(token).await?.ok_or_else(KsError::unauthorized)
    }

    /// Forgets what was believed about a token (it was just revoked).
    pub(crate) fn forget(&self, token: &str) {
        self.inner
            .validated
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&digest(token));
    }
}

/// A system-scoped caller with `role`.
pub(crate) fn system(p: &Principal, role: &str) -> bool {
    p.is_system() && p.has_role(role)
}

/// 403 unless the caller is a system admin.
pub(crate) fn require_system_admin(p: &Principal, action: &str) -> Result<(), KsError> {
    if system(p, "admin") {
        Ok(())
    } else {
        Err(KsError::forbidden(action))
    }
}

/// 403 unless the caller reads the system (reader, or the service role).
pub(crate) fn require_system_reader(p: &Principal, action: &str) -> Result<(), KsError> {
    if system(p, "reader") || p.has_role("service") {
        Ok(())
    } else {
        Err(KsError::forbidden(action))
    }
}

impl TokenValidator for Identity {
    fn validate<'a>(&'a self, token: &'a str) -> TokenCheck<'a> {
        Box::pin(async move {
            let key = digest(token);
            if let Some((p, at, expires)) = self
                .inner
                .validated
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
            {
                if at.elapsed() < VALIDATION_CACHE_TTL && Timestamp::now() < *expires {
                    return Ok(p.clone());
                }
            }
            let resolved = self
                .resolve(token)
                .await
                .map_err(|e| TokenError::Unavailable(e.to_string()))?;
            let Some((claims, principal)) = resolved else {
                return Err(TokenError::Invalid);
            };
            let mut cache = self
                .inner
                .validated
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if cache.len() >= VALIDATION_CACHE_SIZE {
                cache.retain(|_, (_, at, _)| at.elapsed() < VALIDATION_CACHE_TTL);
                if cache.len() >= VALIDATION_CACHE_SIZE {
                    cache.clear();
                }
            }
            cache.insert(
                key,
                (principal.clone(), Instant::now(), claims.expires_at()),
            );
            Ok(principal)
        })
    }
}
