//! A small Redfish HTTP client: JSON requests with a timeout, bounded retries of
//! transient failures, basic or session authentication (re-login on 401), errors in
//! words an operator understands, and one HTTP client (a connection pool per BMC)
//! shared by every BMC with the same TLS settings, kept in [`RedfishClients`],
//! which the conductor's drivers own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::settings::{AuthType, RedfishSettings, VerifyCa};
use crate::interfaces::DriverError;

/// Attempts of one request when the BMC fails transiently.
const ATTEMPTS: u32 = 3;

/// Talks to one BMC with one node's credentials.
pub struct RedfishClient {
    http: reqwest::Client,
    settings: RedfishSettings,
    /// The session token, when session authentication is in use.
    token: tokio::sync::Mutex<Option<String>>,
    use_session: OnceLock<bool>,
}

/// The clients of every BMC a conductor has talked to, reused across calls, and
/// the HTTP clients under them.
#[derive(Default)]
pub struct RedfishClients {
    clients: Mutex<HashMap<RedfishSettings, Arc<RedfishClient>>>,
    http: Mutex<HashMap<(VerifyCa, Duration), reqwest::Client>>,
}

impl RedfishClients {
    /// The client for these settings, reused across calls.
    pub(crate) fn client(
        &self,
        settings: &RedfishSettings,
    ) -> Result<Arc<RedfishClient>, DriverError> {
        let mut all = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = all.get(settings) {
            return Ok(c.clone());
        }
        let c = Arc::new(RedfishClient {
            http: self.http_for(settings)?,
            settings: settings.clone(),
            token: tokio::sync::Mutex::new(None),
            use_session: OnceLock::new(),
        });
        all.insert(settings.clone(), c.clone());
        Ok(c)
    }

    /// The HTTP client for a TLS setting and timeout: one for every BMC that shares
    /// them (it keeps a connection pool per BMC). One per BMC would cost a TLS
    /// setup each — hundreds of MiB over thousands of nodes.
    fn http_for(&self, settings: &RedfishSettings) -> Result<reqwest::Client, DriverError> {
        let key = (settings.verify_ca.clone(), settings.timeout);
        let mut all = self.http.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = all.get(&key) {
            return Ok(c.clone());
        }
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(4);
        match &settings.verify_ca {
            VerifyCa::Yes => {}
            VerifyCa::No => builder = builder.danger_accept_invalid_certs(true),
            VerifyCa::Path(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    DriverError::Config(format!("cannot read redfish_verify_ca file {path}: {e}"))
                })?;
                let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                    DriverError::Config(format!(
                        "redfish_verify_ca file {path} is not a PEM certificate: {e}"
                    ))
                })?;
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            DriverError::Config(format!(
                "cannot set up an HTTP client for {}: {e}",
                settings.address
            ))
        })?;
        all.insert(key, http.clone());
        Ok(http)
    }
}

