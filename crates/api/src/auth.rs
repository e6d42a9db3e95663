//! Authentication in front of every API Ferric serves (the Ironic API, the network
//! API). `noauth` lets every request in, as Ironic's does. `http_basic` checks the
//! `Authorization: Basic` header against an Apache htpasswd file (bcrypt hashes
//! only), with Ironic's exact 400/401/500 answers and `WWW-Authenticate` header;
//! the file is read again when it changes and bcrypt results are memoised, so a
//! request does not cost a bcrypt each time. A plain `user:hash` line is an
//! administrator whom policy does not restrict (Ironic's behaviour, which Metal3
//! relies on); beyond Ironic, a line may go on with a scope and roles
//! (`alice:$2y$…:project=acme:roles=member` or `ops:$2y$…:system=all:roles=reader`),
//! and that user is then held to the policy like a Keystone user.
//!
//! Every request leaves this layer with a [`Caller`] in its extensions, and without
//! the identity headers (`X-Roles`, `X-Project-Id`, …) a client may have sent: who
//! is asking is decided here, never by what the client claims.
//!
//! Public routes skip authentication, as Ironic's: version discovery (`/`, `/v1`),
//! the agent's `/v1/lookup`, `/v1/heartbeat/{node}` and `/v1/continue_inspection`
//! (protected by the agent token), and what firmware and ramdisks fetch (`/boot/…`,
//! `/images/…`) and `/metrics`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use ferric_authz::{
    expand_roles, Caller, PasswordMemo, Principal, Scope, TokenError, TokenValidator,
};
use serde_json::json;

/// How requests are authenticated.
#[derive(Debug, Clone, Default)]
pub enum AuthStrategy {
    /// Nobody is asked who they are.
    #[default]
    NoAuth,
    /// Users and bcrypt hashes from an htpasswd file.
    HttpBasic(Arc<UserFile>),
    /// Keystone tokens (`X-Auth-Token`), validated by the built-in identity service
    /// or an external Keystone.
    Keystone(Arc<KeystoneAuth>),
}

/// The `keystone` strategy: who validates tokens, and where clients get one.
pub struct KeystoneAuth {
    pub validator: Arc<dyn TokenValidator>,
    /// Told to clients in `WWW-Authenticate: Keystone uri="…"`.
    pub www_authenticate_uri: String,
}

impl std::fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field("www_authenticate_uri", &self.www_authenticate_uri)
            .finish_non_exhaustive()
    }
}

/// Tokens longer than this are refused unread (Keystone's are a few hundred bytes).
const MAX_TOKEN_BYTES: usize = 8192;

/// What `WWW-Authenticate` tells a client that must log in.
const REALM: &str = "Basic realm=\"Baremetal API\"";

/// An htpasswd file (`user:$2y$…` lines), read again whenever it changes.
#[derive(Debug)]
pub struct UserFile {
    path: PathBuf,
    loaded: Mutex<Loaded>,
    /// bcrypt results already known.
    memo: PasswordMemo,
}

#[derive(Debug, Default)]
struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    users: Arc<HashMap<String, UserEntry>>,
}

/// One user of the file.
#[derive(Clone, PartialEq, Eq)]
struct UserEntry {
    hash: String,
    /// The scope and roles the line gives, if any; none = unrestricted.
    grant: Option<(Scope, Vec<String>)>,
}

/// Without the hash: nothing that prints the settings prints a password hash.
impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

impl UserEntry {
    fn caller(&self, user: &str) -> Caller {
        match &self.grant {
            None => Caller::Unrestricted {
                user: Some(user.to_string()),
            },
            Some((scope, roles)) => Caller::Principal(Principal {
                user_id: user.to_string(),
                user_name: user.to_string(),
                scope: scope.clone(),
                roles: roles.clone(),
            }),
        }
    }
}

