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
use support::{cluster, free_port, postgres_url, scratch, Ferric};

/// Fast membership, so the test sees a death in seconds.
const HEARTBEATS: &str = "heartbeat_interval = 1\nheartbeat_timeout = 4\n";

/// A conductor process with the test's fast heartbeats.
async fn conductor(dir: &Path, db: &str, host: &str) -> (Ferric, u16) {
    cluster::conductor(dir, db, host, &format!("[conductor]\n{HEARTBEATS}")).await
}

/// The API process, with the same heartbeat settings.
async fn api_only(dir: &Path, db: &str) -> Ferric {
    cluster::api_only(dir, db, "api", &format!("[conductor]\n{HEARTBEATS}")).await
}

/// The conductor each node belongs to, as the API shows it.
async fn owners(api: &Ferric) -> Vec<String> {
    let list = get(api, "/nodes?fields=uuid,conductor").await;
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["conductor"].as_str().unwrap_or_default().to_string())
        .collect()
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
    let api = api_only(&dir, &db).await;
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
        // Its `/metrics` is: a conductor-only process has no other listener.
        let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains("# TYPE ferric_conductor_workers gauge\n"),
            "{text}"
        );
    }

    // Nodes managed and deployed through the API run on their owners: twelve, and
    // more until both conductors own some (UUIDs fall on the ring at random).
    let mut owner_of = BTreeMap::new();
    for i in 0..40 {
        let owners: std::collections::BTreeSet<&String> = owner_of.values().collect();
        if i >= 12 && owners.len() == 2 {
            break;
        }
        let (status, node) = api
            .call(
                Method::POST,
                "/nodes",
                Some(json!({"driver": "fake-hardware", "name": format!("n{i}")})),
            )
            .await;
        assert_eq!(status, 201, "{node}");
        let uuid = node["uuid"].as_str().unwrap().to_string();
        for (verb, rest) in [("manage", "manageable"), ("provide", "available")] {
            api.provision(&uuid, verb).await;
            api.wait_for(&uuid, &[rest], Duration::from_secs(60)).await;
        }
        // The deploy under a request id of the caller's, to find in the owner's log.
        api.provision_as(&uuid, "active", &format!("req-{uuid}"))
            .await;
        api.wait_for(&uuid, &["active"], Duration::from_secs(60))
            .await;
        let shown = api.node(&uuid).await;
        owner_of.insert(uuid, shown["conductor"].as_str().unwrap().to_string());
    }
    let distinct: std::collections::BTreeSet<&String> = owner_of.values().collect();
    assert_eq!(distinct.len(), 2, "both conductors own nodes: {owner_of:?}");
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

    // The request id crossed the RPC: the owner's lines for the deploy carry it.
    let logs = BTreeMap::from([
        ("cond-a", std::fs::read_to_string(&a.log).unwrap()),
        ("cond-b", std::fs::read_to_string(&b.log).unwrap()),
    ]);
    for (uuid, owner) in &owner_of {
        let id = format!("req-{uuid}");
        assert!(
            logs[owner.as_str()]
                .lines()
                .any(|l| l.contains(&id) && l.contains("provision state change")),
            "no line of {owner} carries {id}"
        );
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
        || async { owners(&api).await.iter().all(|o| o == "cond-b") },
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

async fn create_node(api: &Ferric, name: &str, driver_info: Value) -> String {
    let (status, node) = api
        .call(
            Method::POST,
            "/nodes",
            Some(json!({"driver": "fake-hardware", "name": name, "driver_info": driver_info})),
        )
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    for (verb, rest) in [("manage", "manageable"), ("provide", "available")] {
        api.provision(&uuid, verb).await;
        api.wait_for(&uuid, &[rest], Duration::from_secs(60)).await;
    }
    uuid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_conductors_nodes_are_adopted() {
    let dir = scratch("cluster-takeover");
    let db = postgres_url();
    let (mut a, _) = conductor(&dir, &db, "cond-a").await;
    let (_b, _) = conductor(&dir, &db, "cond-b").await;
    let api = api_only(&dir, &db).await;

    // Nodes until cond-a owns two slow deploys and one that will wait for its
    // agent; cond-b owns a slow one too.
    let (mut slow, mut waiting, mut slow_b) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..40 {
        if slow.len() >= 2 && !waiting.is_empty() && !slow_b.is_empty() {
            break;
        }
        let want_wait = slow.len() >= 2 && waiting.is_empty();
        let info = if want_wait {
            json!({"fake_wait_deploy": true})
        } else {
            json!({"fake_deploy_delay": 120})
        };
        let uuid = create_node(&api, &format!("t{i}"), info).await;
        let owner = api.node(&uuid).await["conductor"]
            .as_str()
            .unwrap()
            .to_string();
        match (owner.as_str(), want_wait) {
            ("cond-a", true) => waiting.push(uuid),
            ("cond-a", false) => slow.push(uuid),
            ("cond-b", false) if slow_b.is_empty() => slow_b.push(uuid),
            _ => {}
        }
    }
    assert!(slow.len() >= 2 && !waiting.is_empty() && !slow_b.is_empty());
    for uuid in slow.iter().chain(&waiting).chain(&slow_b) {
        api.provision(uuid, "active").await;
    }
    for uuid in slow.iter().chain(&slow_b) {
        eventually(
            "the slow deploy under way",
            Duration::from_secs(20),
            || async {
                let n = api.node(uuid).await;
                n["provision_state"] == "deploying" && !n["reservation"].is_null()
            },
        )
        .await;
    }
    for uuid in &waiting {
        api.wait_for(uuid, &["wait call-back"], Duration::from_secs(20))
            .await;
    }

    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let killed = Instant::now();
    for uuid in &slow {
        let node = api
            .wait_for(uuid, &["deploy failed"], Duration::from_secs(30))
            .await;
        let why = node["last_error"].as_str().unwrap_or_default();
        assert!(
            why.contains("cond-a") && why.contains("cond-b took over"),
            "{why}"
        );
    }
    let adopted_after = killed.elapsed();
    // Dead after heartbeat_timeout (4 s) past its last heartbeat (≤ 1 s before the
    // kill), adopted within two heartbeat intervals (2 s) of that.
    assert!(
        adopted_after < Duration::from_secs(7),
        "adopted {adopted_after:?} after the kill"
    );
    // cond-b's own work goes on; the waiting node keeps waiting for its agent.
    let b_node = api.node(&slow_b[0]).await;
    assert_eq!(b_node["provision_state"], "deploying", "{b_node}");
    assert_eq!(b_node["reservation"], "cond-b");
    let w = api.node(&waiting[0]).await;
    assert_eq!(w["provision_state"], "wait call-back", "{w}");

    // Each failed node deploys again, on its new owner.
    for uuid in &slow {
        let (status, body) = api
            .call(
                Method::PATCH,
                &format!("/nodes/{uuid}"),
                Some(json!([{"op": "remove", "path": "/driver_info/fake_deploy_delay"}])),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        api.provision(uuid, "active").await;
        api.wait_for(uuid, &["active"], Duration::from_secs(30))
            .await;
    }

    // cond-a comes back and takes its share of the ring again.
    let (_a2, _) = conductor(&dir, &db, "cond-a").await;
    eventually(
        "cond-a back in the ring",
        Duration::from_secs(10),
        || async { conductors(&api).await.get("cond-a") == Some(&true) },
    )
    .await;
    eventually(
        "cond-a owning nodes again",
        Duration::from_secs(10),
        || async { owners(&api).await.iter().any(|o| o == "cond-a") },
    )
    .await;
    let list = get(&api, "/nodes?fields=uuid,reservation").await;
    assert!(
        list["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["reservation"] != "cond-a"),
        "{list}"
    );
    eprintln!("takeover: slow deploys of the killed conductor failed over {adopted_after:?} after kill -9");
}

fn signal(f: &Ferric, name: &str) {
    let ok = Command::new("kill")
        .args([format!("-{name}"), f.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

async fn exits_within(f: &mut Ferric, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if f.child.try_wait().unwrap().is_some() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "ferricd still runs {limit:?} after the signal:\n{}",
            support::tail(&f.log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_conductor_finishes_its_work_a_stopping_one_hands_it_back() {
    let dir = scratch("cluster-drain");
    let db = postgres_url();
    let extra = format!("[conductor]\n{HEARTBEATS}graceful_shutdown_timeout = 1\n");
    let start = |host: &'static str| {
        let (dir, db, extra) = (dir.clone(), db.clone(), extra.clone());
        async move { cluster::conductor(&dir, &db, host, &extra).await.0 }
    };
    let mut d = start("cond-d").await;
    let api = api_only(&dir, &db).await;

    // SIGUSR2: the deploy under way finishes, then the conductor leaves.
    let quick = create_node(&api, "quick", json!({"fake_deploy_delay": 3})).await;
    api.provision(&quick, "active").await;
    eventually("the deploy under way", Duration::from_secs(10), || async {
        api.node(&quick).await["provision_state"] == "deploying"
    })
    .await;
    signal(&d, "USR2");
    eventually("cond-d out of the ring", Duration::from_secs(5), || async {
        conductors(&api).await.get("cond-d") == Some(&false)
    })
    .await;
    let took = exits_within(&mut d, Duration::from_secs(20)).await;
    let node = api.node(&quick).await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert!(node["reservation"].is_null());
    eprintln!("drain: cond-d finished a 3 s deploy and exited {took:?} after SIGUSR2");

    // SIGTERM with graceful_shutdown_timeout = 1: a 2-minute deploy is handed
    // back — failed with the reason, released — and the process exits.
    let mut e = start("cond-e").await;
    let slow = create_node(&api, "slow", json!({"fake_deploy_delay": 120})).await;
    api.provision(&slow, "active").await;
    eventually(
        "the slow deploy under way",
        Duration::from_secs(10),
        || async { !api.node(&slow).await["reservation"].is_null() },
    )
    .await;
    signal(&e, "TERM");
    let took = exits_within(&mut e, Duration::from_secs(10)).await;
    let node = api
        .wait_for(&slow, &["deploy failed"], Duration::from_secs(5))
        .await;
    assert!(
        node["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("Conductor cond-e stopped"),
        "{node}"
    );
    eprintln!("stop: cond-e handed back a running deploy and exited {took:?} after SIGTERM");

    // A drain (up to 30 minutes by default) cut short by a second request.
    let mut f = start("cond-f").await;
    let long = create_node(&api, "long", json!({"fake_deploy_delay": 120})).await;
    api.provision(&long, "active").await;
    eventually(
        "the long deploy under way",
        Duration::from_secs(10),
        || async { !api.node(&long).await["reservation"].is_null() },
    )
    .await;
    signal(&f, "USR2");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(f.child.try_wait().unwrap().is_none(), "it drains");
    signal(&f, "TERM");
    exits_within(&mut f, Duration::from_secs(10)).await;
    let node = api
        .wait_for(&long, &["deploy failed"], Duration::from_secs(5))
        .await;
    assert!(
        node["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("Conductor cond-f stopped"),
        "{node}"
    );
}

/// Two all-in-one processes on one PostgreSQL, each with its network API.
async fn twin(dir: &Path, db: &str, host: &str) -> (Ferric, String) {
    let net = free_port();
    let dir = dir.join(host);
    std::fs::create_dir_all(&dir).unwrap();
    let f = Ferric::start_with(
        &dir,
        Some(db.to_string()),
        "",
        &[
            "--host".into(),
            host.into(),
            "--network-api-listen".into(),
            format!("127.0.0.1:{net}"),
        ],
    )
    .await;
    (f, format!("http://127.0.0.1:{net}/v2.0"))
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = http
        .post(url)
        .header("X-OpenStack-Ironic-API-Version", "1.89")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One of the two answers is 201, the other 409 with `fault`.
fn one_winner(what: &str, answers: [(u16, Value); 2], fault: &str) {
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{what}: {answers:?}");
    let lost = answers.iter().find(|a| a.0 == 409).unwrap();
    assert!(lost.1.to_string().contains(fault), "{what}: {}", lost.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_processes_get_one_winner() {
    let dir = scratch("cluster-race");
    let db = postgres_url();
    let (one, net1) = twin(&dir, &db, "twin-1").await;
    let (two, net2) = twin(&dir, &db, "twin-2").await;
    let http = reqwest::Client::new();
    let (_, subnet_net) = post(
        &http,
        format!("{net1}/networks"),
        json!({"network": {"name": "racers", "provider:network_type": "vlan",
               "provider:physical_network": "physnet1", "provider:segmentation_id": 299}}),
    )
    .await;
    let network_id = subnet_net["network"]["id"].clone();
    let (status, body) = post(
        &http,
        format!("{net2}/subnets"),
        json!({"subnet": {"network_id": network_id, "ip_version": 4, "cidr": "10.9.0.0/24"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for round in 0..5u16 {
        let vlan = |url: &String| {
            post(
                &http,
                format!("{url}/networks"),
                json!({"network": {"name": format!("v{round}"), "provider:network_type": "vlan",
                       "provider:physical_network": "physnet1", "provider:segmentation_id": 300 + round}}),
            )
        };
        let (a, b) = tokio::join!(vlan(&net1), vlan(&net2));
        one_winner("a VLAN", [a, b], "SegmentationIdInUse");

        let ip = |url: &String| {
            post(
                &http,
                format!("{url}/ports"),
                json!({"port": {"network_id": network_id,
                       "fixed_ips": [{"ip_address": format!("10.9.0.{}", 50 + round)}]}}),
            )
        };
        let (a, b) = tokio::join!(ip(&net1), ip(&net2));
        one_winner("a fixed IP", [a, b], "IpAddressAlreadyAllocated");

        let node = |api: &Ferric| {
            post(
                &http,
                format!("{}/v1/nodes", api.api),
                json!({"driver": "fake-hardware", "name": format!("racer-{round}")}),
            )
        };
        let (a, b) = tokio::join!(node(&one), node(&two));
        one_winner("a node name", [a, b], "already exists");
    }

    // Addresses picked automatically by both at once: all given, none twice.
    let auto = |url: String| {
        let (http, network_id) = (http.clone(), network_id.clone());
        async move {
            post(
                &http,
                format!("{url}/ports"),
                json!({"port": {"network_id": network_id}}),
            )
            .await
        }
    };
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = if i % 2 == 0 {
            net1.clone()
        } else {
            net2.clone()
        };
        tasks.push(tokio::spawn(auto(url)));
    }
    let mut addresses = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        let ip = body["port"]["fixed_ips"][0]["ip_address"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(addresses.insert(ip.clone()), "{ip} handed out twice");
    }
    assert_eq!(addresses.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_with_drain_fails_no_deploy() {
    let dir = scratch("cluster-rolling");
    let db = postgres_url();
    let hosts = ["roll-1", "roll-2", "roll-3"];
    let mut processes = Vec::new();
    for h in hosts {
        processes.push(conductor(&dir, &db, h).await.0);
    }
    let api = api_only(&dir, &db).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut cyclers = Vec::new();
    for i in 0..6 {
        let uuid = create_node(&api, &format!("r{i}"), json!({"fake_deploy_delay": 1})).await;
        cyclers.push(tokio::spawn(cluster::cycle(
            api.api.clone(),
            uuid,
            None,
            stop.clone(),
        )));
    }
    // Each conductor in turn drains (SIGUSR2), exits, and starts again.
    for (i, host) in hosts.iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        signal(&processes[i], "USR2");
        exits_within(&mut processes[i], Duration::from_secs(30)).await;
        processes[i] = conductor(&dir, &db, host).await.0;
        eventually(
            "the restarted conductor alive",
            Duration::from_secs(10),
            || async { conductors(&api).await.get(*host) == Some(&true) },
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for c in cyclers {
        let (cycles, failures) = c.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
        total += cycles;
    }
    assert!(total >= 6, "only {total} deploy cycles ran");
    eprintln!("rolling restart: {total} deploy/undeploy cycles across three drains, none failed");
}
