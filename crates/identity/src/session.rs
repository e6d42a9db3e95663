//! `/v3/auth/tokens`: issuing a token for a password or an application credential,
//! scoped to a project, the system or nothing; validating one (for services such as
//! another Ferric's `keystone` strategy); revoking one.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_authz::{Principal, Scope};
use ferric_db::DbError;
use ferric_types::identity::{
    AppCredential, Project, Revocation, User, DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, SYSTEM_SCOPE,
};
use ferric_types::Timestamp;
use serde_json::{json, Value};

use crate::error::KsError;
use crate::render::domain_ref;
use crate::tokens::{audit_id, keystone_time, Claims};
use crate::validate::system;
use crate::Identity;

/// Whether a `domain` reference names the one domain (absent counts).
fn default_domain(domain: Option<&Value>) -> bool {
    match domain {
        None | Some(Value::Null) => true,
        Some(d) => {
            d.get("id").and_then(Value::as_str) == Some(DEFAULT_DOMAIN_ID)
                || d.get("name").and_then(Value::as_str) == Some(DEFAULT_DOMAIN_NAME)
        }
    }
}

impl Identity {
    /// Whether `secret` matches a stored bcrypt `hash` (memoised).
    async fn secret_matches(&self, who: &str, hash: &str, secret: &str) -> bool {
        self.inner.memo.verify(who, hash, secret).await
    }

