//! The agent's calls to the Ironic/Ferric API: version discovery, `GET /v1/lookup`
//! (retried with random exponential backoff until the lookup timeout) and
//! `POST /v1/heartbeat/{node}`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::jitter;
use crate::settings::Settings;

/// The newest microversion the agent uses for lookup and heartbeat.
const LOOKUP_VERSION: (u32, u32) = (1, 62);
const HEARTBEAT_VERSION: (u32, u32) = (1, 68);
/// What an API that cannot be asked is assumed to speak.
const FALLBACK_VERSION: (u32, u32) = (1, 31);

/// What a successful lookup returns.
#[derive(Debug, Clone)]
pub struct LookupResult {
    pub node: Value,
    pub config: Value,
}

impl LookupResult {
    pub fn node_uuid(&self) -> Option<&str> {
        self.node.get("uuid").and_then(Value::as_str)
    }
}

/// A client of the API the agent reports to.
#[derive(Clone)]
pub struct IronicClient {
    http: reqwest::Client,
    urls: Vec<String>,
    request_id: Option<String>,
    server_max: (u32, u32),
}

/// The heartbeat's body fields.
#[derive(Debug, Clone)]
pub struct Heartbeat<'a> {
    pub callback_url: &'a str,
    pub agent_token: Option<&'a str>,
    pub verify_ca: Option<&'a str>,
    /// The request id of the conductor's last command: the heartbeat goes back
    /// under the id of the operation it reports on.
    pub request_id: Option<&'a str>,
}

