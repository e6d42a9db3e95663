//! `GET /boot/{mac}.ipxe`: the iPXE script a node's NIC chains to (the DHCP server
//! hands iPXE this URL). A node that must network-boot now gets its deploy kernel
//! and ramdisk with the agent's kernel parameters (API URL, `BOOTIF`); any other
//! node's firmware is told to go on to its next boot device.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ferric_types::provision::NETBOOT_STATES;
use ferric_types::{MacAddress, Node};
use serde_json::Value;

use crate::links::base_url;
use crate::AppState;

fn script(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

/// Where the firmware fetches a deploy image from: an http(s) URL as given, a local
/// path through the conductor's image cache.
async fn fetchable(node: &Node, key: &str) -> Result<String, String> {
    let given = node
        .driver_info
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("node {} has no driver_info/{key}", node.uuid))?;
    ferric_drivers::image_cache::served_url(given, false)
        .await
        .map_err(|e| format!("{key}: {e}"))
}

pub async fn ipxe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some(mac) = file
        .strip_suffix(".ipxe")
        .map(|m| m.replace('-', ":"))
        .and_then(|m| m.parse::<MacAddress>().ok())
    else {
        return script(
            StatusCode::NOT_FOUND,
            "#!ipxe\necho Ferric: no such boot script\nexit 1\n".into(),
        );
    };
    let node = match state.db.port_get_by_address(&mac).await {
        Ok(port) => state.db.node_get(port.node_uuid).await.ok(),
        Err(_) => None,
    };
    let Some(node) = node else {
        return script(
            StatusCode::NOT_FOUND,
            format!(
                "#!ipxe\necho Ferric: {} is not a port of any node\nexit 1\n",
                mac.as_str()
            ),
        );
    };
    if !NETBOOT_STATES.contains(&node.provision_state) {
        return script(
            StatusCode::OK,
            format!(
                "#!ipxe\necho Ferric: node {} is {}, it boots from its disk\nexit\n",
                node.uuid, node.provision_state
            ),
        );
    }
    let (kernel, ramdisk) = match (
        fetchable(&node, "deploy_kernel").await,
        fetchable(&node, "deploy_ramdisk").await,
    ) {
        (Ok(k), Ok(r)) => (k, r),
        (Err(e), _) | (_, Err(e)) => {
            return script(
                StatusCode::OK,
                format!("#!ipxe\necho Ferric: {e}\nexit 1\n"),
            );
        }
    };
    let api = base_url(&state, &headers);
    script(
        StatusCode::OK,
        format!(
            "#!ipxe\n\
             kernel --name kernel {kernel} nofb vga=normal ipa-api-url={api} BOOTIF=${{mac}} initrd=ramdisk\n\
             initrd --name ramdisk {ramdisk}\n\
             boot\n"
        ),
    )
}