    /// A user named in a request: `{"id"}` or `{"name", "domain"}`.
    async fn named_user(&self, v: &Value) -> Result<Option<User>, DbError> {
        let found = if let Some(id) = v.get("id").and_then(Value::as_str) {
            self.db().user_get(id).await
        } else if let Some(name) = v.get("name").and_then(Value::as_str) {
            if !default_domain(v.get("domain")) {
                return Ok(None);
            }
            self.db().user_get_by_name(name).await
        } else {
            return Ok(None);
        };
        match found {
            Ok(u) => Ok(Some(u)),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user a password authenticates.
    async fn by_password(&self, p: &Value) -> Result<User, KsError> {
        let user = p.get("user").ok_or_else(KsError::unauthorized)?;
        let password = user
            .get("password")
            .and_then(Value::as_str)
            .ok_or_else(KsError::unauthorized)?;
        let u = self
            .named_user(user)
            .await?
            .ok_or_else(KsError::unauthorized)?;
        if !u.enabled
            || !self
                .secret_matches(&u.uuid, &u.password_hash, password)
                .await
        {
            return Err(KsError::unauthorized());
        }
        Ok(u)
    }

    /// The user and credential an application credential authenticates.
    async fn by_app_credential(&self, c: &Value) -> Result<(User, AppCredential), KsError> {
        let secret = c
            .get("secret")
            .and_then(Value::as_str)
            .ok_or_else(KsError::unauthorized)?;
        let cred = if let Some(id) = c.get("id").and_then(Value::as_str) {
            self.db().app_credential_get(id).await
        } else {
            let name = c.get("name").and_then(Value::as_str);
            let owner = match c.get("user") {
                Some(u) => self.named_user(u).await?,
                None => None,
            };
            match (name, owner) {
                (Some(name), Some(owner)) => self
                    .db()
                    .app_credential_list(vec![
                        ferric_db::Cond::Eq("user_uuid", owner.uuid.as_str().into()),
                        ferric_db::Cond::Eq("name", name.into()),
                    ])
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(DbError::NotFound),
                _ => Err(DbError::NotFound),
            }
        };
        let cred = match cred {
            Ok(c) => c,
            Err(DbError::NotFound) => return Err(KsError::unauthorized()),
            Err(e) => return Err(e.into()),
        };
        if cred.expires_at.is_some_and(|e| e <= Timestamp::now())
            || !self
                .secret_matches(&cred.uuid, &cred.secret_hash, secret)
                .await
        {
            return Err(KsError::unauthorized());
        }
        let user = self.db().user_get(&cred.user_uuid).await?;
        if !user.enabled {
            return Err(KsError::unauthorized());
        }
        Ok((user, cred))
    }

    /// The project a scope names: `{"id"}` or `{"name", "domain"}`; 401 unless it
    /// exists and is enabled.
    async fn named_project(&self, v: &Value) -> Result<Project, KsError> {
        let found = if let Some(id) = v.get("id").and_then(Value::as_str) {
            self.db().project_get(id).await
        } else if let (Some(name), true) = (
            v.get("name").and_then(Value::as_str),
            default_domain(v.get("domain")),
        ) {
            self.db().project_get_by_name(name).await
        } else {
            return Err(KsError::unauthorized());
        };
        match found {
            Ok(p) if p.enabled => Ok(p),
            Ok(_) | Err(DbError::NotFound) => Err(KsError::unauthorized()),
            Err(e) => Err(e.into()),
        }
    }

    /// A token's body as Keystone answers it.
    pub(crate) async fn token_body(
        &self,
        headers: &HeaderMap,
        claims: &Claims,
        principal: &Principal,
        with_catalog: bool,
    ) -> Result<Value, KsError> {
        let mut token = json!({
            "methods": claims.mth,
            "user": {
                "id": principal.user_id, "name": principal.user_name,
                "domain": domain_ref(), "password_expires_at": null,
            },
            "roles": principal.roles.iter().map(|r| json!({"id": r, "name": r})).collect::<Vec<_>>(),
            "expires_at": keystone_time(claims.expires_at()),
            "issued_at": keystone_time(claims.issued_at()),
            "audit_ids": [claims.jti],
            "is_domain": false,
        });
        match &principal.scope {
            Scope::Project { id, name } => {
                token["project"] = json!({"id": id, "name": name, "domain": domain_ref()});
                token["is_admin_project"] = json!(false);
            }
            Scope::System => token["system"] = json!({"all": true}),
            Scope::Unscoped => {}
        }
        if principal.scope != Scope::Unscoped && with_catalog {
            token["catalog"] = json!(self.catalog(headers));
        }
        if let Some(id) = &claims.acr {
            let cred = self.db().app_credential_get(id).await?;
            token["application_credential"] =
                json!({"id": cred.uuid, "name": cred.name, "restricted": true});
        }
        Ok(json!({ "token": token }))
    }
}

/// `POST /v3/auth/tokens`.
pub async fn issue(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, KsError> {
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| KsError::bad_request(format!("The request body is not JSON: {e}")))?;
    let auth = doc
        .get("auth")
        .ok_or_else(|| KsError::bad_request("'auth' is a required property"))?;
    let identity = auth
        .get("identity")
        .ok_or_else(|| KsError::bad_request("'identity' is a required property"))?;
    let methods: Vec<String> = identity
        .get("methods")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let scope = auth.get("scope").filter(|s| !s.is_null());
    let (user, cred) = if methods.iter().any(|m| m == "application_credential") {
        if scope.is_some() {
            return Err(KsError::new(
                StatusCode::UNAUTHORIZED,
                "Application credentials cannot request a scope.",
            ));
        }
        let c = identity
            .get("application_credential")
            .ok_or_else(KsError::unauthorized)?;
        let (u, cred) = id.by_app_credential(c).await?;
        (u, Some(cred))
    } else if methods.iter().any(|m| m == "password") {
        let p = identity.get("password").ok_or_else(KsError::unauthorized)?;
        (id.by_password(p).await?, None)
    } else {
        return Err(KsError::unauthorized());
    };
    let by_id = |id: &str| json!({ "id": id });
    let (project, sys) = match (&cred, scope) {
        (Some(c), _) => (
            Some(id.named_project(&by_id(&c.project_uuid)).await?),
            false,
        ),
        (None, Some(s)) if s.get("system").is_some() => {
            if s["system"].get("all") != Some(&Value::Bool(true)) {
                return Err(KsError::unauthorized());
            }
            (None, true)
        }
        (None, Some(s)) if s.get("project").is_some() => {
            (Some(id.named_project(&s["project"]).await?), false)
        }
        (None, Some(s)) if s.get("domain").is_some() => {
            return Err(KsError::not_supported("A domain-scoped token"))
        }
        (None, Some(_)) => {
            return Err(KsError::bad_request(
                "The scope names no project, system or domain.",
            ))
        }
        (None, None) => match &user.default_project_id {
            Some(p) => (Some(id.named_project(&by_id(p)).await?), false),
            None => (None, false),
        },
    };
    let (scope, scope_key) = match (&project, sys) {
        (Some(p), _) => (
            Scope::Project {
                id: p.uuid.clone(),
                name: p.name.clone(),
            },
            p.uuid.clone(),
        ),
        (None, true) => (Scope::System, SYSTEM_SCOPE.to_string()),
        (None, false) => (Scope::Unscoped, String::new()),
    };
    let roles = if scope_key.is_empty() {
        Vec::new()
    } else {
        let held = id.roles_in(&user.uuid, &scope_key).await?;
        match &cred {
            Some(c) => held.into_iter().filter(|r| c.roles.contains(r)).collect(),
            None => held,
        }
    };
    if !scope_key.is_empty() && roles.is_empty() {
        // No role there: Keystone refuses the scope.
        return Err(KsError::unauthorized());
    }
    let now = Timestamp::now();
    let ttl = id.inner.config.token_ttl.as_secs();
    let mut expires = (now.micros() / 1_000_000) as u64 + ttl;
    if let Some(e) = cred.as_ref().and_then(|c| c.expires_at) {
        expires = expires.min((e.micros() / 1_000_000) as u64);
    }
    let principal = Principal {
        user_id: user.uuid.clone(),
        user_name: user.name.clone(),
        scope,
        roles: roles.clone(),
    };
    let claims = Claims {
        sub: user.uuid.clone(),
        prj: project.map(|p| p.uuid),
        sys,
        roles,
        mth: if cred.is_some() {
            vec!["application_credential".into()]
        } else {
            vec!["password".into()]
        },
        iat: now.micros(),
        exp: expires,
        jti: audit_id(),
        acr: cred.map(|c| c.uuid),
    };
    let token = id.inner.signer.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "cannot issue a token");
        KsError::from(DbError::Corrupt(e))
    })?;
    tracing::info!(user = %principal.user_name, project = principal.project_id().unwrap_or("-"), system = principal.is_system(), "token issued");
    let with_catalog = !query.as_deref().unwrap_or("").contains("nocatalog");
    let body = id
        .token_body(&headers, &claims, &principal, with_catalog)
        .await?;
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut().insert(
        "x-subject-token",
        HeaderValue::from_str(&token).expect("a token is ASCII"),
    );
    Ok(resp)
}

