//! No false takeover: two conductor processes and an API on a PostgreSQL of the
//! test's own, deploys and cleanings under way on both conductors, then the
//! database stopped for 40 s — more than twice the heartbeat timeout — and
//! started again.
//! Every conductor's row looks stale when it comes back — yet no node changes
//! hands: the work under way finishes on the conductors that started it (some of
//! it finished while the database was away, and its outcome is saved once it is
//! back), no node fails, nothing stays locked, each node's history records how
//! its work ended, heartbeats resume and the connections come back by themselves.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::{cluster, free_port, scratch, Ferric};

const HEARTBEATS: &str = "heartbeat_interval = 5\nheartbeat_timeout = 15\n";
/// Longer than the 30 s a query waits for a connection: work that ends early in
/// the outage has its save refused, and must try again until the database is back.
const OUTAGE: Duration = Duration::from_secs(40);

/// What a node of the test does while the database goes away: deploy or clean,
/// finishing during the outage or after it (seconds of fake work per step).
const KINDS: [(&str, &str, u64); 4] = [
    ("deploy", "fake_deploy_delay", 4),
    ("deploy", "fake_deploy_delay", 50),
    ("clean", "fake_clean_delay", 4),
    ("clean", "fake_clean_delay", 50),
];

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

    // Until each conductor owns a node of each kind (UUIDs fall on the ring at
    // random): enrolled and managed; deploying ones provided too.
    let mut work: Vec<(String, usize)> = Vec::new();
    let mut taken = std::collections::BTreeSet::<(String, usize)>::new();
    for i in 0..80 {
        if taken.len() == 2 * KINDS.len() {
            break;
        }
        let (status, node) = api
            .call(
                Method::POST,
                "/nodes",
                Some(json!({"driver": "fake-hardware", "name": format!("o{i}")})),
            )
            .await;
        assert_eq!(status, 201, "{node}");
        let uuid = node["uuid"].as_str().unwrap().to_string();
        api.provision(&uuid, "manage").await;
        api.wait_for(&uuid, &["manageable"], Duration::from_secs(30))
            .await;
        let owner = api.node(&uuid).await["conductor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(kind) = (0..KINDS.len()).find(|k| !taken.contains(&(owner.clone(), *k))) else {
            continue;
        };
        taken.insert((owner, kind));
        let (what, key, delay) = KINDS[kind];
        let (status, body) = api
            .call(
                Method::PATCH,
                &format!("/nodes/{uuid}"),
                Some(json!([{"op": "add", "path": format!("/driver_info/{key}"), "value": delay}])),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        if what == "deploy" {
            api.provision(&uuid, "provide").await;
            api.wait_for(&uuid, &["available"], Duration::from_secs(30))
                .await;
        }
        work.push((uuid, kind));
    }
    assert_eq!(taken.len(), 2 * KINDS.len(), "{taken:?}");
    for (uuid, kind) in &work {
        let verb = if KINDS[*kind].0 == "deploy" {
            "active"
        } else {
            "provide"
        };
        api.provision(uuid, verb).await;
    }
    let mut holders = Vec::new();
    for (uuid, kind) in &work {
        let busy = if KINDS[*kind].0 == "deploy" {
            "deploying"
        } else {
            "cleaning"
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (state, holder, _) = look(&api, uuid).await.unwrap();
            if state == busy && holder.is_string() {
                holders.push(holder);
                break;
            }
            assert!(Instant::now() < deadline, "{uuid} never started its work");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pg.run("stop");
    tokio::time::sleep(OUTAGE).await;
    pg.run("start");

    // All the work finishes on the conductor that started it; none fails, and
    // the end of each is in the node's history.
    for ((uuid, kind), holder) in work.iter().zip(&holders) {
        let (what, rest) = match KINDS[*kind].0 {
            "deploy" => ("deploy", "active"),
            _ => ("clean", "available"),
        };
        let deadline = Instant::now() + Duration::from_secs(150);
        loop {
            if let Some((state, now_holder, error)) = look(&api, uuid).await {
                assert!(
                    !state.contains("failed"),
                    "{what} of {uuid}: {state}: {error}"
                );
                if state == rest && now_holder.is_null() {
                    break;
                }
                if !now_holder.is_null() {
                    assert_eq!(&now_holder, holder, "{uuid} changed hands");
                }
            }
            assert!(
                Instant::now() < deadline,
                "{what} of {uuid} did not finish:\n{}",
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
            .1
            .to_string();
        assert!(!history.contains("took over"), "{uuid}: {history}");
        assert!(
            history.contains(&format!("to \\\"{rest}\\\"")),
            "{uuid}: the end of its {what} is not in its history: {history}"
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