impl UserFile {
    /// Reads the file now: a missing file or a hash that is not bcrypt is refused,
    /// so ferricd does not start with it.
    pub fn open(path: &Path) -> Result<UserFile, String> {
        let file = UserFile {
            path: path.to_path_buf(),
            loaded: Mutex::default(),
            memo: PasswordMemo::default(),
        };
        file.users()?;
        Ok(file)
    }

    /// The users and their hashes, read again if the file changed.
    fn users(&self) -> Result<Arc<HashMap<String, UserEntry>>, String> {
        let shown = self.path.display();
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| format!("cannot read the auth user file {shown}: {e}"))?;
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.stamp != Some(stamp) {
            let text = std::fs::read_to_string(&self.path)
                .map_err(|e| format!("cannot read the auth user file {shown}: {e}"))?;
            loaded.users = Arc::new(parse(&text).map_err(|e| format!("{shown}: {e}"))?);
            loaded.stamp = Some(stamp);
        }
        Ok(loaded.users.clone())
    }

    /// What the file grants `user`: the project's name (none for a system or
    /// unrestricted user) and the roles (none for an unrestricted user). Nothing
    /// for a user the file does not have, or a file that cannot be read.
    pub fn grant_of(&self, user: &str) -> (Option<String>, Vec<String>) {
        let users = self.users().unwrap_or_default();
        match users.get(user).and_then(|entry| entry.grant.as_ref()) {
            Some((Scope::Project { name, .. }, roles)) => (Some(name.clone()), roles.clone()),
            Some((_, roles)) => (None, roles.clone()),
            None => (None, Vec::new()),
        }
    }

    /// Who `user` is, if `password` is theirs.
    async fn check(&self, user: &str, password: &str) -> Result<Option<Caller>, String> {
        let users = self.users()?;
        let Some(entry) = users.get(user).cloned() else {
            return Ok(None);
        };
        let caller = entry.caller(user);
        let hash = entry.hash;
        let ok = self.memo.verify(user, &hash, password).await;
        Ok(ok.then_some(caller))
    }
}

/// An htpasswd file's users: the first line of a user counts; bcrypt hashes only;
/// optional `project=…`/`system=all` and `roles=…` fields after the hash.
fn parse(text: &str) -> Result<HashMap<String, UserEntry>, String> {
    let mut users = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split(':');
        let user = fields.next().unwrap_or_default();
        let Some(hash) = fields.next() else {
            return Err(format!("line {} is not user:hash", n + 1));
        };
        if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
            return Err(format!(
                "the hash of user {user:?} (line {}) is not bcrypt ($2y$, $2a$ or $2b$)",
                n + 1
            ));
        }
        let grant = grant(fields).map_err(|e| format!("line {} (user {user:?}): {e}", n + 1))?;
        users.entry(user.to_string()).or_insert_with(|| UserEntry {
            hash: hash.to_string(),
            grant,
        });
    }
    Ok(users)
}

/// The scope and roles of a line's extra fields, if it has any.
fn grant<'a>(
    fields: impl Iterator<Item = &'a str>,
) -> Result<Option<(Scope, Vec<String>)>, String> {
    let mut scope = None;
    let mut roles = None;
    let mut any = false;
    for field in fields {
        any = true;
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("{field:?} is not project=…, system=all or roles=…"))?;
        let previous = match key {
            "project" if !value.is_empty() => scope.replace(Scope::Project {
                id: value.to_string(),
                name: value.to_string(),
            }),
            "system" if value == "all" => scope.replace(Scope::System),
            "roles" => {
                let list: Vec<&str> = value.split(',').filter(|r| !r.trim().is_empty()).collect();
                if list.is_empty() {
                    return Err("roles= names no role".into());
                }
                roles.replace(expand_roles(&list)).map(|_| Scope::Unscoped)
            }
            _ => return Err(format!("{field:?} is not project=…, system=all or roles=…")),
        };
        if previous.is_some() {
            return Err(format!(
                "{key} is given twice, or with project and system both"
            ));
        }
    }
    match (scope, roles) {
        (Some(scope), Some(roles)) => Ok(Some((scope, roles))),
        _ if !any => Ok(None),
        _ => Err("a scoped user needs a scope (project=… or system=all) and roles=…".into()),
    }
}

