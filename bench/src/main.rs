//! `ferric-bench`: starts a ferricd (SQLite in a fresh directory, or a given
//! PostgreSQL database), creates N nodes, then a port for each, patches each node once,
//! reads single nodes at a fixed concurrency for a fixed time, lists every node in
//! detail, deletes them all, and prints the rates, latencies and the server's memory.
//! All traffic stays on loopback.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use ferric_bench::{percentile, status_kib, Server};
use ferric_client::{Client, Method};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Load benchmark of ferricd's API")]
struct Args {
    /// ferricd binary [default: next to this binary]
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL URL of an empty database; SQLite in a temporary directory when absent
    #[arg(long)]
    database_url: Option<String>,
    /// Nodes to create (each with one port)
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    /// Requests in flight at once
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds of single-node GETs
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Loopback port for the server
    #[arg(long, default_value_t = 6397)]
    port: u16,
    /// Instead of the API benchmark, take every node enroll → manage → provide →
    /// active on fake-hardware (zero delays) and time each transition
    #[arg(long)]
    lifecycle: bool,
}

/// Runs `count` jobs with `concurrency` workers; returns the elapsed time.
async fn run_parallel<F, Fut>(count: usize, concurrency: usize, job: F) -> Duration
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let next = next.clone();
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                job(i).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker panicked");
    }
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let server_bin = args.server_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("own path")
            .with_file_name("ferricd")
    });
    let dir = std::env::temp_dir().join(format!("ferric-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut cmd = Command::new(&server_bin);
    cmd.arg("--listen")
        .arg(format!("127.0.0.1:{}", args.port))
        .arg("--data-dir")
        .arg(&dir)
        .arg("--log")
        .arg("warn")
        .stdout(Stdio::null());
    if let Some(url) = &args.database_url {
        cmd.arg("--database-url").arg(url);
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server_bin.display()));
    let server = Server { child, dir };
    let pid = server.child.id();
    let base = format!("http://127.0.0.1:{}", args.port);
    let client = Client::new(&base).expect("client");
    for _ in 0..200 {
        if client
            .node_get("00000000-0000-0000-0000-000000000000")
            .await
            .is_err_and(|e| matches!(e, ferric_client::ClientError::Api { .. }))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if args.lifecycle {
        lifecycle(&client, &args, pid).await;
        drop(server);
        return;
    }
    let backend = if args.database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    println!(
        "ferric-bench: {} nodes, concurrency {}, backend {backend}",
        args.nodes, args.concurrency
    );

    let uuids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.nodes]));
    let (c, u) = (client.clone(), uuids.clone());
    let created = run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            let node = c
                .node_create(&json!({"driver": "fake-hardware", "name": format!("bench-{i}"), "resource_class": "bench"}))
                .await
                .expect("node create");
            u.lock().unwrap()[i] = node.uuid.to_string();
        }
    })
    .await;
    let uuids: Arc<Vec<String>> = Arc::new(uuids.lock().unwrap().clone());
    report("create node", args.nodes, created);

    let u = uuids.clone();
    let c = client.clone();
    let ported = run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            let mac = format!(
                "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
                (i >> 24) & 0xff,
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff
            );
            c.port_create(&json!({"address": mac, "node_uuid": u[i]}))
                .await
                .expect("port create");
        }
    })
    .await;
    report("create port", args.nodes, ported);

    let (c, u) = (client.clone(), uuids.clone());
    let patched = run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            let patch = json!([{"op": "add", "path": "/extra/bench", "value": i}]);
            c.request(Method::PATCH, &format!("/v1/nodes/{}", u[i]), Some(&patch))
                .await
                .expect("node patch");
        }
    })
    .await;
    report("PATCH node", args.nodes, patched);

    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (c, u) = (client.clone(), uuids.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = w * 7919;
            while Instant::now() < deadline {
                i = (i + 104_729) % u.len();
                let t = Instant::now();
                c.node_get(&u[i]).await.expect("node get");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("worker"));
    }
    lat.sort_unstable();
    println!(
        "GET /v1/nodes/{{uuid}}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        lat.len() as f64 / args.duration as f64,
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.len()
    );

    let t = Instant::now();
    let all = client.node_list_detail().await.expect("list");
    println!(
        "GET /v1/nodes/detail (all {} nodes, pages of 1000): {:.2} s",
        all.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "server RSS: {:.1} MiB now, {:.1} MiB peak",
        status_kib(pid, "VmRSS:") as f64 / 1024.0,
        status_kib(pid, "VmHWM:") as f64 / 1024.0
    );

    let (c, u) = (client.clone(), uuids.clone());
    let deleted = run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            c.node_delete(&u[i]).await.expect("node delete");
        }
    })
    .await;
    report("delete node (with its port)", args.nodes, deleted);
    drop(server);
}

