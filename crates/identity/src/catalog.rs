//! The service catalog a scoped token carries: where the client finds the identity
//! service itself, the bare metal API and, when served, the network API.

use axum::http::HeaderMap;
use serde_json::{json, Value};

use crate::{base_url, Identity};

fn entry(kind: &str, name: &str, url: &str, region: &str) -> Value {
    json!({
        "type": kind,
        "name": name,
        "id": format!("ferric-{kind}"),
        "endpoints": [{
            "id": format!("ferric-{kind}-public"),
            "interface": "public",
            "region": region,
            "region_id": region,
            "url": url,
        }],
    })
}

impl Identity {
    /// The catalog, with URLs as the client reached this service.
    pub(crate) fn catalog(&self, headers: &HeaderMap) -> Vec<Value> {
        let config = &self.inner.config;
        let identity = base_url(headers);
        let baremetal = config
            .baremetal_url
            .clone()
            .unwrap_or_else(|| identity.trim_end_matches("/identity").to_string());
        let region = &config.region;
        let mut catalog = vec![
            entry("identity", "keystone", &format!("{identity}/v3"), region),
            entry("baremetal", "ironic", &baremetal, region),
        ];
        if let Some(network) = &config.network_url {
            catalog.push(entry("network", "neutron", network, region));
        }
        catalog
    }
}
