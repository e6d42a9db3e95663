//! Authentication in front of every API Ferric serves (the Ironic API, the network
//! API). `noauth` lets every request in, as Ironic's does. `http_basic` checks the
//! `Authorization: Basic` header against an Apache htpasswd file (bcrypt hashes
//! only), with Ironic's exact 400/401/500 answers and `WWW-Authenticate` header;
//! the file is read again when it changes and bcrypt results are memoised, so a
//! request does not cost a bcrypt each time. Every valid user is an administrator
//! (Ironic's behaviour, which Metal3 relies on).
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
use serde_json::json;
use sha2::{Digest, Sha256};

/// How requests are authenticated.
#[derive(Debug, Clone, Default)]
pub enum AuthStrategy {
    /// Nobody is asked who they are.
    #[default]
    NoAuth,
    /// Users and bcrypt hashes from an htpasswd file.
    HttpBasic(Arc<UserFile>),
}

/// What `WWW-Authenticate` tells a client that must log in.
const REALM: &str = "Basic realm=\"Baremetal API\"";
/// How many verified (user, hash, password) results are remembered.
const MEMO_SIZE: usize = 256;

/// An htpasswd file (`user:$2y$…` lines), read again whenever it changes.
#[derive(Debug)]
pub struct UserFile {
    path: PathBuf,
    loaded: Mutex<Loaded>,
    /// Digest of user, hash and password → whether they matched.
    memo: Mutex<HashMap<[u8; 32], bool>>,
}

#[derive(Debug, Default)]
struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    users: Arc<HashMap<String, String>>,
}

impl UserFile {
    /// Reads the file now: a missing file or a hash that is not bcrypt is refused,
    /// so ferricd does not start with it.
    pub fn open(path: &Path) -> Result<UserFile, String> {
        let file = UserFile {
            path: path.to_path_buf(),
            loaded: Mutex::default(),
            memo: Mutex::default(),
        };
        file.users()?;
        Ok(file)
    }

    /// The users and their hashes, read again if the file changed.
    fn users(&self) -> Result<Arc<HashMap<String, String>>, String> {
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

    /// Whether `password` is `user`'s.
    async fn check(&self, user: &str, password: &str) -> Result<bool, String> {
        let users = self.users()?;
        let Some(hash) = users.get(user).cloned() else {
            return Ok(false);
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(user)
            .chain_update([0])
            .chain_update(&hash)
            .chain_update([0])
            .chain_update(password)
            .finalize()
            .into();
        if let Some(known) = self
            .memo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(*known);
        }
        let password = password.to_string();
        let ok =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if memo.len() >= MEMO_SIZE {
            memo.clear();
        }
        memo.insert(key, ok);
        Ok(ok)
    }
}

/// An htpasswd file's users: the first line of a user counts; bcrypt hashes only.
fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let mut users = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((user, hash)) = line.split_once(':') else {
            return Err(format!("line {} is not user:hash", n + 1));
        };
        if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
            return Err(format!(
                "the hash of user {user:?} (line {}) is not bcrypt ($2y$, $2a$ or $2b$)",
                n + 1
            ));
        }
        users
            .entry(user.to_string())
            .or_insert_with(|| hash.to_string());
    }
    Ok(users)
}

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
    path.starts_with("/boot/") || path.starts_with("/images/")
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

/// The middleware: lets the request through or answers it.
pub async fn authenticate(
    State(strategy): State<AuthStrategy>,
    mut request: Request,
    next: Next,
) -> Response {
    let AuthStrategy::HttpBasic(file) = &strategy else {
        return next.run(request).await;
    };
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
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
        Ok(true) => next.run(request).await,
        Ok(false) => answer(StatusCode::UNAUTHORIZED, "Incorrect username or password"),
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
        assert_eq!(users["a"], "$2y$05$x");
        assert_eq!(users.len(), 2);
        let e = parse("a:$apr1$salt$hash").unwrap_err();
        assert!(e.contains("not bcrypt"), "{e}");
        assert!(parse("nocolon").is_err());
    }
}
