//! A typed async client of the Ironic-compatible API v1, for the CLI, the agent, the
//! benchmarks and tests. It speaks the newest microversion Ferric serves, turns
//! Ironic error bodies back into their `faultstring`, and authenticates as
//! [`Credentials`] say (HTTP basic, a token, or a Keystone login).

mod auth;

pub use auth::{Credentials, LoginScope};

use std::sync::Arc;

use ferric_types::{Microversion, Node, Port};
pub use reqwest::Method;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("{status}: {message}")]
    Api { status: StatusCode, message: String },
    /// The request did not complete (connection refused, timeout…).
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not what the API promises.
    #[error("unexpected response: {0}")]
    Decode(String),
}

/// A connection to one API endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    version: String,
    credentials: Arc<Credentials>,
    /// The current Keystone login, shared by clones (one login for all calls).
    login: Arc<tokio::sync::Mutex<Option<auth::Login>>>,
}

impl Client {
    /// A client of the API at `base` (`http://127.0.0.1:6385`) without credentials.
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Self::with_credentials(Some(base), Credentials::None)
    }

    /// A client authenticating with `credentials` at `base` (see [`Client::connect`]
    /// to find the endpoint in the catalog instead).
    pub fn with_credentials(
        base: Option<&str>,
        credentials: Credentials,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            base: base.unwrap_or_default().trim_end_matches('/').to_string(),
            version: Microversion::MAX.to_string(),
            credentials: Arc::new(credentials),
            login: Arc::default(),
        })
    }

    /// A client authenticating with `credentials`, at `base` or else at the
    /// catalog's `baremetal` endpoint (logging in to find it).
    pub async fn connect(
        base: Option<&str>,
        credentials: Credentials,
        region: Option<&str>,
        tls: (Option<&std::path::Path>, bool),
    ) -> Result<Self, ClientError> {
        let mut client = Self::with_credentials(base, credentials)?.with_tls(tls.0, tls.1)?;
        if base.is_none() {
            if !client.credentials.logs_in() {
                return Err(ClientError::Decode(
                    "no endpoint: give one, or credentials that log in to an identity service"
                        .into(),
                ));
            }
            let login = client.credentials.login(&client.http).await?;
            let url = auth::endpoint_of(&login.catalog, "baremetal", region).ok_or_else(|| {
                ClientError::Decode("the service catalog has no public baremetal endpoint".into())
            })?;
            client.base = url.trim_end_matches('/').to_string();
            *client.login.lock().await = Some(login);
        }
        Ok(client)
    }

    /// The same client verifying servers with the CA certificates of `ca_bundle`
    /// (PEM) besides the usual roots, or (`insecure`) not verifying them at all.
    pub fn with_tls(
        mut self,
        ca_bundle: Option<&std::path::Path>,
        insecure: bool,
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .danger_accept_invalid_certs(insecure);
        if let Some(path) = ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                ClientError::Decode(format!("cannot read the CA bundle {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::Decode(format!("the CA bundle {}: {e}", path.display()))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        self.http = builder.build()?;
        Ok(self)
    }

    /// The same client (credentials and login shared) at another endpoint, such as
    /// the network API.
    pub fn at(&self, base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            ..self.clone()
        }
    }

    /// The catalog's public endpoint of `service_type`, when logged in.
    pub async fn catalog_endpoint(&self, service_type: &str) -> Option<String> {
        let login = self.login.lock().await;
        auth::endpoint_of(&login.as_ref()?.catalog, service_type, None)
    }

    /// The credentials' header, logging in first when needed (or `fresh`).
    async fn auth_header(
        &self,
        fresh: bool,
    ) -> Result<Option<(&'static str, String)>, ClientError> {
        if !self.credentials.logs_in() {
            return Ok(self.credentials.header(None));
        }
        let mut login = self.login.lock().await;
        if fresh || login.is_none() {
            *login = Some(self.credentials.login(&self.http).await?);
        }
        Ok(self.credentials.header(login.as_ref()))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ClientError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let (mut fresh, mut resent) = (false, false);
        let resp = loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("X-OpenStack-Ironic-API-Version", &self.version);
            if let Some((name, value)) = self.auth_header(fresh).await? {
                req = req.header(name, value);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                // A kept-alive connection the server closed just as the request
                // went out: a read may go again, once.
                Err(e) if method == Method::GET && !resent && !e.is_timeout() => {
                    resent = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            // An expired or revoked token: log in again, once.
            if resp.status() == StatusCode::UNAUTHORIZED && self.credentials.logs_in() && !fresh {
                fresh = true;
                continue;
            }
            break resp;
        };
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            return Err(ClientError::Api {
                status,
                message: fault_message(&bytes),
            });
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Any call: `path` under the endpoint (`/v1/…`) or a full URL; the answer's
    /// JSON (null when empty).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        self.call(method, path, body).await
    }

    /// `POST /v1/nodes` with the given document.
    pub async fn node_create(&self, doc: &Value) -> Result<Node, ClientError> {
        self.call(Method::POST, "/v1/nodes", Some(doc)).await
    }

    /// `GET /v1/nodes/{ident}` (UUID or name).
    pub async fn node_get(&self, ident: &str) -> Result<Node, ClientError> {
        self.call(Method::GET, &format!("/v1/nodes/{ident}"), None)
            .await
    }

    /// `DELETE /v1/nodes/{ident}`.
    pub async fn node_delete(&self, ident: &str) -> Result<(), ClientError> {
        self.call::<Value>(Method::DELETE, &format!("/v1/nodes/{ident}"), None)
            .await
            .map(|_| ())
    }

    /// Every node in full, following `next` links page by page.
    pub async fn node_list_detail(&self) -> Result<Vec<Node>, ClientError> {
        let mut nodes = Vec::new();
        let mut url = "/v1/nodes/detail".to_string();
        loop {
            let mut page: Value = self.call(Method::GET, &url, None).await?;
            let items = page["nodes"].take();
            let batch: Vec<Node> =
                serde_json::from_value(items).map_err(|e| ClientError::Decode(e.to_string()))?;
            nodes.extend(batch);
            match page["next"].as_str() {
                Some(next) => url = next.to_string(),
                None => return Ok(nodes),
            }
        }
    }

    /// `PUT /v1/nodes/{ident}/states/provision` with `{"target": verb}`.
    pub async fn node_set_provision_state(
        &self,
        ident: &str,
        verb: &str,
    ) -> Result<(), ClientError> {
        let body = serde_json::json!({ "target": verb });
        self.call::<Value>(
            Method::PUT,
            &format!("/v1/nodes/{ident}/states/provision"),
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// `POST /v1/ports` with the given document.
    pub async fn port_create(&self, doc: &Value) -> Result<Port, ClientError> {
        self.call(Method::POST, "/v1/ports", Some(doc)).await
    }
}

/// The `faultstring` of an Ironic error body, or the body itself.
fn fault_message(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).to_string();
    let Ok(outer) = serde_json::from_slice::<Value>(bytes) else {
        return text;
    };
    let Some(inner) = outer["error_message"].as_str() else {
        return text;
    };
    match serde_json::from_str::<Value>(inner) {
        Ok(fault) => fault["faultstring"]
            .as_str()
            .or(fault["description"].as_str())
            .unwrap_or(inner)
            .to_string(),
        Err(_) => inner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_ironic_faults() {
        let body = br#"{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node x could not be found.\", \"debuginfo\": null}"}"#;
        assert_eq!(super::fault_message(body), "Node x could not be found.");
        assert_eq!(super::fault_message(b"plain"), "plain");
    }
}
