//! Version discovery: `GET /` (every API version) and `GET /v1` (this version's
//! media types and resource links). Neither needs authentication.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ferric_types::Microversion;
use serde_json::{json, Value};

use crate::links::base_url;
use crate::AppState;

fn version_object(base: &str) -> Value {
    json!({
        "id": "v1",
        "links": [{"href": format!("{base}/v1/"), "rel": "self"}],
        "status": "CURRENT",
        "min_version": Microversion::MIN.to_string(),
        "version": Microversion::MAX.to_string(),
    })
}

pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&state, &headers);
    let v1 = version_object(&base);
    Json(json!({
        "name": "OpenStack Ironic API",
        "description": "Ferric: bare-metal provisioning, speaking the Ironic API. \
                        Version 1 of the API is the only one.",
        "default_version": v1,
        "versions": [v1],
    }))
}

/// Top-level collections and the microversion that introduced each.
const RESOURCES: &[(&str, u16)] = &[
    ("chassis", 1),
    ("nodes", 1),
    ("ports", 1),
    ("drivers", 1),
    ("heartbeat", 22),
    ("lookup", 22),
    ("portgroups", 23),
    ("volume", 32),
    ("conductors", 49),
    ("allocations", 52),
    ("events", 54),
    ("deploy_templates", 55),
    ("shards", 82),
    ("continue_inspection", 84),
];

pub async fn v1(
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
) -> Json<Value> {
    let base = base_url(&state, &headers);
    let mut body = json!({
        "id": "v1",
        "links": [
            {"href": format!("{base}/v1/"), "rel": "self"},
            {"href": "https://docs.openstack.org//ironic/latest/contributor//webapi.html", "rel": "describedby", "type": "text/html"},
        ],
        "media_types": {"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"},
        "version": version_object(&base),
    });
    for (name, minor) in RESOURCES {
        if version.at_least(*minor) {
            body[*name] = json!([
                {"href": format!("{base}/v1/{name}/"), "rel": "self"},
                {"href": format!("{base}/{name}/"), "rel": "bookmark"},
            ]);
        }
    }
    Json(body)
}