impl IronicClient {
    pub async fn new(settings: &Settings) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.http_request_timeout)
            // Calls are a heartbeat interval apart: a connection kept open between
            // them would only hold a socket and buffers in Ferric for each of its
            // thousands of ramdisks.
            .pool_max_idle_per_host(0)
            .danger_accept_invalid_certs(settings.insecure);
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("the CA file {}: {e}", path.display()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut client = Self {
            http,
            urls: settings.api_urls.clone(),
            request_id: settings.global_request_id.clone(),
            server_max: FALLBACK_VERSION,
        };
        client.server_max = match &settings.api_version {
            Some(v) => parse_version(v).ok_or_else(|| format!("bad API version {v}"))?,
            None => client.discover().await.unwrap_or(FALLBACK_VERSION),
        };
        Ok(client)
    }

    /// The HTTP client the API is called with (its timeout and TLS settings).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The first API URL (the one that answered last).
    pub fn url(&self) -> &str {
        self.urls.first().map(String::as_str).unwrap_or_default()
    }

    async fn discover(&self) -> Option<(u32, u32)> {
        for url in &self.urls {
            let Ok(resp) = self.http.get(format!("{url}/")).send().await else {
                continue;
            };
            let body: Value = resp.json().await.ok()?;
            let v = body.pointer("/default_version/version")?.as_str()?;
            return parse_version(v);
        }
        None
    }

    fn version(&self, wanted: (u32, u32)) -> String {
        let v = wanted.min(self.server_max);
        format!("{}.{}", v.0, v.1)
    }

    /// A request to the API, carrying `request_id` (else the kernel's
    /// `ipa-global-request-id`) as `X-OpenStack-Request-ID`.
    fn request(
        &self,
        method: reqwest::Method,
        url: String,
        version: String,
        request_id: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .request(method, url)
            .header("Accept", "application/json")
            .header("X-OpenStack-Ironic-API-Version", version);
        if let Some(id) = request_id.or(self.request_id.as_deref()) {
            rb = rb.header("X-OpenStack-Request-ID", id);
        }
        rb
    }

    /// One lookup attempt: `Ok(None)` when the node is not (yet) there.
    pub async fn lookup_once(
        &mut self,
        macs: &[String],
        node_uuid: Option<&str>,
    ) -> Result<LookupResult, LookupError> {
        let mut last = LookupError::Unreachable("no API URL".into());
        for i in 0..self.urls.len() {
            let base = self.urls[i].clone();
            let mut url = format!("{base}/v1/lookup?addresses={}", macs.join(","));
            if let Some(u) = node_uuid {
                url.push_str(&format!("&node_uuid={u}"));
            }
            let version = self.version(LOOKUP_VERSION);
            let resp = match self
                .request(reqwest::Method::GET, url, version, None)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    last = LookupError::Unreachable(format!("{base}: {e}"));
                    continue;
                }
            };
            self.urls.swap(0, i);
            let status = resp.status();
            if status == StatusCode::CONFLICT {
                return Err(LookupError::Locked);
            }
            if status != StatusCode::OK {
                let text = resp.text().await.unwrap_or_default();
                return Err(LookupError::Refused(format!("{status}: {text}")));
            }
            let body: Value = resp
                .json()
                .await
                .map_err(|e| LookupError::Refused(format!("lookup answer is not JSON: {e}")))?;
            let result = LookupResult {
                node: body.get("node").cloned().unwrap_or(Value::Null),
                config: body.get("config").cloned().unwrap_or_else(
                    || json!({"heartbeat_timeout": body.get("heartbeat_timeout").cloned()}),
                ),
            };
            if result.node_uuid().is_none() {
                return Err(LookupError::Refused(
                    "lookup answer has no node.uuid".into(),
                ));
            }
            return Ok(result);
        }
        Err(last)
    }

    /// Looks the machine up until it is found or the timeout passes.
    pub async fn lookup(
        &mut self,
        settings: &Settings,
        macs: &[String],
        node_uuid: Option<&str>,
    ) -> Result<LookupResult, String> {
        let deadline = Instant::now() + settings.lookup_timeout;
        let mut backoff = settings.lookup_interval.max(Duration::from_millis(100));
        let conflict_sleeps = [5u64, 10, 30];
        let mut conflicts = 0usize;
        loop {
            let err = match self.lookup_once(macs, node_uuid).await {
                Ok(found) => return Ok(found),
                Err(e) => e,
            };
            tracing::warn!(error = %err, "lookup failed; retrying");
            let mut sleep = jitter::scaled(backoff, 1.0, 2.0).min(Duration::from_secs(60));
            backoff = (backoff * 2).min(Duration::from_secs(60));
            if matches!(err, LookupError::Locked) {
                let extra = conflict_sleeps[conflicts.min(conflict_sleeps.len() - 1)];
                conflicts += 1;
                sleep = sleep.max(Duration::from_secs(extra));
            }
            if Instant::now() + sleep > deadline {
                return Err(format!(
                    "lookup did not succeed within {:?}: {err}",
                    settings.lookup_timeout
                ));
            }
            tokio::time::sleep(sleep).await;
        }
    }

    /// Sends one heartbeat; `Err` carries why it was refused.
    pub async fn heartbeat(&self, node: &str, hb: &Heartbeat<'_>) -> Result<(), String> {
        let mut body = json!({
            "callback_url": hb.callback_url,
            "agent_version": crate::VERSION,
        });
        if let Some(t) = hb.agent_token {
            body["agent_token"] = Value::from(t);
        }
        if let Some(ca) = hb.verify_ca {
            if self.server_max >= HEARTBEAT_VERSION {
                body["agent_verify_ca"] = Value::from(ca);
            }
        }
        let url = format!("{}/v1/heartbeat/{node}", self.url());
        let resp = self
            .request(
                reqwest::Method::POST,
                url,
                self.version(HEARTBEAT_VERSION),
                hb.request_id,
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("heartbeat not delivered: {e}"))?;
        if resp.status().is_success() {
            return Ok(());
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Err(format!("heartbeat refused: {status}: {text}"))
    }
}

/// Why a lookup attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("API unreachable: {0}")]
    Unreachable(String),
    #[error("the node is locked (409)")]
    Locked,
    #[error("lookup refused: {0}")]
    Refused(String),
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