/// Headers that carry identity between OpenStack services. A client must not be
/// able to claim an identity with them, so they are removed from every request.
const IDENTITY_HEADERS: &[&str] = &[
    "x-identity-status",
    "x-service-identity-status",
    "x-is-admin-project",
    "x-service-catalog",
    "x-roles",
    "x-role",
    "x-service-roles",
    "x-domain-id",
    "x-domain-name",
    "x-project-id",
    "x-project-name",
    "x-project-domain-id",
    "x-project-domain-name",
    "x-user-id",
    "x-user-name",
    "x-user-domain-id",
    "x-user-domain-name",
    "x-service-domain-id",
    "x-service-domain-name",
    "x-service-project-id",
    "x-service-project-name",
    "x-service-project-domain-id",
    "x-service-project-domain-name",
    "x-service-user-id",
    "x-service-user-name",
    "x-service-user-domain-id",
    "x-service-user-domain-name",
    "x-user",
    "x-tenant-id",
    "x-tenant-name",
    "x-tenant",
    "openstack-system-scope",
];

/// Whether `path` is served without authentication (Ironic's public routes and what
/// firmware and ramdisks fetch).
fn is_public(path: &str) -> bool {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let path = path
        .strip_suffix(".json")
        .or_else(|| path.strip_suffix(".xml"))
        .unwrap_or(path);
    if matches!(
        path,
        "/" | "/v1" | "/v1/lookup" | "/v1/continue_inspection" | "/metrics"
    ) {
        return true;
    }
    if let Some(node) = path.strip_prefix("/v1/heartbeat/") {
        return !node.is_empty()
            && node
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    }
    // The built-in identity service checks its own callers.
    path == "/identity"
        || path.starts_with("/identity/")
        || path.starts_with("/boot/")
        || path.starts_with("/images/")
}

/// An answer of the authentication layer: Ironic's body, not its API envelope.
fn answer(status: StatusCode, message: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({"error": {"message": message, "code": status.as_u16()}})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    }
    resp
}

/// `WWW-Authenticate: Keystone uri="…"`, on every 401 of the keystone strategy.
fn keystone_challenge(resp: &mut Response, uri: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("Keystone uri=\"{uri}\"")) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
}

/// keystonemiddleware's answers: 401 with where to get a token, or 503.
fn keystone_answer(status: StatusCode, uri: &str) -> Response {
    let (title, message) = if status == StatusCode::UNAUTHORIZED {
        (
            "Unauthorized",
            "The request you have made requires authentication.",
        )
    } else {
        (
            "Service Unavailable",
            "The Keystone service is temporarily unavailable.",
        )
    };
    let mut resp = (
        status,
        Json(json!({"error": {"code": status.as_u16(), "title": title, "message": message}})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        keystone_challenge(&mut resp, uri);
    }
    resp
}

/// The `keystone` strategy: the caller is whoever the token says.
async fn by_token(keystone: &KeystoneAuth, mut request: Request, next: Next) -> Response {
    let token = ["x-auth-token", "x-storage-token"]
        .iter()
        .find_map(|h| request.headers_mut().remove(*h))
        .and_then(|v| v.to_str().ok().map(|t| t.trim().to_string()))
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES);
    let Some(token) = token else {
        return keystone_answer(StatusCode::UNAUTHORIZED, &keystone.www_authenticate_uri);
    };
    match keystone.validator.validate(&token).await {
        Ok(principal) => {
            request
                .extensions_mut()
                .insert(Caller::Principal(principal));
            let mut resp = next.run(request).await;
            if resp.status() == StatusCode::UNAUTHORIZED {
                keystone_challenge(&mut resp, &keystone.www_authenticate_uri);
            }
            resp
        }
        Err(TokenError::Invalid) => {
            keystone_answer(StatusCode::UNAUTHORIZED, &keystone.www_authenticate_uri)
        }
        Err(TokenError::Unavailable(why)) => {
            tracing::warn!(error = %why, "the identity service cannot validate tokens");
            keystone_answer(StatusCode::SERVICE_UNAVAILABLE, "")
        }
    }
}

