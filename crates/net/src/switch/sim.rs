//! `sim`: the simulated top-of-rack switches of `ferric sim` and `ferric demo`,
//! configured through the rack's switch management API — `PUT {url}/ports/{port}`
//! with `{"vlan": N}` (`null`: untagged) makes a port an enabled access port,
//! `DELETE {url}/ports/{port}` shuts it down — with the rack's credentials (HTTP
//! basic). `url` is the switch's own address on the rack
//! (`http://RACK/sim/switches/sim-leaf-000a`). What the demo's network isolation
//! runs on; real switches take `generic-ssh` or `linux-bridge`.

use std::time::Duration;

use serde_json::json;

use super::{check_port_name, BoxFuture, Segment, SwitchDriver};

/// One simulated switch.
pub struct SimSwitch {
    url: String,
    /// User and password; the password never reaches a log or an error.
    login: Option<(String, String)>,
    http: reqwest::Client,
}

impl SimSwitch {
    pub fn new(url: &str, login: Option<(String, String)>) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("url {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(format!("url {url:?} is not an http(s) address"));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            login,
            http,
        })
    }

    /// The port's address: its name checked, its `/` percent-encoded.
    fn port_url(&self, port: &str) -> Result<String, String> {
        check_port_name(port)?;
        Ok(format!("{}/ports/{}", self.url, port.replace('/', "%2F")))
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: String) -> Result<(), String> {
        let req = match &self.login {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        };
        let response = req
            .send()
            .await
            .map_err(|e| format!("switch {}: {what}: {}", self.url, e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let why = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(body);
        Err(format!("switch {}: {what}: HTTP {status}: {why}", self.url))
    }
}

impl SwitchDriver for SimSwitch {
    fn bind<'a>(&'a self, port: &'a str, segment: Segment) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let vlan = match segment {
                Segment::Flat => serde_json::Value::Null,
                Segment::Vlan(id) => json!(id),
            };
            let url = self.port_url(port)?;
            self.send(
                self.http.put(url).json(&json!({ "vlan": vlan })),
                format!("port {port} on {segment}"),
            )
            .await
        })
    }

    fn unbind<'a>(&'a self, port: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let url = self.port_url(port)?;
            self.send(self.http.delete(url), format!("port {port} shut down"))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_ports_encoded() {
        let s = SimSwitch::new("http://127.0.0.1:1/sim/switches/sim-leaf-000a/", None).unwrap();
        assert_eq!(
            s.port_url("Ethernet1/7").unwrap(),
            "http://127.0.0.1:1/sim/switches/sim-leaf-000a/ports/Ethernet1%2F7"
        );
        assert!(s.port_url("Ethernet1/7;reboot").is_err());
        assert!(SimSwitch::new("ftp://x/sim", None).is_err());
        assert!(SimSwitch::new("not a url", None).is_err());
    }
}
