//! A client of an external Keystone (or of another Ferric's built-in identity
//! service), validating tokens as keystonemiddleware does: Ferric's own service
//! credentials get a token, `GET /v3/auth/tokens` with `X-Subject-Token` asks who a
//! client's token belongs to, answers are cached until they expire (at most
//! `token_cache_time`), a 404 is an invalid token, and an unreachable or failing
//! Keystone is "unavailable" (503), never "invalid".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferric_authz::{expand_roles, Principal, Scope, TokenCheck, TokenError, TokenValidator};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// keystonemiddleware's `[keystone_authtoken]` options Ferric reads.
#[derive(Clone, Default)]
pub struct AuthTokenConfig {
    pub auth_url: String,
    pub www_authenticate_uri: Option<String>,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub user_domain_name: String,
    pub project_domain_name: String,
    /// How long a validated token is believed (seconds; keystonemiddleware's 300).
    pub token_cache_time: u64,
}

impl std::fmt::Debug for AuthTokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTokenConfig")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("project_name", &self.project_name)
            .finish_non_exhaustive()
    }
}

const CACHE_SIZE: usize = 10_000;

pub struct RemoteKeystone {
    config: AuthTokenConfig,
    /// `…/v3`, without a trailing slash.
    v3: String,
    http: reqwest::Client,
    service_token: tokio::sync::Mutex<Option<String>>,
    cache: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
}

/// Why a call to Keystone did not give an answer.
enum Failure {
    /// Keystone refused Ferric's own token: get a new one.
    ServiceTokenRefused,
    Unavailable(String),
}

impl RemoteKeystone {
    pub fn new(config: AuthTokenConfig) -> Result<RemoteKeystone, String> {
        let base = config.auth_url.trim_end_matches('/');
        let base = base.strip_suffix("/v3").unwrap_or(base);
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "keystone_authtoken.auth_url {:?} is not an http(s) URL",
                config.auth_url
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(RemoteKeystone {
            v3: format!("{base}/v3"),
            config,
            http,
            service_token: tokio::sync::Mutex::default(),
            cache: Mutex::default(),
        })
    }

    /// Where clients are told to get a token.
    pub fn www_authenticate_uri(&self) -> String {
        self.config
            .www_authenticate_uri
            .clone()
            .unwrap_or_else(|| self.v3.clone())
    }

    /// Ferric's own token, asked for with its service credentials.
    async fn login(&self) -> Result<String, TokenError> {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.config.username,
                "domain": {"name": self.config.user_domain_name},
                "password": self.config.password,
            }}},
            "scope": {"project": {
                "name": self.config.project_name,
                "domain": {"name": self.config.project_domain_name},
            }},
        }});
        let resp = self
            .http
            .post(format!("{}/auth/tokens?nocatalog", self.v3))
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                TokenError::Unavailable(format!("Keystone at {}: {}", self.v3, e.without_url()))
            })?;
        if resp.status() != reqwest::StatusCode::CREATED {
            return Err(TokenError::Unavailable(format!(
                "Keystone at {} refused Ferric's service credentials: HTTP {}",
                self.v3,
                resp.status().as_u16()
            )));
        }
        resp.headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| TokenError::Unavailable("Keystone issued no token".into()))
    }

    /// One validation call with `service` as Ferric's token.
    async fn ask(&self, service: &str, token: &str) -> Result<Result<Value, TokenError>, Failure> {
        let resp = self
            .http
            .get(format!("{}/auth/tokens?nocatalog", self.v3))
            .header("x-auth-token", service)
            .header("x-subject-token", token)
            .header("openstack-identity-access-rules", "1")
            .send()
            .await
            .map_err(|e| {
                Failure::Unavailable(format!("Keystone at {}: {}", self.v3, e.without_url()))
            })?;
        match resp.status().as_u16() {
            200 => resp.json::<Value>().await.map(Ok).map_err(|e| {
                Failure::Unavailable(format!("Keystone's answer: {}", e.without_url()))
            }),
            404 => Ok(Err(TokenError::Invalid)),
            401 => Err(Failure::ServiceTokenRefused),
            other => Err(Failure::Unavailable(format!(
                "Keystone at {} answered HTTP {other}",
                self.v3
            ))),
        }
    }

    async fn fetch(&self, token: &str) -> Result<Value, TokenError> {
        for attempt in 0..2 {
            let service = {
                let mut held = self.service_token.lock().await;
                if held.is_none() {
                    *held = Some(self.login().await?);
                }
                held.clone().unwrap_or_default()
            };
            match self.ask(&service, token).await {
                Ok(answer) => return answer,
                Err(Failure::ServiceTokenRefused) if attempt == 0 => {
                    *self.service_token.lock().await = None;
                }
                Err(Failure::ServiceTokenRefused) => {
                    return Err(TokenError::Unavailable(
                        "Keystone refused Ferric's own token twice".into(),
                    ))
                }
                Err(Failure::Unavailable(why)) => return Err(TokenError::Unavailable(why)),
            }
        }
        unreachable!("the loop returns")
    }
}

/// The principal of a Keystone token body, and how long it stays valid.
pub fn principal_of(body: &Value) -> Option<(Principal, Option<Duration>)> {
    let t = body.get("token")?;
    let user = t.get("user")?;
    let scope = if let Some(p) = t.get("project") {
        Scope::Project {
            id: p.get("id")?.as_str()?.to_string(),
            name: p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }
    } else if t.get("system").and_then(|s| s.get("all")) == Some(&Value::Bool(true)) {
        Scope::System
    } else {
        Scope::Unscoped
    };
    let roles: Vec<&str> = t
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(|r| r.get("name")?.as_str()).collect())
        .unwrap_or_default();
    let left = t
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(|e| {
            let normal = e.trim_end_matches('Z');
            let (whole, frac) = normal.split_once('.').unwrap_or((normal, ""));
            ferric_types::Timestamp::try_from(format!("{whole}.{frac:0<6}+00:00")).ok()
        })
        .map(|e| {
            let micros = e.micros() - ferric_types::Timestamp::now().micros();
            Duration::from_micros(micros.max(0) as u64)
        });
    Some((
        Principal {
            user_id: user.get("id")?.as_str()?.to_string(),
            user_name: user
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            scope,
            roles: expand_roles(&roles),
        },
        left,
    ))
}

impl TokenValidator for RemoteKeystone {
    fn validate<'a>(&'a self, token: &'a str) -> TokenCheck<'a> {
        Box::pin(async move {
            let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            if let Some((p, until)) = self
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
            {
                if Instant::now() < *until {
                    return Ok(p.clone());
                }
            }
            let body = self.fetch(token).await?;
            let (principal, left) = principal_of(&body).ok_or(TokenError::Invalid)?;
            let keep = Duration::from_secs(self.config.token_cache_time);
            let keep = left.map_or(keep, |l| l.min(keep));
            if keep.is_zero() {
                return Err(TokenError::Invalid);
            }
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_SIZE {
                let now = Instant::now();
                cache.retain(|_, (_, until)| *until > now);
                if cache.len() >= CACHE_SIZE {
                    cache.clear();
                }
            }
            cache.insert(key, (principal.clone(), Instant::now() + keep));
            Ok(principal)
        })
    }
}
