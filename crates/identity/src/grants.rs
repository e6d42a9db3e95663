//! Roles and who holds them: the fixed roles (`admin` ⇒ `manager` ⇒ `member` ⇒
//! `reader`, and `service`), the one domain, granting and revoking a role on a
//! project or on the system (system admins only), and the assignment listing behind
//! `openstack role assignment list`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ferric_authz::Principal;
use ferric_db::Cond;
use ferric_types::identity::{
    RoleAssignment, DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, ROLES, SYSTEM_SCOPE,
};
use ferric_types::Timestamp;
use serde_json::{json, Value};

use crate::error::KsError;
use crate::projects::{name_filter, query_pairs};
use crate::validate::{require_system_admin, require_system_reader};
use crate::{base_url, render, Identity};

/// A role by id or name (they are the same).
fn role_named(ident: &str) -> Result<&'static str, KsError> {
    ROLES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(ident))
        .copied()
        .ok_or_else(|| KsError::not_found("role", ident))
}

pub async fn roles(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    id.caller(&headers).await?;
    let wanted = name_filter(q);
    let base = base_url(&headers);
    let roles: Vec<Value> = ROLES
        .iter()
        .filter(|r| wanted.as_deref().is_none_or(|w| w == **r))
        .map(|r| render::role(r, &base))
        .collect();
    Ok(Json(
        json!({"roles": roles, "links": {"self": format!("{base}/v3/roles"), "next": null, "previous": null}}),
    ))
}

