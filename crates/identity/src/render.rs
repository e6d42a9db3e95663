//! Keystone's JSON shapes of projects, users, roles, the domain, role assignments
//! and application credentials (ids are hex UUIDs; a role's id is its name).

use ferric_types::identity::{
    AppCredential, Project, RoleAssignment, User, DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME,
    SYSTEM_SCOPE,
};
use serde_json::{json, Value};

use crate::tokens::keystone_time;

pub fn domain_ref() -> Value {
    json!({"id": DEFAULT_DOMAIN_ID, "name": DEFAULT_DOMAIN_NAME})
}

pub fn domain(base: &str) -> Value {
    json!({
        "id": DEFAULT_DOMAIN_ID, "name": DEFAULT_DOMAIN_NAME, "description": "",
        "enabled": true, "tags": [], "options": {},
        "links": {"self": format!("{base}/v3/domains/{DEFAULT_DOMAIN_ID}")},
    })
}

pub fn project(p: &Project, base: &str) -> Value {
    json!({
        "id": p.uuid, "name": p.name, "description": p.description, "enabled": p.enabled,
        "domain_id": DEFAULT_DOMAIN_ID, "parent_id": DEFAULT_DOMAIN_ID, "is_domain": false,
        "tags": [], "options": {},
        "links": {"self": format!("{base}/v3/projects/{}", p.uuid)},
    })
}

pub fn user(u: &User, base: &str) -> Value {
    let mut v = json!({
        "id": u.uuid, "name": u.name, "domain_id": DEFAULT_DOMAIN_ID, "enabled": u.enabled,
        "password_expires_at": null, "options": {},
        "links": {"self": format!("{base}/v3/users/{}", u.uuid)},
    });
    if let Some(p) = &u.default_project_id {
        v["default_project_id"] = json!(p);
    }
    v
}

pub fn role(name: &str, base: &str) -> Value {
    json!({
        "id": name, "name": name, "domain_id": null, "description": "", "options": {},
        "links": {"self": format!("{base}/v3/roles/{name}")},
    })
}

/// A role assignment; with `names`, the user's, role's and project's names too.
pub fn assignment(a: &RoleAssignment, names: Option<(&str, Option<&str>)>, base: &str) -> Value {
    let mut role = json!({"id": a.role});
    let mut user = json!({"id": a.user_uuid});
    let mut scope = if a.scope == SYSTEM_SCOPE {
        json!({"system": {"all": true}})
    } else {
        json!({"project": {"id": a.scope}})
    };
    if let Some((user_name, project_name)) = names {
        role["name"] = json!(a.role);
        user["name"] = json!(user_name);
        user["domain"] = domain_ref();
        if let Some(p) = project_name {
            scope["project"]["name"] = json!(p);
            scope["project"]["domain"] = domain_ref();
        }
    }
    let target = if a.scope == SYSTEM_SCOPE {
        "system".to_string()
    } else {
        format!("projects/{}", a.scope)
    };
    json!({
        "role": role, "user": user, "scope": scope,
        "links": {"assignment": format!("{base}/v3/{target}/users/{}/roles/{}", a.user_uuid, a.role)},
    })
}

pub fn app_credential(c: &AppCredential, base: &str) -> Value {
    json!({
        "id": c.uuid, "name": c.name, "description": c.description,
        "user_id": c.user_uuid, "project_id": c.project_uuid,
        "roles": c.roles.iter().map(|r| json!({"id": r, "name": r, "domain_id": null})).collect::<Vec<_>>(),
        "expires_at": c.expires_at.map(keystone_time),
        "unrestricted": false, "access_rules": [],
        "links": {"self": format!("{base}/v3/users/{}/application_credentials/{}", c.user_uuid, c.uuid)},
    })
}