/// The middleware: lets the request through or answers it.
pub async fn authenticate(
    State(strategy): State<AuthStrategy>,
    mut request: Request,
    next: Next,
) -> Response {
    for name in IDENTITY_HEADERS {
        request.headers_mut().remove(*name);
    }
    if matches!(strategy, AuthStrategy::NoAuth) || is_public(request.uri().path()) {
        request
            .extensions_mut()
            .insert(Caller::Unrestricted { user: None });
        return next.run(request).await;
    }
    let file = match &strategy {
        AuthStrategy::HttpBasic(file) => file,
        AuthStrategy::Keystone(keystone) => return by_token(keystone, request, next).await,
        AuthStrategy::NoAuth => unreachable!("answered above"),
    };
    let Some(value) = request.headers_mut().remove(header::AUTHORIZATION) else {
        return answer(StatusCode::UNAUTHORIZED, "Authorization required");
    };
    let Some((scheme, token)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "Could not parse Authorization header",
        );
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return answer(
            StatusCode::BAD_REQUEST,
            &format!("Unsupported authorization type \"{scheme}\""),
        );
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "Could not decode authorization token",
        );
    };
    match file.check(user, password).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => answer(StatusCode::UNAUTHORIZED, "Incorrect username or password"),
        Err(e) => {
            tracing::error!(error = %e, "http_basic: the user file cannot be used");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Invalid configuration file. Problem reading auth user file",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_routes_are_ironics_and_the_boot_files() {
        for p in [
            "/",
            "/v1",
            "/v1/",
            "/v1.json",
            "/v1/lookup",
            "/v1/heartbeat/1be26c0b-aa",
            "/v1/continue_inspection",
            "/boot/x.ipxe",
            "/images/abc",
            "/metrics",
        ] {
            assert!(is_public(p), "{p}");
        }
        for p in [
            "/v1/nodes",
            "/v1/heartbeat/Node_1",
            "/v1/heartbeat/",
            "/v1/lookupx",
            "/nodes",
        ] {
            assert!(!is_public(p), "{p}");
        }
    }

    #[test]
    fn only_bcrypt_hashes_are_accepted_and_the_first_line_wins() {
        let users = parse("a:$2y$05$x\nb:$2b$05$y\na:$2a$05$z\n\n").unwrap();
        assert_eq!(users["a"].hash, "$2y$05$x");
        assert_eq!(users["a"].grant, None);
        assert_eq!(users.len(), 2);
        let e = parse("a:$apr1$salt$hash").unwrap_err();
        assert!(e.contains("not bcrypt"), "{e}");
        assert!(parse("nocolon").is_err());
    }

    #[test]
    fn lines_may_give_a_scope_and_roles() {
        let users = parse(
            "alice:$2y$05$x:project=acme:roles=member\nops:$2b$05$y:roles=Reader,service:system=all\n",
        )
        .unwrap();
        let project = Scope::Project {
            id: "acme".into(),
            name: "acme".into(),
        };
        assert_eq!(
            users["alice"].grant,
            Some((project, vec!["member".to_string(), "reader".to_string()]))
        );
        assert_eq!(
            users["ops"].grant,
            Some((
                Scope::System,
                vec!["reader".to_string(), "service".to_string()]
            ))
        );
        for bad in [
            "a:$2y$05$x:project=acme",
            "a:$2y$05$x:roles=admin",
            "a:$2y$05$x:project=p:system=all:roles=admin",
            "a:$2y$05$x:project=p:roles=",
            "a:$2y$05$x:system=some:roles=admin",
            "a:$2y$05$x:domain=d:roles=admin",
            "a:$2y$05$x:admin",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("line 1 (user \"a\")"), "{bad}: {e}");
        }
    }
}
