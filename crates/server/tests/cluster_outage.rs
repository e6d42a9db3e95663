//! No false takeover: two conductor processes and an API on a PostgreSQL of the
//! test's own, deploys under way on both conductors, then the database stopped for
//! twice the heartbeat timeout and started again. Every conductor's row looks
//! stale when it comes back — yet no node changes hands: the deploys under way
//! finish on the conductors that started them, no node fails, nothing stays
//! locked, heartbeats resume and the connections come back by themselves.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::{cluster, free_port, scratch, Ferric};

const HEARTBEATS: &str = "heartbeat_interval = 1\nheartbeat_timeout = 4\n";

/// A PostgreSQL server of this test's own (lab/postgres.sh), on its own port.
struct Postgres {
    dir: PathBuf,
    port: u16,
}

impl Postgres {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/postgres.sh")
    }

    fn run(&self, verb: &str) {
        let out = Command::new("bash")
            .arg(Self::script())
            .args([verb, self.dir.to_str().unwrap()])
            .env("FERRIC_PG_PORT", self.port.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres.sh {verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(dir: PathBuf) -> Postgres {
        let pg = Postgres {
            dir,
            port: free_port(),
        };
        pg.run("start");
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/ferric", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script())
            .args(["stop", self.dir.to_str().unwrap()])
            .env("FERRIC_PG_PORT", self.port.to_string())
            .output();
    }
}

async fn conductor(dir: &Path, db: &str, host: &str) -> Ferric {
    cluster::conductor(dir, db, host, &format!("[conductor]\n{HEARTBEATS}"))
        .await
        .0
}

/// The node's state, reservation and last error; `None` while the API cannot
/// answer (its database is down).
async fn look(api: &Ferric, uuid: &str) -> Option<(String, Value, Value)> {
    let (status, n) = api.call(Method::GET, &format!("/nodes/{uuid}"), None).await;
    (status == 200).then(|| {
        (
            n["provision_state"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            n["reservation"].clone(),
            n["last_error"].clone(),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_moves_no_node() {
    let dir = scratch("cluster-outage");
    let pg = Postgres::start(dir.join("pg"));
    let db = pg.url();
    let _a = conductor(&dir, &db, "cond-a").await;
    let _b = conductor(&dir, &db, "cond-b").await;
    let api = cluster::api_only(&dir, &db, "api", &format!("[conductor]\n{HEARTBEATS}")).await;

    // Deploys that outlast the outage, at least two on each conductor (UUIDs
    // fall on the ring at random: enroll until both have their share).
    let mut nodes = Vec::new();
    let mut per_owner = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..40 {
        if per_owner.len() == 2 && per_owner.values().all(|n| *n >= 2) {
            break;
        }
        let (status, node) = api
            .call(
                Method::POST,
                "/nodes",
                Some(json!({"driver": "fake-hardware", "name": format!("o{i}"),
                            "driver_info": {"fake_deploy_delay": 14}})),
            )
            .await;
        assert_eq!(status, 201, "{node}");
        let uuid = node["uuid"].as_str().unwrap().to_string();
        for (verb, rest) in [("manage", "manageable"), ("provide", "available")] {
            api.provision(&uuid, verb).await;
            api.wait_for(&uuid, &[rest], Duration::from_secs(30)).await;
        }
        let owner = api.node(&uuid).await["conductor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *per_owner.entry(owner).or_default() += 1;
        nodes.push(uuid);
    }
    for uuid in &nodes {
        api.provision(uuid, "active").await;
    }
    let mut holders = Vec::new();
    for uuid in &nodes {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (state, holder, _) = look(&api, uuid).await.unwrap();
            if state == "deploying" && holder.is_string() {
                holders.push(holder);
                break;
            }
            assert!(Instant::now() < deadline, "{uuid} never started deploying");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(holders.iter().any(|h| h == "cond-a") && holders.iter().any(|h| h == "cond-b"));

    // Twice the heartbeat timeout without a database.
    pg.run("stop");
    tokio::time::sleep(Duration::from_secs(8)).await;
    pg.run("start");

    // Every deploy finishes on the conductor that started it; none fails.
    for (uuid, holder) in nodes.iter().zip(&holders) {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some((state, now_holder, error)) = look(&api, uuid).await {
                assert_ne!(state, "deploy failed", "{uuid}: {error}");
                if state == "active" && now_holder.is_null() {
                    break;
                }
                if !now_holder.is_null() {
                    assert_eq!(&now_holder, holder, "{uuid} changed hands");
                }
            }
            assert!(
                Instant::now() < deadline,
                "{uuid} did not finish:\n{}",
                support::tail(&api.log)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let history = api
            .call(
                Method::GET,
                &format!("/nodes/{uuid}/history?detail=true"),
                None,
            )
            .await
            .1;
        assert!(
            !history.to_string().contains("took over"),
            "{uuid}: {history}"
        );
    }
    // Heartbeats resumed: both conductors alive again.
    let conductors: Value = api
        .http
        .get(format!("{}/v1/conductors", api.api))
        .header("X-OpenStack-Ironic-API-Version", "1.49")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for c in conductors["conductors"].as_array().unwrap() {
        assert_eq!(c["alive"], true, "{conductors}");
    }
}
