//! The conductor's client of the ramdisk agent's command API (IPA's wire protocol):
//! `POST /v1/commands/?wait=…&agent_token=…` and `GET /v1/commands/`, the agent's
//! URL and token taken from the node's `driver_internal_info`. An https agent is
//! trusted through the certificate it sent in its heartbeat (`agent_verify_ca`).

use std::sync::OnceLock;
use std::time::Duration;

use ferric_types::Node;
use serde_json::{json, Value};

use crate::interfaces::DriverError;

/// DII keys the agent protocol keeps on a node.
pub mod keys {
    pub const URL: &str = "agent_url";
    pub const TOKEN: &str = "agent_secret_token";
    pub const TOKEN_PREGENERATED: &str = "agent_secret_token_pregenerated";
    pub const VERIFY_CA: &str = "agent_verify_ca";
    pub const VERSION: &str = "agent_version";
    pub const LAST_HEARTBEAT: &str = "agent_last_heartbeat";
    pub const CACHED_CLEAN_STEPS: &str = "agent_cached_clean_steps";
    pub const CACHED_DEPLOY_STEPS: &str = "agent_cached_deploy_steps";
    pub const HW_MANAGER_VERSION: &str = "hardware_manager_version";
}

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

fn plain_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("HTTP client")
    })
}

fn client_for(node: &Node, url: &str) -> Result<reqwest::Client, DriverError> {
    if !url.starts_with("https://") {
        return Ok(plain_client().clone());
    }
    let pem = node
        .driver_internal_info
        .get(keys::VERIFY_CA)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            DriverError::Hardware("the agent serves https but sent no certificate".into())
        })?;
    let cert = reqwest::Certificate::from_pem(pem.as_bytes())
        .map_err(|e| DriverError::Hardware(format!("the agent's certificate is unusable: {e}")))?;
    reqwest::Client::builder()
        .timeout(COMMAND_TIMEOUT)
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .build()
        .map_err(|e| DriverError::Hardware(format!("cannot build the agent client: {e}")))
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
    /// The agent could not be reached or answered an error.
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

/// Runs `name` (`ext.cmd`) on the node's agent; returns the command record.
pub async fn command(
    node: &Node,
    name: &str,
    params: Value,
    wait: bool,
) -> Result<Value, AgentCallError> {
    let (url, token) = agent_of(node)?;
    let http = client_for(node, &url)?;
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let sent = http
            .post(format!("{url}/v1/commands/"))
            .query(&[
                ("wait", if wait { "true" } else { "false" }),
                ("agent_token", &token),
            ])
            .json(&json!({"name": name, "params": params}))
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                last = format!("agent at {url} unreachable: {e}");
                continue;
            }
            Err(e) => {
                return Err(AgentCallError::Failed(format!(
                    "{name} on the agent at {url}: {e}"
                )))
            }
        };
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
                "agent refused {name}: {status}: {fault}"
            )));
        }
        return Ok(body);
    }
    Err(AgentCallError::Failed(last))
}

/// The agent's command log, oldest first.
pub async fn commands(node: &Node) -> Result<Vec<Value>, AgentCallError> {
    let (url, token) = agent_of(node)?;
    let http = client_for(node, &url)?;
    let resp = http
        .get(format!("{url}/v1/commands/"))
        .query(&[("agent_token", &token)])
        .send()
        .await
        .map_err(|e| AgentCallError::Failed(format!("agent at {url} unreachable: {e}")))?;
    if !resp.status().is_success() {
        return Err(AgentCallError::Failed(format!(
            "agent at {url} refused the command list: {}",
            resp.status()
        )));
    }
    let body: Value = resp
        .json()
        .await
        .map_err(|e| AgentCallError::Failed(format!("agent command list unreadable: {e}")))?;
    Ok(body
        .get("commands")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
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
