//! `/v3/users/{user}/application_credentials`: a user makes a secret for a program,
//! bound to the project and (a subset of) the roles of the token it makes it with;
//! the secret is shown once and stored as a bcrypt hash.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferric_authz::Principal;
use ferric_db::{Cond, DbError};
use ferric_types::identity::AppCredential;
use ferric_types::Timestamp;
use serde_json::{json, Value};

use crate::error::KsError;
use crate::projects::{member, name, name_filter, text};
use crate::users::hash_secret;
use crate::validate::system;
use crate::{base_url, render, Identity};

/// 403 unless the caller is `user` (or, to read and delete, a system admin).
fn own(caller: &Principal, user: &str, admin_too: bool, action: &str) -> Result<(), KsError> {
    if caller.user_id == user || (admin_too && system(caller, "admin")) {
        Ok(())
    } else {
        Err(KsError::forbidden(action))
    }
}

/// `2026-12-31T00:00:00`, with or without fractions and `Z`, as a timestamp.
fn parse_expiry(text: &str) -> Result<Timestamp, KsError> {
    let bad = || {
        KsError::bad_request(format!(
            "Invalid input for field 'expires_at': {text:?} is not an ISO 8601 UTC time"
        ))
    };
    let t = text.trim_end_matches('Z').trim_end_matches("+00:00");
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    if whole.len() != 19 || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let normal = format!("{whole}.{fraction:0<6}+00:00");
    Timestamp::try_from(normal).map_err(|_| bad())
}

/// One of `user`'s credentials, by id or name.
async fn find(id: &Identity, user: &str, ident: &str) -> Result<AppCredential, KsError> {
    match id.db().app_credential_get(ident).await {
        Ok(c) if c.user_uuid == user => return Ok(c),
        Ok(_) | Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    id.db()
        .app_credential_list(vec![
            Cond::Eq("user_uuid", user.into()),
            Cond::Eq("name", ident.into()),
        ])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| KsError::not_found("application credential", ident))
}

pub async fn list(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let user = id.user(&user).await?.uuid;
    own(
        &caller,
        &user,
        true,
        "identity:list_application_credentials",
    )?;
    let mut conds = vec![Cond::Eq("user_uuid", user.as_str().into())];
    if let Some(n) = name_filter(q) {
        conds.push(Cond::Eq("name", n.into()));
    }
    let base = base_url(&headers);
    let creds: Vec<Value> = id
        .db()
        .app_credential_list(conds)
        .await?
        .iter()
        .map(|c| render::app_credential(c, &base))
        .collect();
    Ok(Json(json!({"application_credentials": creds})))
}

pub async fn show(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((user, ident)): Path<(String, String)>,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let user = id.user(&user).await?.uuid;
    own(&caller, &user, true, "identity:get_application_credential")?;
    let c = find(&id, &user, &ident).await?;
    Ok(Json(
        json!({"application_credential": render::app_credential(&c, &base_url(&headers))}),
    ))
}

pub async fn create(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(user): Path<String>,
    body: Bytes,
) -> Result<Response, KsError> {
    let (claims, caller) = id.caller(&headers).await?;
    let user = id.user(&user).await?.uuid;
    own(
        &caller,
        &user,
        false,
        "identity:create_application_credential",
    )?;
    if claims.acr.is_some() {
        return Err(KsError::forbidden("identity:create_application_credential"));
    }
    let Some(project) = caller.project_id().map(str::to_string) else {
        return Err(KsError::bad_request(
            "An application credential is made with a project-scoped token.",
        ));
    };
    let m = member(&body, "application_credential")?;
    let roles = match m.get("roles") {
        // No roles named (the client sends none, or an empty list): the token's.
        None | Some(Value::Null) => caller.roles.clone(),
        Some(Value::Array(asked)) if asked.is_empty() => caller.roles.clone(),
        Some(Value::Array(asked)) => {
            let mut out = Vec::new();
            for r in asked {
                let wanted = r
                    .get("name")
                    .or_else(|| r.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !caller.has_role(wanted) {
                    return Err(KsError::forbidden(&format!(
                        "identity:create_application_credential (the token has no role {wanted})"
                    )));
                }
                out.extend(ferric_authz::expand_roles(&[wanted]));
            }
            out.retain(|r| caller.has_role(r));
            out.dedup();
            out
        }
        Some(_) => return Err(KsError::bad_request("'roles' is a list of roles")),
    };
    let secret = match text(&m, "secret")? {
        Some(s) => s,
        None => crate::tokens::random_text(48),
    };
    let c = AppCredential {
        uuid: uuid::Uuid::new_v4().simple().to_string(),
        user_uuid: user,
        name: name(&m, "application credential")?,
        description: text(&m, "description")?.unwrap_or_default(),
        secret_hash: hash_secret(secret.clone()).await?,
        project_uuid: project,
        roles,
        expires_at: text(&m, "expires_at")?
            .map(|e| parse_expiry(&e))
            .transpose()?,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    match id.db().app_credential_create(&c).await {
        Err(DbError::Duplicate(_)) => {
            return Err(KsError::conflict("application credential", &c.name))
        }
        other => other?,
    }
    tracing::info!(user = %caller.user_name, credential = %c.name, "application credential created");
    let mut rendered = render::app_credential(&c, &base_url(&headers));
    rendered["secret"] = json!(secret);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "application_credential": rendered })),
    )
        .into_response())
}

pub async fn delete(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((user, ident)): Path<(String, String)>,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let user = id.user(&user).await?.uuid;
    own(
        &caller,
        &user,
        true,
        "identity:delete_application_credential",
    )?;
    let c = find(&id, &user, &ident).await?;
    id.db().app_credential_delete(&c.uuid).await?;
    tracing::info!(user = %caller.user_name, credential = %c.name, "application credential deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_are_read_in_keystones_forms() {
        let want = Timestamp::try_from("2026-12-31T01:02:03.000000+00:00".to_string()).unwrap();
        for text in [
            "2026-12-31T01:02:03",
            "2026-12-31T01:02:03Z",
            "2026-12-31T01:02:03.000000Z",
        ] {
            assert_eq!(parse_expiry(text).unwrap(), want, "{text}");
        }
        assert!(parse_expiry("tomorrow").is_err());
        assert!(parse_expiry("2026-12-31").is_err());
    }
}
