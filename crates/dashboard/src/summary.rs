//! The fleet's counts — by provision state, power state, maintenance, fault,
//! conductor and resource class — read through the API as the signed-in user, so a
//! project sees the counts of its own nodes only. Sparse pages of 1 000 nodes.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::api::{Api, CallFailed};
use crate::session::Credentials;

/// The fields counted, with `uuid` for the page marker.
const FIELDS: &str = "uuid,provision_state,power_state,maintenance,fault,conductor,resource_class";

/// More pages than this (a million nodes) and the count stops.
const MAX_PAGES: usize = 1000;

/// The counts, as the `summary` event carries them. A count that fails (the page
/// marker's node deleted meanwhile, say) starts over once.
pub(crate) async fn fleet_counts(
    api: &Api,
    credentials: &Credentials,
) -> Result<Value, CallFailed> {
    match count_once(api, credentials).await {
        Err(failed) if failed.status != axum::http::StatusCode::UNAUTHORIZED => {
            count_once(api, credentials).await
        }
        done => done,
    }
}

async fn count_once(api: &Api, credentials: &Credentials) -> Result<Value, CallFailed> {
    let mut counts = Counts::default();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let path = match &marker {
            Some(m) => format!("/v1/nodes?limit=1000&fields={FIELDS}&marker={m}"),
            None => format!("/v1/nodes?limit=1000&fields={FIELDS}"),
        };
        let page = api.get_json(&path, credentials).await?;
        let nodes = page["nodes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        for node in nodes {
            counts.add(node);
        }
        marker = match (page.get("next"), nodes.last()) {
            (Some(_), Some(last)) => last["uuid"].as_str().map(str::to_string),
            _ => None,
        };
        if marker.is_none() {
            break;
        }
    }
    Ok(counts.into_json())
}

#[derive(Default)]
struct Counts {
    total: u64,
    provision_state: BTreeMap<String, u64>,
    power_state: BTreeMap<String, u64>,
    maintenance: u64,
    fault: BTreeMap<String, u64>,
    conductor: BTreeMap<String, u64>,
    resource_class: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, node: &Value) {
        self.total += 1;
        let label = |v: &Value| v.as_str().unwrap_or("null").to_string();
        *self
            .provision_state
            .entry(label(&node["provision_state"]))
            .or_default() += 1;
        *self
            .power_state
            .entry(label(&node["power_state"]))
            .or_default() += 1;
        if node["maintenance"].as_bool() == Some(true) {
            self.maintenance += 1;
        }
        if let Some(fault) = node["fault"].as_str() {
            *self.fault.entry(fault.to_string()).or_default() += 1;
        }
        if let Some(c) = node["conductor"].as_str() {
            *self.conductor.entry(c.to_string()).or_default() += 1;
        }
        if let Some(rc) = node["resource_class"].as_str() {
            *self.resource_class.entry(rc.to_string()).or_default() += 1;
        }
    }

    fn into_json(self) -> Value {
        json!({
            "total": self.total,
            "provision_state": self.provision_state,
            "power_state": self.power_state,
            "maintenance": self.maintenance,
            "fault": self.fault,
            "conductor": self.conductor,
            "resource_class": self.resource_class,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_each_field() {
        let mut c = Counts::default();
        c.add(&json!({"provision_state": "active", "power_state": "power on", "maintenance": false, "fault": null, "conductor": "c1", "resource_class": "gpu"}));
        c.add(&json!({"provision_state": "active", "power_state": null, "maintenance": true, "fault": "power failure", "conductor": "c1", "resource_class": null}));
        let j = c.into_json();
        assert_eq!(j["total"], 2);
        assert_eq!(j["provision_state"]["active"], 2);
        assert_eq!(j["power_state"]["null"], 1);
        assert_eq!(j["maintenance"], 1);
        assert_eq!(j["fault"]["power failure"], 1);
        assert_eq!(j["conductor"]["c1"], 2);
        assert_eq!(j["resource_class"]["gpu"], 1);
    }
}
