//! Ferric scaled out over a simulated rack: two API processes and three conductor
//! processes on one PostgreSQL, 300 simulated machines (each a Redfish BMC whose
//! power-on network-boots an in-process agent; `ferric_sim`). 100 of them deploy
//! at once through both APIs (a tenth of the BMCs answer slowly, so some deploys
//! hold their lock for seconds); one conductor is killed with `kill -9` while
//! they are in flight, some of them locked by it. Its nodes are adopted within two heartbeat intervals of its
//! death being detectable; every deploy ends `active`, or `deploy failed` naming
//! the dead conductor, and each failed one deploys again; no reservation is left;
//! the killed conductor comes back and owns its share of the ring again. Then a
//! rolling restart with drain of every conductor while 20 machines deploy and
//! undeploy without pause: no deploy fails.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferric_sim::{Rack, RackConfig};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use support::{cluster, image_bytes, postgres_url, scratch, serve_images, sha256_hex, Ferric};

const MACHINES: usize = 300;
const DEPLOYS: usize = 100;
const INTERVAL: u64 = 2;
const TIMEOUT: u64 = 8;

/// The rack's agents serve plain http.
const PLAIN_AGENTS: &str = "[agent]\nrequire_tls = false\n";

/// The conductors' settings: membership, patient callbacks (300 machines share
/// two cores with five ferricds), and where agents reach the API.
fn conductor_config(api: &str) -> String {
    format!(
        "[conductor]\nheartbeat_interval = {INTERVAL}\nheartbeat_timeout = {TIMEOUT}\n\
         deploy_callback_timeout = 600\nclean_callback_timeout = 600\n\
         [deploy]\nhttp_url = \"{api}\"\n{PLAIN_AGENTS}"
    )
}

/// Every node's fields that matter here, by UUID.
async fn nodes(api: &Ferric) -> BTreeMap<String, Value> {
    let (status, body) = api
        .call(
            Method::GET,
            "/nodes?fields=uuid,provision_state,reservation,last_error,conductor&limit=1000",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["uuid"].as_str().unwrap().to_string(), n.clone()))
        .collect()
}

/// Runs `call` for each item, 16 at a time; the results in the items' order.
async fn each<T, R, F, Fut>(items: Vec<T>, call: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    futures_util::stream::iter(items)
        .map(call)
        .buffered(16)
        .collect()
        .await
}

/// Issues `verb` to every node of `uuids`, spread over the APIs.
async fn provision_all(apis: &[&Ferric], uuids: &[String], verb: &str) {
    let work = uuids.iter().cloned().enumerate().collect();
    each(work, |(i, uuid)| async move {
        apis[i % apis.len()].provision(&uuid, verb).await;
    })
    .await;
}

