//! Who is asking: the identity an authenticated request carries, and the roles it
//! holds once implied roles are expanded.

/// What a token or a user entry is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole deployment (`system_scope: all`).
    System,
    /// One project.
    Project { id: String, name: String },
    /// Neither: a domain or unscoped token, which no rule of Ferric's accepts.
    Unscoped,
}

/// An authenticated user acting within a scope, with the roles it holds there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub user_name: String,
    pub scope: Scope,
    /// Lower-case role names, implied roles included.
    pub roles: Vec<String>,
}

impl Principal {
    /// Whether the principal holds `role` (case-insensitive, as oslo.policy).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }

    /// The project the principal acts in, if project-scoped.
    pub fn project_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn is_system(&self) -> bool {
        self.scope == Scope::System
    }

    /// The credential `key` as oslo.policy names it, rendered the way its generic
    /// checks compare (`None` for an absent value).
    pub(crate) fn credential(&self, key: &str) -> Option<String> {
        let none = || "None".to_string();
        Some(match key {
            "user_id" => self.user_id.clone(),
            "user_name" | "username" => self.user_name.clone(),
            "project_id" | "tenant" => self.project_id().map_or_else(none, str::to_string),
            "project_name" => match &self.scope {
                Scope::Project { name, .. } => name.clone(),
                _ => none(),
            },
            "system_scope" => {
                if self.is_system() {
                    "all".into()
                } else {
                    none()
                }
            }
            _ => return None,
        })
    }
}

/// The caller of an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Policy does not apply: `noauth`, or an htpasswd user with no project or roles
    /// (Ironic lets every such caller do everything). The name is for the records.
    Unrestricted { user: Option<String> },
    /// Policy applies.
    Principal(Principal),
}

impl Caller {
    /// The user's name, for node history and logs.
    pub fn user_name(&self) -> Option<&str> {
        match self {
            Caller::Unrestricted { user } => user.as_deref(),
            Caller::Principal(p) => Some(&p.user_name),
        }
    }

    /// The project the caller acts in, for node history and logs.
    pub fn project_id(&self) -> Option<&str> {
        match self {
            Caller::Unrestricted { .. } => None,
            Caller::Principal(p) => p.project_id(),
        }
    }
}

/// Adds the roles `roles` imply, as Keystone's bootstrap defines them
/// (`admin` ⇒ `manager` ⇒ `member` ⇒ `reader`), lower-cased and without repeats.
pub fn expand_roles<S: AsRef<str>>(roles: &[S]) -> Vec<String> {
    const CHAIN: [&str; 4] = ["admin", "manager", "member", "reader"];
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: &str| {
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    };
    for role in roles {
        let role = role.as_ref().trim().to_ascii_lowercase();
        if role.is_empty() {
            continue;
        }
        match CHAIN.iter().position(|c| *c == role) {
            Some(i) => CHAIN[i..].iter().for_each(|r| push(r)),
            None => push(&role),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_roles_follow_keystones_chain() {
        assert_eq!(
            expand_roles(&["Admin"]),
            ["admin", "manager", "member", "reader"]
        );
        assert_eq!(
            expand_roles(&["member", "service"]),
            ["member", "reader", "service"]
        );
        assert_eq!(expand_roles(&["reader", "reader"]), ["reader"]);
    }
}
