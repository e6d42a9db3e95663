//! The built-in identity service's records: projects, users, their role assignments
//! on a project or on the whole system, and application credentials. One domain,
//! `default` ("Default"), holds them all.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The one domain's id and name.
pub const DEFAULT_DOMAIN_ID: &str = "default";
pub const DEFAULT_DOMAIN_NAME: &str = "Default";

/// The roles the service knows, each implying those after it up to `reader`
/// (`service` implies nothing).
pub const ROLES: [&str; 5] = ["admin", "manager", "member", "reader", "service"];

/// The `scope` of a system-wide role assignment (otherwise it is a project id).
pub const SYSTEM_SCOPE: &str = "system";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Hex UUID without dashes, as Keystone's ids.
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uuid: String,
    pub name: String,
    /// bcrypt.
    pub password_hash: String,
    pub default_project_id: Option<String>,
    pub enabled: bool,
    /// Tokens issued before this are no longer valid (a password change, a disable).
    pub tokens_valid_after: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("uuid", &self.uuid)
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A role a user holds on a project (`scope` = its id) or the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub uuid: String,
    pub user_uuid: String,
    pub scope: String,
    pub role: String,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// A secret a user hands to a program: it authenticates as the user, in one
/// project, with the roles chosen at creation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCredential {
    pub uuid: String,
    pub user_uuid: String,
    pub name: String,
    pub description: String,
    /// bcrypt of the secret, which is shown once.
    pub secret_hash: String,
    pub project_uuid: String,
    pub roles: Vec<String>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl std::fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredential")
            .field("uuid", &self.uuid)
            .field("name", &self.name)
            .field("project_uuid", &self.project_uuid)
            .finish_non_exhaustive()
    }
}

/// A revoked token (by its audit id), remembered until it would have expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub uuid: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// The key tokens are signed with, shared by every process on the database.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub uuid: String,
    /// Base64 of 32 random bytes.
    pub secret: String,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("uuid", &self.uuid)
            .finish_non_exhaustive()
    }
}