/// `<what>: N/s (count in T s)`.
fn report(what: &str, count: usize, took: Duration) {
    println!(
        "{what}: {:.0}/s ({count} in {:.1} s)",
        count as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
}

/// Moves one node with `verb` and waits until it rests in `state`; returns how long.
async fn transition(c: &Client, uuid: &str, verb: &str, state: &str) -> Duration {
    let t = Instant::now();
    loop {
        match c.node_set_provision_state(uuid, verb).await {
            Ok(()) => break,
            // Every worker busy, or the node still locked from the previous step: retry.
            Err(ferric_client::ClientError::Api { status, .. })
                if status.as_u16() == 503 || status.as_u16() == 409 =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Err(e) => panic!("{verb} of {uuid}: {e}"),
        }
    }
    loop {
        let node = c.node_get(uuid).await.expect("node get");
        if node.provision_state.as_str() == state && node.reservation.is_none() {
            return t.elapsed();
        }
        if node.last_error.is_some() {
            panic!("{verb} of {uuid} failed: {:?}", node.last_error);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The lifecycle benchmark: N nodes enroll → manage → provide → active.
async fn lifecycle(client: &Client, args: &Args, pid: u32) {
    println!(
        "ferric-bench lifecycle: {} nodes, concurrency {}",
        args.nodes, args.concurrency
    );
    let uuids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.nodes]));
    let (c, u) = (client.clone(), uuids.clone());
    run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u) = (c.clone(), u.clone());
        async move {
            let node = c
                .node_create(&json!({"driver": "fake-hardware", "name": format!("life-{i}")}))
                .await
                .expect("node create");
            u.lock().unwrap()[i] = node.uuid.to_string();
        }
    })
    .await;
    let uuids: Arc<Vec<String>> = Arc::new(uuids.lock().unwrap().clone());
    let steps = [
        ("manage", "manageable"),
        ("provide", "available"),
        ("active", "active"),
    ];
    let timings = Arc::new(std::sync::Mutex::new(vec![Vec::new(); steps.len()]));
    let (c, u, t) = (client.clone(), uuids.clone(), timings.clone());
    let total = run_parallel(args.nodes, args.concurrency, move |i| {
        let (c, u, t) = (c.clone(), u.clone(), t.clone());
        async move {
            for (k, (verb, state)) in steps.iter().enumerate() {
                let d = transition(&c, &u[i], verb, state).await;
                t.lock().unwrap()[k].push(d);
            }
        }
    })
    .await;
    println!(
        "enroll → active: {} nodes in {:.2} s = {:.0} nodes/s",
        args.nodes,
        total.as_secs_f64(),
        args.nodes as f64 / total.as_secs_f64()
    );
    for (k, (verb, _)) in steps.iter().enumerate() {
        let mut d = timings.lock().unwrap()[k].clone();
        d.sort_unstable();
        println!(
            "  {verb:<8} p50 {:.1} ms, p99 {:.1} ms",
            percentile(&d, 0.50).as_secs_f64() * 1e3,
            percentile(&d, 0.99).as_secs_f64() * 1e3
        );
    }
    println!(
        "server peak RSS: {:.1} MiB",
        status_kib(pid, "VmHWM:") as f64 / 1024.0
    );
}
