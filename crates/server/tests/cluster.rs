//! Ferric as separate processes on one PostgreSQL: an API-only `ferricd` and two
//! conductor-only ones (`--role`, `--rpc-listen`, a shared secret, `[conductor]
//! heartbeat_interval`/`heartbeat_timeout`). Every node's work runs on the
//! conductor that owns it on the hash ring (its history names that conductor);
//! the RPC listener refuses callers without the secret; after a `kill -9` the
//! API reaches the dead conductor's nodes through the next owner at once, and
//! once the heartbeat timeout passes the ring and `/v1/conductors` agree it is
//! gone; with no conductor left the API answers 503. SQLite refuses to be split.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::{free_port, postgres_url, scratch, Ferric};

const SECRET: &str = "cluster-test-shared-secret";
/// Fast membership, so the test sees a death in seconds.
const HEARTBEATS: &str = "heartbeat_interval = 1\nheartbeat_timeout = 4\n";

fn secret_file(dir: &Path) -> String {
    let path = dir.join("rpc-secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    path.display().to_string()
}

async fn conductor(dir: &Path, db: &str, host: &str) -> (Ferric, u16) {
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
    let f = Ferric::start_without_api(
        &dir,
        Some(db.to_string()),
        &format!("[conductor]\n{HEARTBEATS}"),
        &args,
        rpc,
    )
    .await;
    (f, rpc)
}

async fn get(api: &Ferric, path: &str) -> Value {
    let (status, body) = api.call(Method::GET, path, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn conductors(api: &Ferric) -> BTreeMap<String, bool> {
    let r = api
        .http
        .get(format!("{}/v1/conductors", api.api))
        .header("X-OpenStack-Ironic-API-Version", "1.49")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["conductors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["hostname"].as_str().unwrap().to_string(),
                c["alive"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_and_two_conductors_share_the_nodes() {
    let dir = scratch("cluster");
    let db = postgres_url();
    let (mut a, rpc_a) = conductor(&dir, &db, "cond-a").await;
    let (b, rpc_b) = conductor(&dir, &db, "cond-b").await;
    let api_dir = dir.join("api");
    std::fs::create_dir_all(&api_dir).unwrap();
    let api = Ferric::start_with(
        &api_dir,
        Some(db.clone()),
        &format!("[conductor]\n{HEARTBEATS}"),
        &[
            "--role".into(),
            "api".into(),
            "--rpc-secret-file".into(),
            secret_file(&api_dir),
        ],
    )
    .await;
    assert_eq!(
        conductors(&api).await,
        BTreeMap::from([("cond-a".into(), true), ("cond-b".into(), true)])
    );

    // The RPC listener is not open to anyone.
    for port in [rpc_a, rpc_b] {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/"))
            .json(&json!({"jsonrpc": "2.0", "method": "vifs", "params": {}, "id": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }

    // Nodes managed and deployed through the API run on their owners.
    let mut owner_of = BTreeMap::new();
    for i in 0..12 {
        let (status, node) = api
            .call(
                Method::POST,
                "/nodes",
                Some(json!({"driver": "fake-hardware", "name": format!("n{i}")})),
            )
            .await;
        assert_eq!(status, 201, "{node}");
        let uuid = node["uuid"].as_str().unwrap().to_string();
        for (verb, rest) in [
            ("manage", "manageable"),
            ("provide", "available"),
            ("active", "active"),
        ] {
            api.provision(&uuid, verb).await;
            api.wait_for(&uuid, &[rest], Duration::from_secs(60)).await;
        }
        let shown = api.node(&uuid).await;
        owner_of.insert(uuid, shown["conductor"].as_str().unwrap().to_string());
    }
    let owners: std::collections::BTreeSet<&String> = owner_of.values().collect();
    assert_eq!(owners.len(), 2, "both conductors own nodes: {owner_of:?}");
    for (uuid, owner) in &owner_of {
        let history = get(&api, &format!("/nodes/{uuid}/history?detail=true")).await;
        let by: Vec<&str> = history["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["conductor"].as_str())
            .collect();
        assert!(!by.is_empty(), "{history}");
        assert!(by.iter().all(|c| c == owner), "{uuid} is {owner}'s: {by:?}");
    }

    // kill -9 one conductor: its nodes are reached through the next owner at once.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let started = Instant::now();
    let orphans: Vec<&String> = owner_of
        .iter()
        .filter(|(_, o)| *o == "cond-a")
        .map(|(u, _)| u)
        .collect();
    for uuid in &orphans {
        let (status, body) = api
            .call(
                Method::PUT,
                &format!("/nodes/{uuid}/states/power"),
                Some(json!({"target": "power off"})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    for uuid in &orphans {
        eventually("the power off", Duration::from_secs(20), || async {
            api.node(uuid).await["power_state"] == "power off"
        })
        .await;
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "served before the death was even detectable: {took:?}"
    );
    // Once its heartbeat is older than heartbeat_timeout, it is dead to everyone.
    eventually("cond-a counted dead", Duration::from_secs(15), || async {
        conductors(&api).await.get("cond-a") == Some(&false)
    })
    .await;
    eventually(
        "the ring without cond-a",
        Duration::from_secs(5),
        || async {
            let list = get(&api, "/nodes?fields=uuid,conductor").await;
            list["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["conductor"] == "cond-b")
        },
    )
    .await;

    // No conductor at all: 503, naming the group.
    drop(b);
    eventually("cond-b counted dead", Duration::from_secs(15), || async {
        conductors(&api).await.get("cond-b") == Some(&false)
    })
    .await;
    let uuid = owner_of.keys().next().unwrap();
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/nodes/{uuid}/states/power"),
            Some(json!({"target": "power on"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("conductor group"), "{body}");
}

#[test]
fn sqlite_is_not_split() {
    let dir = scratch("cluster-sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_ferricd"))
        .args(["--role", "api", "--data-dir"])
        .arg(dir.join("var"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("SQLite serves one process"), "{said}");
}