/// The subject token of a validate or revoke request, if the caller may ask.
async fn subject(
    id: &Identity,
    headers: &HeaderMap,
    may: impl Fn(&Principal, &Principal) -> bool,
    action: &str,
) -> Result<(String, Claims, Principal), KsError> {
    let (_, caller) = id.caller(headers).await?;
    let token = headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let missing = || KsError::new(StatusCode::NOT_FOUND, "Could not find token.");
    if token.is_empty() || token.len() > 8192 {
        return Err(missing());
    }
    let (claims, principal) = id.resolve(&token).await?.ok_or_else(missing)?;
    if !may(&caller, &principal) {
        return Err(KsError::forbidden(action));
    }
    Ok((token, claims, principal))
}

/// Services and system readers validate any token; a user its own.
fn may_validate(caller: &Principal, subject: &Principal) -> bool {
    caller.user_id == subject.user_id || system(caller, "reader") || caller.has_role("service")
}

/// `GET /v3/auth/tokens`: the subject token's body, 404 if it is not valid.
pub async fn validate(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, KsError> {
    let (token, claims, principal) =
        subject(&id, &headers, may_validate, "identity:validate_token").await?;
    let with_catalog = !query.as_deref().unwrap_or("").contains("nocatalog");
    let body = id
        .token_body(&headers, &claims, &principal, with_catalog)
        .await?;
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(
        "x-subject-token",
        HeaderValue::from_str(&token).expect("a token is ASCII"),
    );
    Ok(resp)
}

/// `HEAD /v3/auth/tokens`: 200 if the subject token is valid.
pub async fn check(State(id): State<Identity>, headers: HeaderMap) -> Result<StatusCode, KsError> {
    subject(&id, &headers, may_validate, "identity:check_token").await?;
    Ok(StatusCode::OK)
}

/// `DELETE /v3/auth/tokens`: revokes the subject token.
pub async fn revoke(State(id): State<Identity>, headers: HeaderMap) -> Result<StatusCode, KsError> {
    let (token, claims, _) = subject(
        &id,
        &headers,
        |caller, subject| caller.user_id == subject.user_id || system(caller, "admin"),
        "identity:revoke_token",
    )
    .await?;
    id.db()
        .revocation_create(&Revocation {
            uuid: claims.jti.clone(),
            expires_at: claims.expires_at(),
            created_at: Timestamp::now(),
            updated_at: None,
        })
        .await?;
    id.forget(&token);
    let _ = id.db().revocation_prune(Timestamp::now()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v3/auth/catalog`: the caller's catalog.
pub async fn catalog(
    State(id): State<Identity>,
    headers: HeaderMap,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let catalog = if caller.scope == Scope::Unscoped {
        Vec::new()
    } else {
        id.catalog(&headers)
    };
    Ok(Json(json!({ "catalog": catalog })))
}
