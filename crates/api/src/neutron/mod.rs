//! Ferric's network service over a REST API shaped like Neutron's v2.0 — networks,
//! subnets and ports with the fields bare metal needs — so `openstack network …`,
//! `subnet …` and `port …` manage them unchanged. It is served on a listener of its
//! own (`--network-api-listen`), because clients discover Neutron's version at `/`,
//! where Ironic's document lives on the API listener.

mod error;
mod filter;
mod lookup;
mod networks;
mod ownership;
mod ports;
mod render;
mod request;
mod subnets;

use axum::extract::OriginalUri;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::links::request_origin;
use crate::AppState;
use error::NetError;

/// The Neutron-shaped API as one router.
pub fn service(state: AppState) -> Router {
    Router::new()
        .route("/", get(versions))
        .route("/v2.0", get(resources))
        .route("/v2.0/extensions", get(extensions))
        .route("/v2.0/extensions/{alias}", get(extension))
        .route("/v2.0/networks", get(networks::list).post(networks::create))
        .route(
            "/v2.0/networks/{id}",
            get(networks::show)
                .put(networks::update)
                .delete(networks::delete),
        )
        .route("/v2.0/subnets", get(subnets::list).post(subnets::create))
        .route(
            "/v2.0/subnets/{id}",
            get(subnets::show)
                .put(subnets::update)
                .delete(subnets::delete),
        )
        .route("/v2.0/ports", get(ports::list).post(ports::create))
        .route(
            "/v2.0/ports/{id}",
            get(ports::show).put(ports::update).delete(ports::delete),
        )
        .fallback(|uri: OriginalUri| async move {
            NetError::not_found(
                "NotFound",
                format!("The resource could not be found: {}", uri.0.path()),
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.config.auth.clone(),
            crate::auth::authenticate,
        ))
        .with_state(state)
}

async fn versions(headers: HeaderMap) -> Json<Value> {
    Json(json!({"versions": [{
        "id": "v2.0",
        "status": "CURRENT",
        "links": [{"href": format!("{}/v2.0/", request_origin(&headers)), "rel": "self"}],
    }]}))
}

async fn resources(headers: HeaderMap) -> Json<Value> {
    let b = request_origin(&headers);
    let link = |name: &str, collection: &str| {
        json!({"name": name, "collection": collection,
               "links": [{"href": format!("{b}/v2.0/{collection}"), "rel": "self"}]})
    };
    Json(json!({"resources": [
        link("network", "networks"),
        link("subnet", "subnets"),
        link("port", "ports"),
    ]}))
}

/// The API extensions whose attributes Ferric serves.
const EXTENSIONS: &[(&str, &str, &str)] = &[
    (
        "provider",
        "Provider Network",
        "Expose mapping of virtual networks to physical networks",
    ),
    (
        "binding",
        "Port Binding",
        "Expose port bindings of a virtual port to external application",
    ),
    (
        "extra_dhcp_opt",
        "Neutron Extra DHCP options",
        "Extra options configuration for DHCP",
    ),
];

fn extension_doc(alias: &str, name: &str, description: &str) -> Value {
    json!({"alias": alias, "name": name, "description": description,
           "links": [], "updated": "2013-01-01T00:00:00-00:00"})
}

async fn extensions() -> Json<Value> {
    Json(json!({"extensions": EXTENSIONS
        .iter()
        .map(|(a, n, d)| extension_doc(a, n, d))
        .collect::<Vec<_>>()}))
}

async fn extension(
    axum::extract::Path(alias): axum::extract::Path<String>,
) -> Result<Json<Value>, NetError> {
    EXTENSIONS
        .iter()
        .find(|(a, _, _)| *a == alias)
        .map(|(a, n, d)| Json(json!({"extension": extension_doc(a, n, d)})))
        .ok_or_else(|| {
            NetError::not_found(
                "ExtensionNotFound",
                format!("Extension with alias {alias} does not exist"),
            )
        })
}
