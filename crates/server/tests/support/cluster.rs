//! Ferric's roles in processes of their own, for the cluster tests: the RPC
//! secret in a file, a conductor-only `ferricd` with its RPC listener, and an
//! API-only one.

use std::path::Path;

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
