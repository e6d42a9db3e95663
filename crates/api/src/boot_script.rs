//! ferricd's HTTP boot server, `/boot/`: the boot root (iPXE binaries for UEFI HTTP
//! boot, and each node's rendered `<node uuid>/config` script with its deploy kernel
//! and ramdisk), plus `/boot/<mac>.ipxe` for iPXE firmware that asks by MAC: it
//! chains to the node's script when one is rendered, and otherwise tells a known
//! node's firmware to go on to its next boot device (its disk).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ferric_types::MacAddress;

use crate::boot_files::Refusal;

use crate::images::serve_file;
use crate::AppState;

fn script(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

/// A file of the boot root.
async fn from_root(state: &AppState, name: &str, headers: &HeaderMap) -> Response {
    let resp = match &state.boot_files {
        None => script(
            StatusCode::NOT_FOUND,
            "no boot root on this ferricd\n".into(),
        ),
        Some(files) => match files.boot_file(name).await {
            Ok(path) => serve_file(&path, headers).await,
            Err(Refusal::NotFound) => script(StatusCode::NOT_FOUND, "no such boot file\n".into()),
            Err(Refusal::Denied) => script(StatusCode::FORBIDDEN, "outside the boot root\n".into()),
        },
    };
    let counter = if resp.status().is_success() {
        "ferric_http_boot_files_total"
    } else {
        "ferric_http_boot_refused_total"
    };
    metrics::counter!(counter).increment(1);
    resp
}

/// `GET /boot/{file}`: a MAC's script (`aa-bb-cc-dd-ee-ff.ipxe`) or a root file.
pub async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let mac = file
        .strip_suffix(".ipxe")
        .map(|m| m.replace('-', ":"))
        .and_then(|m| m.parse::<MacAddress>().ok());
    match mac {
        Some(mac) => by_mac(&state, mac).await,
        None => from_root(&state, &file, &headers).await,
    }
}

/// `GET /boot/{dir}/{file}`: a node's rendered files.
pub async fn node_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((dir, file)): Path<(String, String)>,
) -> Response {
    from_root(&state, &format!("{dir}/{file}"), &headers).await
}

async fn by_mac(state: &AppState, mac: MacAddress) -> Response {
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
    let rendered = match &state.boot_files {
        Some(files) => files.node_script(&node.uuid.to_string()).await,
        None => None,
    };
    let body = if let Some(config) = rendered {
        format!("#!ipxe\nchain {config}\n")
    } else {
        format!(
            "#!ipxe\necho Ferric: node {} has nothing to network-boot ({}); booting from its disk\nexit\n",
            node.uuid, node.provision_state
        )
    };
    script(StatusCode::OK, body)
}