/// Waits until every node of `uuids` rests (unlocked) in one of `states`.
async fn settle(
    api: &Ferric,
    uuids: &[String],
    states: &[&str],
    limit: Duration,
) -> BTreeMap<String, Value> {
    let deadline = Instant::now() + limit;
    loop {
        let all = nodes(api).await;
        let pending: Vec<&Value> = uuids
            .iter()
            .map(|u| &all[u])
            .filter(|n| {
                !states.contains(&n["provision_state"].as_str().unwrap_or_default())
                    || !n["reservation"].is_null()
            })
            .collect();
        if pending.is_empty() {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "{} nodes not in {states:?} after {limit:?}, e.g. {}",
            pending.len(),
            pending[0]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn start_conductor(dir: &Path, db: &str, host: &str, api: &str) -> Ferric {
    cluster::conductor(dir, db, host, &conductor_config(api))
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rack_deploys_through_a_conductor_killed_mid_flight() {
    let dir = scratch("cluster-rack");
    // What the rack's agents say, for a look when the test fails.
    let log = std::fs::File::create(dir.join("rack.log")).unwrap();
    let _ = tracing_subscriber::fmt()
        .with_env_filter("ferric_agent=info,ferric_sim=info")
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(log))
        .try_init();
    let db = postgres_url();
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(images.join("disk.raw"), image_bytes(1 << 20, 3)).unwrap();
    let sha = sha256_hex(&images.join("disk.raw"));
    let (origin, _, _) = serve_images(images.clone()).await;

    let api_a = cluster::api_only(&dir, &db, "api-a", PLAIN_AGENTS).await;
    let api_b = cluster::api_only(&dir, &db, "api-b", PLAIN_AGENTS).await;
    let hosts = ["rack-c1", "rack-c2", "rack-c3"];
    let mut conductors = Vec::new();
    for host in hosts {
        conductors.push(start_conductor(&dir, &db, host, &api_a.api).await);
    }
    let mut rack_config = RackConfig::new(MACHINES, dir.join("rack"), &api_a.api);
    rack_config.disk_size = 64 << 20;
    rack_config.nics = 1;
    // A tenth of the BMCs answer after 4 s, so deploys hold their node's lock
    // for a while: some are mid-operation when the conductor dies.
    rack_config.faults.bmc_timeout = 0.1;
    rack_config.faults.bmc_timeout_after = Duration::from_secs(4);
    let rack = Arc::new(Rack::start(rack_config).await.expect("rack"));
    let apis = [&api_a, &api_b];

    // Enrolled through both APIs; cleaning is off for these nodes (not the point).
    let uuids: Vec<String> = each((0..MACHINES).collect(), |i| {
        let rack = rack.clone();
        async move {
            let api = apis[i % 2];
            let mut doc = rack.node_document(i);
            doc["automated_clean"] = json!(false);
            let (status, node) = api.call(Method::POST, "/nodes", Some(doc)).await;
            assert_eq!(status, 201, "{node}");
            let uuid = node["uuid"].as_str().unwrap().to_string();
            let (status, port) = api
                .call(Method::POST, "/ports", Some(rack.port_document(i, &uuid)))
                .await;
            assert_eq!(status, 201, "{port}");
            uuid
        }
    })
    .await;
    provision_all(&apis, &uuids, "manage").await;
    settle(&api_a, &uuids, &["manageable"], Duration::from_secs(120)).await;
    provision_all(&apis, &uuids, "provide").await;
    settle(&api_a, &uuids, &["available"], Duration::from_secs(120)).await;

    let deploying = &uuids[..DEPLOYS];
    let image = json!([
        {"op": "add", "path": "/instance_info/image_source", "value": format!("http://127.0.0.1:{origin}/disk.raw")},
        {"op": "add", "path": "/instance_info/image_disk_format", "value": "raw"},
        {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
        {"op": "add", "path": "/instance_info/image_os_hash_value", "value": sha},
    ]);
    let api = &api_b;
    each(deploying.to_vec(), |uuid| {
        let image = image.clone();
        async move {
            let (status, body) = api
                .call(Method::PATCH, &format!("/nodes/{uuid}"), Some(image))
                .await;
            assert_eq!(status, 200, "{body}");
        }
    })
    .await;
    provision_all(&apis, deploying, "active").await;

    // The victim: the conductor with the most of these deploys; killed while they
    // are in flight (some already waiting on their agents).
    let owners = nodes(&api_a).await;
    let count = |host: &str| {
        deploying
            .iter()
            .filter(|u| owners[*u]["conductor"] == host)
            .count()
    };
    let victim = hosts.iter().copied().max_by_key(|h| count(h)).unwrap();
    let victims = count(victim);
    let in_flight = |all: &BTreeMap<String, Value>| {
        deploying
            .iter()
            .filter(|u| {
                let s = all[*u]["provision_state"].as_str().unwrap_or_default();
                s == "deploying" || s == "wait call-back"
            })
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = nodes(&api_a).await;
        let locked = deploying
            .iter()
            .filter(|u| {
                all[*u]["provision_state"] == "deploying" && all[*u]["reservation"] == victim
            })
            .count();
        if locked > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{victim} never held a deploy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let index = hosts.iter().position(|h| *h == victim).unwrap();
    let at_kill = nodes(&api_a).await;
    let held: Vec<String> = deploying
        .iter()
        .filter(|u| at_kill[*u]["reservation"] == victim)
        .cloned()
        .collect();
    conductors[index].child.kill().unwrap();
    conductors[index].child.wait().unwrap();
    let killed = Instant::now();
    eprintln!(
        "rack: killed {victim} (owner of {victims} deploys) with {} in flight, {} of them locked by it",
        in_flight(&at_kill),
        held.len()
    );

    // Adopted: nothing stays reserved by the dead conductor.
    let adopted = loop {
        let all = nodes(&api_a).await;
        if all.values().all(|n| n["reservation"] != victim) {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "{victim}'s reservations never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Dead at heartbeat_timeout past its last heartbeat (at most an interval
    // before the kill), adopted within two intervals of that; 2 s for a loaded
    // machine and this poll.
    assert!(
        adopted <= Duration::from_secs(TIMEOUT + 2 * INTERVAL + 2),
        "adopted {adopted:?} after the kill"
    );

    let done = settle(
        &api_a,
        deploying,
        &["active", "deploy failed"],
        Duration::from_secs(300),
    )
    .await;
    let failed: Vec<String> = deploying
        .iter()
        .filter(|u| done[*u]["provision_state"] == "deploy failed")
        .cloned()
        .collect();
    for uuid in &failed {
        let why = done[uuid]["last_error"].as_str().unwrap_or_default();
        assert!(
            why.contains(victim),
            "{uuid} failed for another reason: {why}"
        );
    }
    assert!(
        !failed.is_empty(),
        "none of the {} deploys {victim} held failed with it",
        held.len()
    );
    provision_all(&apis, &failed, "active").await;
    let all = settle(&api_a, deploying, &["active"], Duration::from_secs(300)).await;
    assert!(
        all.values().all(|n| n["reservation"].is_null()),
        "reservations left"
    );
    let booted = (0..DEPLOYS)
        .filter(|i| rack.machines[*i].running() == ferric_sim::Running::Image)
        .count();
    assert_eq!(booted, DEPLOYS, "every deployed machine boots its image");

    // The killed conductor comes back and takes its share of the ring.
    conductors[index] = start_conductor(&dir, &db, victim, &api_a.api).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = nodes(&api_a).await;
        if all.values().any(|n| n["conductor"] == victim) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{victim} never owned nodes again"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "rack: {victim}'s nodes adopted {adopted:?} after kill -9; {} of {DEPLOYS} deploys failed with it and deployed again, the rest went on",
        failed.len()
    );

    // A rolling restart: each conductor in turn drains (SIGUSR2), exits and
    // starts again, while machines deploy and undeploy over and over.
    let stop = Arc::new(AtomicBool::new(false));
    let mut cyclers = Vec::new();
    for uuid in &uuids[DEPLOYS..DEPLOYS + CYCLING] {
        let (api, uuid, image, stop) =
            (api_b.api.clone(), uuid.clone(), image.clone(), stop.clone());
        cyclers.push(tokio::spawn(cluster::cycle(api, uuid, Some(image), stop)));
    }
    for (i, host) in hosts.iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let drained = Command::new("kill")
            .args(["-USR2", &conductors[i].child.id().to_string()])
            .status()
            .unwrap();
        assert!(drained.success());
        let deadline = Instant::now() + Duration::from_secs(120);
        while conductors[i].child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{host} did not finish draining");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        conductors[i] = start_conductor(&dir, &db, host, &api_a.api).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for c in cyclers {
        let (cycles, failures) = c.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
        total += cycles;
    }
    assert!(total >= CYCLING, "only {total} deploy cycles ran");
    eprintln!("rack: {total} deploy/undeploy cycles across three drains and restarts, none failed");
}

/// Machines deploying and undeploying over and over in the rolling restart.
const CYCLING: usize = 20;
