//! How the client proves who it is: nothing, HTTP basic, a fixed token, or a
//! Keystone login (password or application credential) whose token is fetched on
//! first use, sent as `X-Auth-Token`, and fetched again when the API answers 401
//! (it expired or was revoked). A login also yields the service catalog, which
//! names the endpoint when none is given.

use base64::Engine;
use serde_json::{json, Value};

use crate::ClientError;

/// What a Keystone login is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginScope {
    Project {
        name: Option<String>,
        id: Option<String>,
        domain: String,
    },
    System,
    Unscoped,
}

/// The credentials of every request.
#[derive(Clone, Default)]
pub enum Credentials {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    /// A token obtained elsewhere (`OS_TOKEN`).
    Token(String),
    Password {
        auth_url: String,
        username: String,
        password: String,
        user_domain: String,
        scope: LoginScope,
    },
    AppCredential {
        auth_url: String,
        id: Option<String>,
        name: Option<String>,
        username: Option<String>,
        user_domain: String,
        secret: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Credentials::None => "none",
            Credentials::Basic { .. } => "http_basic",
            Credentials::Token(_) => "token",
            Credentials::Password { .. } => "password",
            Credentials::AppCredential { .. } => "v3applicationcredential",
        };
        write!(f, "Credentials({kind})")
    }
}

/// A login's result: the token and the catalog.
#[derive(Clone)]
pub(crate) struct Login {
    pub token: String,
    pub catalog: Value,
}

impl Credentials {
    /// Whether these credentials log in to Keystone (and so can be renewed).
    pub fn logs_in(&self) -> bool {
        matches!(
            self,
            Credentials::Password { .. } | Credentials::AppCredential { .. }
        )
    }

    /// The header a request carries, given the current login.
    pub(crate) fn header(&self, login: Option<&Login>) -> Option<(&'static str, String)> {
        match self {
            Credentials::None => None,
            Credentials::Basic { username, password } => Some((
                "Authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{password}"))
                ),
            )),
            Credentials::Token(t) => Some(("X-Auth-Token", t.clone())),
            _ => login.map(|l| ("X-Auth-Token", l.token.clone())),
        }
    }

    /// The identity service's token URL.
    fn tokens_url(auth_url: &str) -> String {
        let base = auth_url.trim_end_matches('/');
        let base = base.strip_suffix("/v3").unwrap_or(base);
        format!("{base}/v3/auth/tokens")
    }

    /// Logs in to Keystone.
    pub(crate) async fn login(&self, http: &reqwest::Client) -> Result<Login, ClientError> {
        let (auth_url, body) = match self {
            Credentials::Password {
                auth_url,
                username,
                password,
                user_domain,
                scope,
            } => {
                let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {
                    "name": username, "domain": {"name": user_domain}, "password": password}}}});
                match scope {
                    LoginScope::System => auth["scope"] = json!({"system": {"all": true}}),
                    LoginScope::Project { id: Some(id), .. } => {
                        auth["scope"] = json!({"project": {"id": id}})
                    }
                    LoginScope::Project {
                        name: Some(name),
                        domain,
                        ..
                    } => {
                        auth["scope"] =
                            json!({"project": {"name": name, "domain": {"name": domain}}})
                    }
                    LoginScope::Project { .. } | LoginScope::Unscoped => {}
                }
                (auth_url, json!({ "auth": auth }))
            }
            Credentials::AppCredential {
                auth_url,
                id,
                name,
                username,
                user_domain,
                secret,
            } => {
                let mut cred = json!({"secret": secret});
                if let Some(id) = id {
                    cred["id"] = json!(id);
                } else {
                    cred["name"] = json!(name);
                    cred["user"] = json!({"name": username, "domain": {"name": user_domain}});
                }
                (
                    auth_url,
                    json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": cred}}}),
                )
            }
            _ => {
                return Err(ClientError::Decode(
                    "these credentials do not log in".into(),
                ))
            }
        };
        let resp = http
            .post(Self::tokens_url(auth_url))
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let doc: Value = resp.json().await.unwrap_or(Value::Null);
        match (status.as_u16(), token) {
            (201, Some(token)) => Ok(Login {
                token,
                catalog: doc["token"]["catalog"].clone(),
            }),
            _ => Err(ClientError::Api {
                status,
                message: format!(
                    "the identity service at {auth_url} refused the login: {}",
                    doc["error"]["message"]
                        .as_str()
                        .unwrap_or("no reason given")
                ),
            }),
        }
    }
}

/// The `public` URL of the catalog's `service_type` entry (in `region`, if given).
pub(crate) fn endpoint_of(
    catalog: &Value,
    service_type: &str,
    region: Option<&str>,
) -> Option<String> {
    catalog
        .as_array()?
        .iter()
        .filter(|e| e["type"] == service_type)
        .flat_map(|e| e["endpoints"].as_array().into_iter().flatten())
        .filter(|ep| ep["interface"] == "public")
        .filter(|ep| {
            region.is_none_or(|r| ep["region_id"].as_str().or(ep["region"].as_str()) == Some(r))
        })
        .find_map(|ep| {
            ep["url"]
                .as_str()
                .filter(|u| !u.is_empty())
                .map(str::to_string)
        })
}
