//! A typed async client of the Ironic-compatible API v1, for the CLI, the agent, the
//! benchmarks and tests. It speaks the newest microversion Ferric serves and turns
//! Ironic error bodies back into their `faultstring`.

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
}

impl Client {
    /// A client of the API at `base` (`http://127.0.0.1:6385`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            version: Microversion::MAX.to_string(),
        })
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
        let mut req = self
            .http
            .request(method, url)
            .header("X-OpenStack-Ironic-API-Version", &self.version);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
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
