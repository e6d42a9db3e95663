//! `/v3/users`: system admins create users (bcrypt-hashed passwords), change their
//! password (which ends the tokens issued before), disable and delete them; system
//! readers list them; a user reads itself.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_db::{Cond, DbError};
use ferric_types::identity::User;
use ferric_types::Timestamp;
use serde_json::{json, Value};

use crate::error::KsError;
use crate::projects::{by_id_or_name, member, name, name_filter, text};
use crate::validate::{require_system_admin, require_system_reader};
use crate::{base_url, render, Identity};

/// The bcrypt hash of a new password (at bcrypt's default cost).
pub(crate) async fn hash_secret(secret: String) -> Result<String, KsError> {
    if secret.is_empty() || secret.len() > 72 {
        return Err(KsError::bad_request(
            "Invalid input for field 'password': a password is 1 to 72 bytes",
        ));
    }
    tokio::task::spawn_blocking(move || bcrypt::hash(secret, bcrypt::DEFAULT_COST))
        .await
        .map_err(|e| KsError::bad_request(format!("cannot hash the password: {e}")))?
        .map_err(|e| KsError::bad_request(format!("cannot hash the password: {e}")))
}

impl Identity {
    /// A user by id or, failing that, by name.
    pub(crate) async fn user(&self, ident: &str) -> Result<User, KsError> {
        let db = self.db();
        by_id_or_name(
            "user",
            ident,
            db.user_get(ident),
            db.user_get_by_name(ident),
        )
        .await
    }
}

pub async fn list(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_reader(&caller, "identity:list_users")?;
    let conds = name_filter(q)
        .map(|n| vec![Cond::Eq("name", n.into())])
        .unwrap_or_default();
    let base = base_url(&headers);
    let users: Vec<Value> = id
        .db()
        .user_list(conds)
        .await?
        .iter()
        .map(|u| render::user(u, &base))
        .collect();
    Ok(Json(
        json!({"users": users, "links": {"self": format!("{base}/v3/users"), "next": null, "previous": null}}),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let u = id.user(&ident).await?;
    if caller.user_id != u.uuid {
        require_system_reader(&caller, "identity:get_user")?;
    }
    Ok(Json(json!({"user": render::user(&u, &base_url(&headers))})))
}

pub async fn create(
    State(id): State<Identity>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:create_user")?;
    let m = member(&body, "user")?;
    let user_name = name(&m, "user")?;
    let password = text(&m, "password")?
        .ok_or_else(|| KsError::bad_request("'password' is a required property"))?;
    let default_project_id = match text(&m, "default_project_id")? {
        Some(p) => Some(id.project(&p).await?.uuid),
        None => None,
    };
    let now = Timestamp::now();
    let u = User {
        uuid: uuid::Uuid::new_v4().simple().to_string(),
        name: user_name,
        password_hash: hash_secret(password).await?,
        default_project_id,
        enabled: m.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        tokens_valid_after: now,
        created_at: now,
        updated_at: None,
    };
    match id.db().user_create(&u).await {
        Err(DbError::Duplicate(_)) => return Err(KsError::conflict("user", &u.name)),
        other => other?,
    }
    tracing::info!(user = %caller.user_name, created = %u.name, "user created");
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": render::user(&u, &base_url(&headers))})),
    )
        .into_response())
}

pub async fn update(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:update_user")?;
    let m = member(&body, "user")?;
    let before = id.user(&ident).await?;
    let mut u = before.clone();
    let now = Timestamp::now();
    if m.contains_key("name") {
        u.name = name(&m, "user")?;
    }
    if let Some(password) = text(&m, "password")? {
        u.password_hash = hash_secret(password).await?;
        u.tokens_valid_after = now;
    }
    if let Some(enabled) = m.get("enabled").and_then(Value::as_bool) {
        if !enabled {
            u.tokens_valid_after = now;
        }
        u.enabled = enabled;
    }
    if m.contains_key("default_project_id") {
        u.default_project_id = match text(&m, "default_project_id")? {
            Some(p) => Some(id.project(&p).await?.uuid),
            None => None,
        };
    }
    u.updated_at = Some(now);
    match id.db().user_update(&u, before.updated_at).await {
        Err(DbError::Duplicate(_)) => return Err(KsError::conflict("user", &u.name)),
        Ok(ferric_db::UpdateOutcome::Updated) => {}
        Ok(_) => {
            return Err(KsError::new(
                StatusCode::CONFLICT,
                "The user changed while it was being updated; try again.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %caller.user_name, updated = %u.name, "user updated");
    Ok(Json(json!({"user": render::user(&u, &base_url(&headers))})))
}

pub async fn delete(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    require_system_admin(&caller, "identity:delete_user")?;
    let u = id.user(&ident).await?;
    id.db().user_delete(&u.uuid).await?;
    tracing::info!(user = %caller.user_name, deleted = %u.name, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}
