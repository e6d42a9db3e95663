//! The conductor's client of the ramdisk agent's command API (IPA's wire protocol):
//! `POST /v1/commands/?wait=…&agent_token=…` and `GET /v1/commands/`, the agent's
//! URL and token taken from the node's `driver_internal_info`. An https agent is
//! trusted through the certificate it sent in its heartbeat (`agent_verify_ca`,
//! see `agent_tls`). Transient failures are retried briefly; errors name the
//! agent's address and cause but never the request URL, whose query carries the
//! agent token. [`AgentClient`] keeps the connection pool of plain-http agents;
//! the conductor's drivers own it.

use std::time::Duration;

use ferric_types::Node;
use serde_json::{json, Value};

use crate::agent_tls;
use crate::interfaces::DriverError;

/// The agent's keys in `driver_internal_info`.
pub use ferric_types::agent_keys as keys;

/// Forgets the running agent: its URL, token (unless pre-generated), certificate
/// and cached steps. Done whenever the node is powered off or rebooted, so each
/// ramdisk boot gets a fresh token.
pub fn forget_agent(node: &mut Node) {
    let dii = &mut node.driver_internal_info;
    let pregenerated = dii.get(keys::TOKEN_PREGENERATED) == Some(&Value::Bool(true));
    for k in [
        keys::URL,
        keys::VERIFY_CA,
        keys::CACHED_CLEAN_STEPS,
        keys::CACHED_DEPLOY_STEPS,
        keys::HW_MANAGER_VERSION,
    ] {
        dii.remove(k);
    }
    if !pregenerated {
        dii.remove(keys::TOKEN);
    }
}

/// How long one command call may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to the agent may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of a call that met a transient error (a refused connection; a time-out of
/// a read, which can be sent again), and the pause between them (Ironic's
/// `max_command_attempts` is 3 too).
const ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_secs(2);

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(COMMAND_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        // A connection per call, closed after it. Each agent is a host of its own
        // and the calls to one are seconds apart: a kept connection (reqwest's
        // buffers, hyper's dispatch channel) costs ~19 KiB, which 10 000 machines
        // in cleaning at once turn into ~190 MiB, for a saved loopback-or-LAN
        // handshake.
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
}

/// Calls ramdisk agents: one connection pool for plain-http agents; an https
/// agent gets a client trusting the certificate it sent.
pub struct AgentClient {
    plain: reqwest::Client,
}

impl Default for AgentClient {
    fn default() -> Self {
        Self {
            plain: builder().build().expect("HTTP client"),
        }
    }
}

fn agent_of(node: &Node) -> Result<(String, String), DriverError> {
    let dii = &node.driver_internal_info;
    let url = dii.get(keys::URL).and_then(Value::as_str).ok_or_else(|| {
        DriverError::Hardware(format!(
            "node {} has no agent URL: its ramdisk agent has not called back",
            node.uuid
        ))
    })?;
    let token = dii.get(keys::TOKEN).and_then(Value::as_str).unwrap_or("");
    Ok((url.trim_end_matches('/').to_string(), token.to_string()))
}

/// Why a call to the agent failed.
#[derive(Debug)]
pub enum AgentCallError {
    /// The agent runs another command (409): try again on a later heartbeat.
    Busy,
    /// The agent could not be reached, or answered an error.
    Failed(String),
}

impl From<AgentCallError> for DriverError {
    fn from(e: AgentCallError) -> Self {
        match e {
            AgentCallError::Busy => DriverError::Hardware("the agent is busy".into()),
            AgentCallError::Failed(m) => DriverError::Hardware(m),
        }
    }
}

impl From<DriverError> for AgentCallError {
    fn from(e: DriverError) -> Self {
        AgentCallError::Failed(e.to_string())
    }
}

/// A failed request in words, and whether trying again may help (a time-out only
/// when the request can be sent twice: a command the agent may have started cannot).
/// The words never hold the request's URL (its query carries the agent token):
/// `url` is the agent's base URL, and the causes come from the error's source chain.
fn describe(e: reqwest::Error, url: &str, what: &str, resendable: bool) -> (String, bool) {
    let e = e.without_url();
    if let Some(tls) = tls_cause(&e) {
        return (
            format!("TLS handshake with the agent at {url} failed: {tls}"),
            false,
        );
    }
    let causes = causes(&e);
    if e.is_timeout() {
        return (
            format!("the agent at {url} did not answer {what} in time: {causes}"),
            resendable,
        );
    }
    if e.is_connect() {
        return (
            format!("cannot connect to the agent at {url}: {causes}"),
            true,
        );
    }
    (
        format!("{what} on the agent at {url} failed: {causes}"),
        false,
    )
}

