//! The first administrator: a project, a user with the `admin` role on it and on the
//! system (which implies every other role), as `keystone-manage bootstrap` makes.
//! Running it again changes nothing but the password, if one is given.

use ferric_db::{Datastore, DbError};
use ferric_types::identity::{Project, RoleAssignment, User, SYSTEM_SCOPE};
use ferric_types::Timestamp;

/// What bootstrap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrapped {
    pub user_created: bool,
    pub project_created: bool,
}

/// Makes `user` an administrator of `project` and of the system with `password`.
pub async fn bootstrap(
    db: &Datastore,
    user: &str,
    project: &str,
    password: &str,
) -> Result<Bootstrapped, String> {
    if password.is_empty() || password.len() > 72 {
        return Err("the admin password must be 1 to 72 bytes".into());
    }
    let now = Timestamp::now();
    let err = |e: DbError| format!("identity bootstrap: {e}");
    let (p, project_created) = match db.project_get_by_name(project).await {
        Ok(p) => (p, false),
        Err(DbError::NotFound) => {
            let p = Project {
                uuid: uuid::Uuid::new_v4().simple().to_string(),
                name: project.to_string(),
                description: "Bootstrap project".into(),
                enabled: true,
                created_at: now,
                updated_at: None,
            };
            db.project_create(&p).await.map_err(err)?;
            (p, true)
        }
        Err(e) => return Err(err(e)),
    };
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(password, bcrypt::DEFAULT_COST))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let (u, user_created) = match db.user_get_by_name(user).await {
        Ok(mut u) => {
            let read = u.updated_at;
            u.password_hash = hash;
            u.enabled = true;
            u.tokens_valid_after = now;
            u.updated_at = Some(now);
            db.user_update(&u, read).await.map_err(err)?;
            (u, false)
        }
        Err(DbError::NotFound) => {
            let u = User {
                uuid: uuid::Uuid::new_v4().simple().to_string(),
                name: user.to_string(),
                password_hash: hash,
                default_project_id: Some(p.uuid.clone()),
                enabled: true,
                tokens_valid_after: now,
                created_at: now,
                updated_at: None,
            };
            db.user_create(&u).await.map_err(err)?;
            (u, true)
        }
        Err(e) => return Err(err(e)),
    };
    for scope in [p.uuid.as_str(), SYSTEM_SCOPE] {
        db.assignment_create(&RoleAssignment {
            uuid: uuid::Uuid::new_v4().simple().to_string(),
            user_uuid: u.uuid.clone(),
            scope: scope.to_string(),
            role: "admin".into(),
            created_at: now,
            updated_at: None,
        })
        .await
        .map_err(err)?;
    }
    Ok(Bootstrapped {
        user_created,
        project_created,
    })
}

/// On first start (no user yet): makes the administrator `admin` of project
/// `admin` with a random password, which `hand_over` keeps (it is never logged)
/// before the user exists. Whether it did.
pub async fn first_admin(
    db: &Datastore,
    hand_over: impl FnOnce(&str) -> Result<(), String>,
) -> Result<bool, String> {
    let users = db
        .user_list(Vec::new())
        .await
        .map_err(|e| format!("identity: {e}"))?;
    if !users.is_empty() {
        return Ok(false);
    }
    let password = crate::tokens::random_text(18);
    hand_over(&password)?;
    bootstrap(db, "admin", "admin", &password).await?;
    Ok(true)
}
