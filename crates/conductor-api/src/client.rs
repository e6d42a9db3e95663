//! Calls to a conductor in another process: JSON-RPC 2.0 over HTTP(S) — `POST` to
//! the conductor's RPC address with `{"jsonrpc": "2.0", "method", "params", "id"}`,
//! the shared secret as a bearer token. A refused connection is `Unreachable` (the
//! call never arrived, so the router may try the next owner); a call that timed out
//! may have run, so it is not.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{CallError, ErrorKind};

/// How long a call may take (Ironic's JSON-RPC client waits 120 s).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting may take before the conductor counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client every remote conductor shares: a CA to trust for `https`
/// addresses, when the RPC listeners' certificates are not publicly signed.
pub fn http_client(ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(30));
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("RPC CA file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("RPC CA file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "RPC CA file {}: no certificate in it",
                path.display()
            ));
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// A conductor reached over JSON-RPC.
pub struct RemoteConductor {
    host: String,
    url: String,
    secret: String,
    http: reqwest::Client,
    next_id: AtomicU64,
}

/// A call's argument as JSON.
pub(crate) fn param<T: Serialize>(value: &T) -> Result<Value, CallError> {
    serde_json::to_value(value).map_err(|e| {
        CallError::new(
            ErrorKind::Internal,
            format!("cannot encode an RPC argument: {e}"),
        )
    })
}

impl RemoteConductor {
    pub fn new(host: &str, url: &str, secret: &str, http: reqwest::Client) -> Self {
        Self {
            host: host.to_string(),
            url: url.to_string(),
            secret: secret.to_string(),
            http,
            next_id: AtomicU64::new(1),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The error a client sees: the conductor named, its address (internal
    /// topology) only in this process's log.
    fn failed(&self, kind: ErrorKind, why: impl std::fmt::Display) -> CallError {
        tracing::debug!(conductor = %self.host, url = %self.url, error = %why, "RPC call failed");
        CallError::new(kind, format!("conductor {}: {why}", self.host))
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Map<String, Value>,
    ) -> Result<T, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
        let mut request = self.http.post(&self.url).bearer_auth(&self.secret);
        if let Some(id) = crate::request_context::current() {
            request = request.header(crate::request_context::HEADER, id);
        }
        let response = request.json(&body).send().await.map_err(|e| {
            let e = e.without_url();
            if e.is_connect() {
                self.failed(ErrorKind::Unreachable, format!("cannot connect: {e}"))
            } else if e.is_timeout() {
                self.failed(ErrorKind::Unavailable, "no answer in time")
            } else {
                self.failed(ErrorKind::Unavailable, e)
            }
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(self.failed(
                ErrorKind::Internal,
                "it refused this process's RPC secret ([rpc] secret_file must match)",
            ));
        }
        let answer: Value = response.json().await.map_err(|e| {
            self.failed(
                ErrorKind::Unavailable,
                format!("unreadable answer (HTTP {status}): {}", e.without_url()),
            )
        })?;
        if let Some(error) = answer.get("error") {
            return Err(remote_error(error));
        }
        let result = answer.get("result").cloned().unwrap_or(Value::Null);
        serde_json::from_value(result).map_err(|e| {
            self.failed(
                ErrorKind::Internal,
                format!("unexpected answer to {method}: {e}"),
            )
        })
    }
}

/// The error a conductor answered with: its kind travels in `data.kind`; without
/// one (a protocol error), the code decides.
fn remote_error(error: &Value) -> CallError {
    let message = error["message"]
        .as_str()
        .unwrap_or("the conductor failed")
        .to_string();
    let kind = serde_json::from_value(error["data"]["kind"].clone()).unwrap_or(
        match error["code"].as_i64() {
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::Conflict,
            Some(400) | Some(-32602) => ErrorKind::Invalid,
            Some(503) => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        },
    );
    CallError::new(kind, message)
}
