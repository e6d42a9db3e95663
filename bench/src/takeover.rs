//! `ferric-takeover-bench`: Ferric as separate processes on one PostgreSQL — C
//! conductor processes and an API process — with N fake-hardware nodes all
//! deploying at once (a deploy that would take an hour, each holding its lock);
//! then `kill -9` of the first conductor, and the time until every node it held is
//! adopted by the survivors (failed with the reason, released): the detection
//! (`heartbeat_timeout` after its last heartbeat) and the adoption apart. Also
//! the RPC's round trip, p50/p99 — a conductor called directly over JSON-RPC, and
//! a node call through the API and on to its conductor — and each process's CPU
//! time and peak RSS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use ferric_bench::{conductor_args, cpu_seconds, free_port, percentile, status_kib};
use ferric_client::{Client, Method};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Conductor takeover after kill -9, and the RPC round trip")]
struct Args {
    /// An empty PostgreSQL database (ferricd creates the tables).
    #[arg(long)]
    database_url: String,
    /// Nodes, all deploying when the conductor dies.
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    /// Conductor processes.
    #[arg(long, default_value_t = 2)]
    conductors: usize,
    #[arg(long, default_value_t = 2)]
    heartbeat_interval: u64,
    #[arg(long, default_value_t = 10)]
    heartbeat_timeout: u64,
    /// Calls timed for the round-trip percentiles.
    #[arg(long, default_value_t = 2_000)]
    rpc_calls: usize,
    /// ferricd binary [default: next to this binary]
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

const SECRET: &str = "takeover-bench-shared-secret";

/// One ferricd process; killed when dropped.
struct Process {
    name: String,
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(bin: &Path, dir: &Path, name: &str, args: &Args, extra: &[String]) -> Process {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ferricd.toml");
    std::fs::write(
        &config,
        format!(
            "[conductor]\nheartbeat_interval = {}\nheartbeat_timeout = {}\nsync_power_state_interval = 0\n\
             deploy_callback_timeout = 86400\n",
            args.heartbeat_interval, args.heartbeat_timeout
        ),
    )
    .unwrap();
    let secret = dir.join("rpc-secret");
    std::fs::write(&secret, SECRET).unwrap();
    let log = std::fs::File::create(dir.join("ferricd.log")).unwrap();
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("var"))
        .arg("--database-url")
        .arg(&args.database_url)
        .arg("--rpc-secret-file")
        .arg(&secret)
        .args(["--log", "warn"])
        .args(extra)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    Process {
        name: name.to_string(),
        child,
    }
}

async fn wait_port(port: u16) {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

/// Runs `job(i)` for i in 0..n, `width` at a time.
async fn parallel<F, Fut>(n: usize, width: usize, job: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut tasks = Vec::new();
    for _ in 0..width {
        let (next, job) = (next.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                job(i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Every node's UUID, state and reservation, page by page.
async fn all_nodes(client: &Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut marker = String::new();
    loop {
        let page = client
            .request(
                Method::GET,
                &format!("/v1/nodes?fields=uuid,provision_state,reservation&limit=1000{marker}"),
                None,
            )
            .await
            .unwrap();
        let nodes = page["nodes"].as_array().cloned().unwrap_or_default();
        let last = nodes
            .last()
            .map(|n| n["uuid"].as_str().unwrap().to_string());
        out.extend(nodes);
        match (last, page.get("next")) {
            (Some(l), Some(_)) => marker = format!("&marker={l}"),
            _ => return out,
        }
    }
}

fn quantiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3
    )
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args.server_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("own path")
            .with_file_name("ferricd")
    });
    let dir = std::env::temp_dir().join(format!("ferric-takeover-bench-{}", std::process::id()));
    let mut conductors = Vec::new();
    let mut rpc_ports = Vec::new();
    for i in 0..args.conductors {
        let rpc = free_port();
        let name = format!("bench-c{i}");
        let mut extra = conductor_args(&name, rpc);
        extra.extend(["--workers".into(), (args.nodes + 100).to_string()]);
        conductors.push(spawn(&bin, &dir, &name, &args, &extra));
        wait_port(rpc).await;
        rpc_ports.push(rpc);
    }
    let port = free_port();
    let api = spawn(
        &bin,
        &dir,
        "api",
        &args,
        &[
            "--role".into(),
            "api".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ],
    );
    wait_port(port).await;
    let client = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
    println!(
        "ferric-takeover-bench: {} nodes, {} conductor processes + 1 API, heartbeat {} s / timeout {} s",
        args.nodes, args.conductors, args.heartbeat_interval, args.heartbeat_timeout
    );

    // Enroll, manage and provide every node; then deploy them all, slowly.
    let t = Instant::now();
    let uuids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.nodes]));
    let (c, u) = (client.clone(), uuids.clone());
    parallel(args.nodes, 16, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            let node = c
                .request(
                    Method::POST,
                    "/v1/nodes",
                    Some(
                        &json!({"driver": "fake-hardware", "name": format!("tb-{i}"),
                                 "driver_info": {"fake_deploy_delay": 3600}}),
                    ),
                )
                .await
                .unwrap();
            let uuid = node["uuid"].as_str().unwrap().to_string();
            for verb in ["manage", "provide"] {
                let path = format!("/v1/nodes/{uuid}/states/provision");
                loop {
                    let node = c
                        .request(Method::GET, &format!("/v1/nodes/{uuid}"), None)
                        .await
                        .unwrap();
                    if node["reservation"].is_null() && node["target_provision_state"].is_null() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                c.request(Method::PUT, &path, Some(&json!({"target": verb})))
                    .await
                    .unwrap();
            }
            u.lock().unwrap()[i] = uuid;
        }
    })
    .await;
    let uuids: Vec<String> = uuids.lock().unwrap().clone();
    let ready = |nodes: &[Value], state: &str| {
        nodes
            .iter()
            .filter(|n| n["provision_state"] == state && n["reservation"].is_null())
            .count()
    };
    while ready(&all_nodes(&client).await, "available") < args.nodes {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "enrolled, managed and provided {} nodes in {:.1} s",
        args.nodes,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (c, u) = (client.clone(), Arc::new(uuids.clone()));
    parallel(args.nodes, 16, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            c.request(
                Method::PUT,
                &format!("/v1/nodes/{}/states/provision", u[i]),
                Some(&json!({"target": "active"})),
            )
            .await
            .unwrap();
        }
    })
    .await;
    let held_by =
        |nodes: &[Value], host: &str| nodes.iter().filter(|n| n["reservation"] == host).count();
    loop {
        let nodes = all_nodes(&client).await;
        let deploying = nodes
            .iter()
            .filter(|n| n["provision_state"] == "deploying" && n["reservation"].is_string())
            .count();
        if deploying == args.nodes {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let nodes = all_nodes(&client).await;
    let victim = conductors[0].name.clone();
    let on_victim = held_by(&nodes, &victim);
    println!(
        "{} deploys under way after {:.1} s; {victim} holds {on_victim}",
        args.nodes,
        t.elapsed().as_secs_f64()
    );

    // The RPC round trip, while everything runs.
    let http = reqwest::Client::new();
    let survivor = rpc_ports[1.min(rpc_ports.len() - 1)];
    let node = uuids[0].clone();
    let mut direct = Vec::with_capacity(args.rpc_calls);
    for i in 0..args.rpc_calls {
        let started = Instant::now();
        let r: Value = http
            .post(format!("http://127.0.0.1:{survivor}/"))
            .bearer_auth(SECRET)
            .json(
                &json!({"jsonrpc": "2.0", "method": "supported_boot_devices",
                          "params": {"node": node}, "id": i}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        direct.push(started.elapsed());
        assert!(r.get("result").is_some(), "{r}");
    }
    let mut routed = Vec::with_capacity(args.rpc_calls);
    for _ in 0..args.rpc_calls {
        let started = Instant::now();
        client
            .request(
                Method::GET,
                &format!("/v1/nodes/{node}/management/boot_device/supported"),
                None,
            )
            .await
            .unwrap();
        routed.push(started.elapsed());
    }
    println!(
        "RPC round trip ({} calls each): a conductor over JSON-RPC {}; through the API to the node's conductor {}",
        args.rpc_calls,
        quantiles(direct),
        quantiles(routed)
    );

    // kill -9, then wait for the survivors to adopt what the victim held.
    let killed = Instant::now();
    let pid = conductors[0].child.id();
    let (cpu, rss) = (cpu_seconds(pid), status_kib(pid, "VmHWM:"));
    conductors[0].child.kill().unwrap();
    conductors[0].child.wait().unwrap();
    let mut first = None;
    loop {
        let nodes = all_nodes(&client).await;
        let failed = nodes
            .iter()
            .filter(|n| n["provision_state"] == "deploy failed")
            .count();
        if failed > 0 && first.is_none() {
            first = Some(killed.elapsed());
        }
        if held_by(&nodes, &victim) == 0 && failed >= on_victim {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let done = killed.elapsed();
    let first = first.unwrap_or(done);
    println!(
        "takeover of {on_victim} nodes after kill -9: first adopted {:.1} s after the kill (detection: timeout {} s past its last heartbeat), all {:.1} s after ({:.1} s adopting, {:.0} nodes/s)",
        first.as_secs_f64(),
        args.heartbeat_timeout,
        done.as_secs_f64(),
        (done - first).as_secs_f64(),
        on_victim as f64 / (done - first).as_secs_f64().max(0.001)
    );
    println!(
        "{victim} (killed): CPU {cpu:.1} s, peak RSS {} MiB",
        rss / 1024
    );
    for p in conductors.iter().skip(1).chain(std::iter::once(&api)) {
        let pid = p.child.id();
        println!(
            "{}: CPU {:.1} s, peak RSS {} MiB",
            p.name,
            cpu_seconds(pid),
            status_kib(pid, "VmHWM:") / 1024
        );
    }
    drop(conductors);
    drop(api);
    let _ = std::fs::remove_dir_all(&dir);
}
