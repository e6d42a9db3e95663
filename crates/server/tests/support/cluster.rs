//! Ferric's roles in processes of their own, for the cluster tests: the RPC
//! secret in a file, a conductor-only `ferricd` with its RPC listener, an
//! API-only one, and a node deploying and undeploying without pause.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{free_port, Ferric};

/// The secret every process of a test cluster shares.
pub const SECRET: &str = "cluster-test-shared-secret";

/// Writes the secret into `dir`; the file's path.
pub fn secret_file(dir: &Path) -> String {
    let path = dir.join("rpc-secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    path.display().to_string()
}

/// A conductor-only ferricd named `host` (in `dir/host`), with `extra_config`;
/// it and its RPC port, once it listens.
pub async fn conductor(dir: &Path, db: &str, host: &str, extra_config: &str) -> (Ferric, u16) {
    let rpc = free_port();
    let dir = dir.join(host);
    std::fs::create_dir_all(&dir).unwrap();
    let args: Vec<String> = [
        "--role",
        "conductor",
        "--host",
        host,
        "--rpc-listen",
        &format!("127.0.0.1:{rpc}"),
        "--rpc-secret-file",
        &secret_file(&dir),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let f = Ferric::start_without_api(&dir, Some(db.to_string()), extra_config, &args, rpc).await;
    (f, rpc)
}

/// An API-only ferricd (in `dir/name`) that calls the conductors over RPC.
pub async fn api_only(dir: &Path, db: &str, name: &str, extra_config: &str) -> Ferric {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    Ferric::start_with(
        &dir,
        Some(db.to_string()),
        extra_config,
        &[
            "--role".into(),
            "api".into(),
            "--rpc-secret-file".into(),
            secret_file(&dir),
        ],
    )
    .await
}

/// Deploys and undeploys `uuid` through the API at `api` until `stop` (with
/// `image`, a JSON patch, applied before each deploy); the cycles done and what
/// failed.
pub async fn cycle(
    api: String,
    uuid: String,
    image: Option<Value>,
    stop: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Value| {
        http.request(method, format!("{api}/v1{path}"))
            .header("X-OpenStack-Ironic-API-Version", "1.89")
            .json(&body)
            .send()
    };
    let (mut cycles, mut failures) = (0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        for (verb, rest) in [("active", "active"), ("deleted", "available")] {
            if let (Some(patch), "active") = (&image, verb) {
                let r = send(
                    reqwest::Method::PATCH,
                    format!("/nodes/{uuid}"),
                    patch.clone(),
                )
                .await
                .unwrap();
                if !r.status().is_success() {
                    let status = r.status();
                    failures.push(format!(
                        "image: {status} {}",
                        r.text().await.unwrap_or_default()
                    ));
                    return (cycles, failures);
                }
            }
            // A node whose lock is held a moment longer (the power sync, say)
            // answers 409 "locked, please retry": retry as Ironic's clients do.
            let mut tries = 0;
            let r = loop {
                let r = send(
                    reqwest::Method::PUT,
                    format!("/nodes/{uuid}/states/provision"),
                    json!({"target": verb}),
                )
                .await
                .unwrap();
                tries += 1;
                if r.status() != 409 || tries == 20 {
                    break r;
                }
                let body = r.text().await.unwrap_or_default();
                if !body.contains("is locked by host") {
                    failures.push(format!("{verb}: 409 {body}"));
                    return (cycles, failures);
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            };
            if r.status() != 202 {
                let status = r.status();
                failures.push(format!(
                    "{verb}: {status} {}",
                    r.text().await.unwrap_or_default()
                ));
                return (cycles, failures);
            }
            loop {
                let n: Value = http
                    .get(format!("{api}/v1/nodes/{uuid}"))
                    .header("X-OpenStack-Ironic-API-Version", "1.89")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let state = n["provision_state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if state.contains("failed") || state == "error" {
                    failures.push(format!("{uuid} {state}: {}", n["last_error"]));
                    return (cycles, failures);
                }
                if state == rest && n["reservation"].is_null() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        cycles += 1;
    }
    (cycles, failures)
}