pub async fn role(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<Json<Value>, KsError> {
    id.caller(&headers).await?;
    Ok(Json(
        json!({"role": render::role(role_named(&ident)?, &base_url(&headers))}),
    ))
}

pub async fn domains(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    id.caller(&headers).await?;
    let wanted = name_filter(q);
    let list = if wanted.as_deref().is_none_or(|w| w == DEFAULT_DOMAIN_NAME) {
        vec![render::domain(&base_url(&headers))]
    } else {
        Vec::new()
    };
    Ok(Json(json!({"domains": list})))
}

pub async fn domain(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(ident): Path<String>,
) -> Result<Json<Value>, KsError> {
    id.caller(&headers).await?;
    if ident != DEFAULT_DOMAIN_ID && ident != DEFAULT_DOMAIN_NAME {
        return Err(KsError::not_found("domain", &ident));
    }
    Ok(Json(json!({"domain": render::domain(&base_url(&headers))})))
}

/// The (user, scope, role) a grant path names; the scope is a project id or the
/// system.
async fn grant_target(
    id: &Identity,
    project: Option<&str>,
    user: &str,
    role: &str,
) -> Result<(String, String, &'static str), KsError> {
    let scope = match project {
        Some(p) => id.project(p).await?.uuid,
        None => SYSTEM_SCOPE.to_string(),
    };
    let user = id.user(user).await?.uuid;
    Ok((user, scope, role_named(role)?))
}

async fn grant(
    id: &Identity,
    headers: &HeaderMap,
    project: Option<&str>,
    user: &str,
    role: &str,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(headers).await?;
    require_system_admin(&caller, "identity:create_grant")?;
    let (user, scope, role) = grant_target(id, project, user, role).await?;
    id.db()
        .assignment_create(&RoleAssignment {
            uuid: uuid::Uuid::new_v4().simple().to_string(),
            user_uuid: user.clone(),
            scope: scope.clone(),
            role: role.to_string(),
            created_at: Timestamp::now(),
            updated_at: None,
        })
        .await?;
    tracing::info!(user = %caller.user_name, grantee = %user, scope = %scope, role, "role granted");
    Ok(StatusCode::NO_CONTENT)
}

async fn check(
    id: &Identity,
    headers: &HeaderMap,
    project: Option<&str>,
    user: &str,
    role: &str,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(headers).await?;
    require_system_reader(&caller, "identity:check_grant")?;
    let (user, scope, role) = grant_target(id, project, user, role).await?;
    let held = id
        .db()
        .assignment_list(vec![
            Cond::Eq("user_uuid", user.as_str().into()),
            Cond::Eq("scope", scope.as_str().into()),
            Cond::Eq("role", role.into()),
        ])
        .await?;
    if held.is_empty() {
        return Err(KsError::not_found("role assignment", role));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    id: &Identity,
    headers: &HeaderMap,
    project: Option<&str>,
    user: &str,
    role: &str,
) -> Result<StatusCode, KsError> {
    let (_, caller) = id.caller(headers).await?;
    require_system_admin(&caller, "identity:revoke_grant")?;
    let (user, scope, role) = grant_target(id, project, user, role).await?;
    id.db()
        .assignment_delete(&user, &scope, role)
        .await
        .map_err(|e| match e {
            ferric_db::DbError::NotFound => KsError::not_found("role assignment", role),
            other => other.into(),
        })?;
    tracing::info!(user = %caller.user_name, grantee = %user, scope = %scope, role, "role revoked");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn grant_project(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((project, user, role)): Path<(String, String, String)>,
) -> Result<StatusCode, KsError> {
    grant(&id, &headers, Some(&project), &user, &role).await
}

pub async fn check_project(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((project, user, role)): Path<(String, String, String)>,
) -> Result<StatusCode, KsError> {
    check(&id, &headers, Some(&project), &user, &role).await
}

pub async fn revoke_project(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((project, user, role)): Path<(String, String, String)>,
) -> Result<StatusCode, KsError> {
    revoke(&id, &headers, Some(&project), &user, &role).await
}

pub async fn grant_system(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((user, role)): Path<(String, String)>,
) -> Result<StatusCode, KsError> {
    grant(&id, &headers, None, &user, &role).await
}

pub async fn check_system(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((user, role)): Path<(String, String)>,
) -> Result<StatusCode, KsError> {
    check(&id, &headers, None, &user, &role).await
}

pub async fn revoke_system(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path((user, role)): Path<(String, String)>,
) -> Result<StatusCode, KsError> {
    revoke(&id, &headers, None, &user, &role).await
}

/// Whether `caller` may list the assignments of `user` (its own, or as a reader).
fn may_list(caller: &Principal, user: Option<&str>) -> Result<(), KsError> {
    if user == Some(caller.user_id.as_str()) {
        return Ok(());
    }
    require_system_reader(caller, "identity:list_role_assignments")
}

/// `GET /v3/role_assignments` with `user.id`, `scope.project.id`, `scope.system`,
/// `role.id` and `include_names`.
pub async fn assignments(
    State(id): State<Identity>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let params = query_pairs(q.as_deref().unwrap_or(""));
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    let user = match get("user.id") {
        Some(u) => Some(id.user(&u).await?.uuid),
        None => None,
    };
    may_list(&caller, user.as_deref())?;
    let mut conds = Vec::new();
    if let Some(u) = &user {
        conds.push(Cond::Eq("user_uuid", u.as_str().into()));
    }
    if let Some(p) = get("scope.project.id") {
        conds.push(Cond::Eq("scope", id.project(&p).await?.uuid.into()));
    }
    if get("scope.system").is_some() {
        conds.push(Cond::Eq("scope", SYSTEM_SCOPE.into()));
    }
    if let Some(r) = get("role.id") {
        conds.push(Cond::Eq("role", role_named(&r)?.into()));
    }
    let names = get("include_names").is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"));
    let base = base_url(&headers);
    let mut out = Vec::new();
    for a in id.db().assignment_list(conds).await? {
        let rendered = if names {
            let user_name = id.db().user_get(&a.user_uuid).await?.name;
            let project_name = if a.scope == SYSTEM_SCOPE {
                None
            } else {
                id.db().project_get(&a.scope).await.ok().map(|p| p.name)
            };
            render::assignment(&a, Some((&user_name, project_name.as_deref())), &base)
        } else {
            render::assignment(&a, None, &base)
        };
        out.push(rendered);
    }
    Ok(Json(
        json!({"role_assignments": out, "links": {"self": format!("{base}/v3/role_assignments"), "next": null, "previous": null}}),
    ))
}

/// `GET /v3/users/{id}/projects`: the projects the user has a role in.
pub async fn user_projects(
    State(id): State<Identity>,
    headers: HeaderMap,
    Path(user): Path<String>,
) -> Result<Json<Value>, KsError> {
    let (_, caller) = id.caller(&headers).await?;
    let user = id.user(&user).await?.uuid;
    may_list(&caller, Some(&user))?;
    let base = base_url(&headers);
    let mut seen = Vec::new();
    let mut projects = Vec::new();
    for a in id
        .db()
        .assignment_list(vec![Cond::Eq("user_uuid", user.as_str().into())])
        .await?
    {
        if a.scope == SYSTEM_SCOPE || seen.contains(&a.scope) {
            continue;
        }
        if let Ok(p) = id.db().project_get(&a.scope).await {
            projects.push(render::project(&p, &base));
        }
        seen.push(a.scope);
    }
    Ok(Json(json!({"projects": projects})))
}