/// The message of a Redfish error body, if it has one.
fn redfish_message(body: &Value) -> Option<String> {
    let err = body.get("error")?;
    err.get("@Message.ExtendedInfo")
        .and_then(|i| i.get(0))
        .and_then(|i| i.get("Message"))
        .or_else(|| err.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl RedfishClient {
    fn bmc(&self) -> &str {
        &self.settings.address
    }

    /// The BMC as messages name it: its address, with the service root when that
    /// is not the usual one (one listener serving many BMCs).
    fn shown(&self) -> String {
        match self.settings.root.as_str() {
            "/redfish/v1" => self.settings.address.clone(),
            root => format!("{}{root}", self.settings.address),
        }
    }

    /// Whether to use a session: configured, or (auto) offered by the service root.
    async fn wants_session(&self) -> Result<bool, DriverError> {
        if let Some(decided) = self.use_session.get() {
            return Ok(*decided);
        }
        let decided = match self.settings.auth_type {
            AuthType::Basic => false,
            AuthType::Session => true,
            AuthType::Auto => {
                let path = format!("{}/", self.settings.root);
                let root = self.send(Method::GET, &path, None, None).await?.1;
                root.get("SessionService").is_some()
                    && root.get("Links").and_then(|l| l.get("Sessions")).is_some()
            }
        };
        let _ = self.use_session.set(decided);
        Ok(decided)
    }

    /// Logs in and returns a session token.
    async fn login(&self) -> Result<String, DriverError> {
        let body = json!({
            "UserName": self.settings.username.clone().unwrap_or_default(),
            "Password": self.settings.password.clone().unwrap_or_default(),
        });
        let url = format!(
            "{}{}/SessionService/Sessions",
            self.bmc(),
            self.settings.root
        );
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if matches!(
            resp.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(self.credentials_error());
        }
        resp.headers()
            .get("X-Auth-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                DriverError::Hardware(format!("BMC at {} gave no session token", self.shown()))
            })
    }

    fn credentials_error(&self) -> DriverError {
        DriverError::Hardware(format!("BMC at {} rejected the credentials", self.shown()))
    }

    fn transport_error(&self, e: &reqwest::Error) -> DriverError {
        if e.is_timeout() {
            DriverError::Hardware(format!(
                "BMC at {} did not answer within {} s",
                self.shown(),
                self.settings.timeout.as_secs()
            ))
        } else {
            DriverError::Hardware(format!("BMC at {} cannot be reached: {e}", self.shown()))
        }
    }

    /// One request, once: `(status, JSON body or null)`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<(StatusCode, Value), DriverError> {
        let mut req = self.http.request(method, format!("{}{path}", self.bmc()));
        match token {
            Some(t) => req = req.header("X-Auth-Token", t),
            None => {
                if let Some(user) = &self.settings.username {
                    req = req.basic_auth(user, self.settings.password.as_deref());
                }
            }
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(&e))?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A request with authentication, bounded retries and readable errors.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DriverError> {
        let session = self.wants_session().await?;
        let mut relogged = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = if session {
                let mut t = self.token.lock().await;
                if t.is_none() {
                    *t = Some(self.login().await?);
                }
                t.clone()
            } else {
                None
            };
            let outcome = self
                .send(method.clone(), path, body, token.as_deref())
                .await;
            match outcome {
                Ok((status, value)) if status.is_success() => return Ok(value),
                Ok((StatusCode::UNAUTHORIZED, _)) if session && !relogged => {
                    // The session expired: log in again once.
                    *self.token.lock().await = None;
                    relogged = true;
                }
                Ok((StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _)) => {
                    return Err(self.credentials_error())
                }
                Ok((status, value))
                    if status.is_server_error()
                        && attempt < ATTEMPTS
                        && status != StatusCode::NOT_IMPLEMENTED =>
                {
                    tracing::debug!(bmc = %self.shown(), %status, ?value, "BMC error, retrying");
                    crate::worker_slot::pause(Duration::from_millis(500 * u64::from(attempt)))
                        .await;
                }
                Ok((status, value)) => {
                    let detail = redfish_message(&value).unwrap_or_else(|| status.to_string());
                    return Err(DriverError::Hardware(format!(
                        "BMC at {} refused {method} {path}: {detail}",
                        self.shown()
                    )));
                }
                Err(e) if attempt < ATTEMPTS => {
                    tracing::debug!(bmc = %self.shown(), error = %e, "BMC unreachable, retrying");
                    crate::worker_slot::pause(Duration::from_millis(500 * u64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, DriverError> {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, DriverError> {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, DriverError> {
        self.request(Method::PATCH, path, Some(body)).await
    }

    /// The path of the node's ComputerSystem: the configured id, or the BMC's only system.
    pub async fn system_path(&self) -> Result<String, DriverError> {
        if let Some(id) = &self.settings.system_id {
            return Ok(if id.starts_with('/') {
                id.clone()
            } else {
                format!("{}/Systems/{id}", self.settings.root)
            });
        }
        let systems = self.get(&format!("{}/Systems", self.settings.root)).await?;
        let members = odata_ids(&systems, "/Members");
        match members.as_slice() {
            [one] => Ok(one.to_string()),
            _ => Err(DriverError::Config(format!(
                "BMC at {} has {} systems; set driver_info redfish_system_id",
                self.shown(),
                members.len()
            ))),
        }
    }
}

/// The `@odata.id` links of the list at `pointer` in a Redfish resource
/// (`/Members`, `/Links/ManagedBy`…); none when it is missing.
pub(super) fn odata_ids(resource: &Value, pointer: &str) -> Vec<String> {
    resource
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.get("@odata.id").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}