/// The rustls error behind a failed request, if TLS is why it failed.
fn tls_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            // rustls prints its Other errors with Debug: say ours in plain words.
            return Some(match tls {
                rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
                    format!("invalid peer certificate: {}", other.0)
                }
                _ => tls.to_string(),
            });
        }
        // io::Error's source() skips the error it wraps (often another io::Error
        // around the TLS error): step into it instead.
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The error and its causes, innermost last, without repeats.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Sends the request `make` builds, retrying transient failures; `resendable` when
/// the request may reach the agent twice.
async fn send(
    url: &str,
    what: &str,
    resendable: bool,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, AgentCallError> {
    let mut attempt = 1;
    loop {
        match make().send().await {
            Ok(resp) => return Ok(resp),
            Err(e) => {
                let (why, transient) = describe(e, url, what, resendable);
                if !transient || attempt >= ATTEMPTS {
                    return Err(AgentCallError::Failed(why));
                }
                tracing::info!(agent = %url, attempt, error = %why, "agent call failed; trying again");
            }
        }
        attempt += 1;
        crate::worker_slot::pause(RETRY_PAUSE).await;
    }
}

impl AgentClient {
    /// The client for the node's agent at `url`.
    fn client_for(&self, node: &Node, url: &str) -> Result<reqwest::Client, AgentCallError> {
        if !url.starts_with("https://") {
            return Ok(self.plain.clone());
        }
        let pem = node
            .driver_internal_info
            .get(keys::VERIFY_CA)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AgentCallError::Failed(format!(
                    "the agent at {url} serves https but its heartbeat sent no certificate \
                     (agent_verify_ca)"
                ))
            })?;
        let tls = agent_tls::client_config(pem).map_err(AgentCallError::Failed)?;
        builder()
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|e| AgentCallError::Failed(format!("cannot build the agent client: {e}")))
    }

    /// Runs `name` (`ext.cmd`) on the node's agent; returns the command record.
    pub async fn command(
        &self,
        node: &Node,
        name: &str,
        params: Value,
        wait: bool,
    ) -> Result<Value, AgentCallError> {
        let (url, token) = agent_of(node)?;
        let http = self.client_for(node, &url)?;
        let body = json!({"name": name, "params": params});
        let request_id = node
            .driver_internal_info
            .get(keys::REQUEST_ID)
            .and_then(Value::as_str);
        let resp = send(&url, name, false, || {
            let rb = http
                .post(format!("{url}/v1/commands/"))
                .query(&[
                    ("wait", if wait { "true" } else { "false" }),
                    ("agent_token", &token),
                ])
                .json(&body);
            match request_id {
                Some(id) => rb.header("X-OpenStack-Request-ID", id),
                None => rb,
            }
        })
        .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let fault = body
            .get("faultstring")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if status.as_u16() == 409 || fault.to_ascii_lowercase().contains("agent is busy") {
            return Err(AgentCallError::Busy);
        }
        if !status.is_success() {
            return Err(AgentCallError::Failed(format!(
                "the agent at {url} refused {name}: {status}: {fault}"
            )));
        }
        Ok(body)
    }

    /// The agent's command log, oldest first.
    pub async fn commands(&self, node: &Node) -> Result<Vec<Value>, AgentCallError> {
        let (url, token) = agent_of(node)?;
        let http = self.client_for(node, &url)?;
        let resp = send(&url, "the command list", true, || {
            http.get(format!("{url}/v1/commands/"))
                .query(&[("agent_token", &token)])
        })
        .await?;
        if !resp.status().is_success() {
            return Err(AgentCallError::Failed(format!(
                "the agent at {url} refused the command list: {}",
                resp.status()
            )));
        }
        let body: Value = resp.json().await.map_err(|e| {
            AgentCallError::Failed(format!(
                "the agent at {url} sent an unreadable command list: {}",
                causes(&e.without_url())
            ))
        })?;
        Ok(body
            .get("commands")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

/// A command's error in words (`details`, else `message`).
pub fn error_text(record: &Value) -> String {
    let err = record.get("command_error").unwrap_or(&Value::Null);
    err.get("details")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| err.get("message").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| err.to_string())
}
