//! `ferric-sim-scale`: a whole-system scale run on a simulated rack. Starts a
//! ferricd (SQLite in a fresh directory, or a given PostgreSQL database) and N
//! simulated machines in this process (each its own Redfish BMC path, an in-process
//! agent on a sparse disk when it network-boots, two NICs cabled to simulated leaf
//! switches), then enrolls, manages, inspects (each agent posts its inventory with
//! the LLDP its switch ports send; ferricd creates the missing ports and links every
//! port to its switch port), provides (cleaning through every agent) and deploys
//! them all concurrently. Checks every port's switch link against the cabling.
//! Prints per
//! phase the wall time and nodes/s, p50/p99 of each node's transition, ferricd's
//! CPU time and peak RSS, the database's size, and the power-sync rounds ferricd
//! logged while the rack stood deployed. With `--conductors N` (PostgreSQL) ferricd
//! runs as separate processes — one API process (the rack's machines boot from it,
//! its agents call it) and N conductor processes it reaches over RPC — and the CPU
//! time and peak RSS of each are reported. Traffic stays on loopback.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use ferric_bench::{conductor_args, cpu_seconds, free_port, percentile, status_kib, Server};
use ferric_client::{Client, ClientError, Method};
use ferric_sim::{Rack, RackConfig};
use ferric_types::provision::ProvisionState;
use serde_json::{json, Value};

/// The rack shares the machine with ferricd: jemalloc costs its thousands of
/// agents and BMCs less CPU than glibc's malloc, leaving more to the system measured.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(about = "Scale run of ferricd against a simulated rack")]
struct Args {
    /// ferricd binary [default: next to this binary]
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL URL of an empty database; SQLite in a temporary directory when absent
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// API requests in flight at once (enrolling, issuing verbs)
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// ferricd's worker pool ([conductor] workers)
    #[arg(long, default_value_t = 100)]
    workers: usize,
    #[arg(long, default_value_t = 6396)]
    port: u16,
    /// Machine i's agent listens on this loopback address + i
    #[arg(long, default_value = "127.1.0.0")]
    agent_net: std::net::Ipv4Addr,
    /// The image every machine gets, KiB (at least 1; every machine's disk
    /// keeps a copy, so a large rack wants a small image)
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    image_kib: u32,
    /// Each machine's sparse disk, MiB
    #[arg(long, default_value_t = 64)]
    disk_mib: u64,
    /// ferricd's power-sync interval, seconds; the run waits for two rounds at the end
    #[arg(long, default_value_t = 20)]
    power_sync_interval: u64,
    /// NICs per machine (1 or 2); only the boot NIC is enrolled, inspection adds the other
    #[arg(long, default_value_t = 2)]
    nics: usize,
    /// Ramdisks do not report LLDP (inspection as before the network hooks had data)
    #[arg(long)]
    no_lldp: bool,
    /// ferricd's `[inspector] add_ports` (all, active, pxe, disabled)
    #[arg(long, default_value = "all")]
    add_ports: String,
    /// Conductor processes apart from the API process (needs --database-url);
    /// 0 runs one ferricd with every role
    #[arg(long, default_value_t = 0)]
    conductors: usize,
    /// Machines worked on at once in a phase (each network-booted one runs an
    /// agent with its own sockets): a phase goes through the rack in waves of
    /// this many [default: all]
    #[arg(long)]
    wave: Option<usize>,
}

/// The ferricd processes under test, by name.
struct Processes(Vec<(String, Server)>);

impl Processes {
    fn pids(&self) -> Vec<u32> {
        self.0.iter().map(|(_, s)| s.child.id()).collect()
    }

    /// Each process's CPU seconds so far.
    fn cpu(&self) -> Vec<f64> {
        self.pids().into_iter().map(cpu_seconds).collect()
    }

    /// CPU seconds since `before`, in all and per process.
    fn cpu_since(&self, before: &[f64]) -> String {
        let now = self.cpu();
        let used: Vec<f64> = now.iter().zip(before).map(|(n, b)| n - b).collect();
        let total: f64 = used.iter().sum();
        if self.0.len() == 1 {
            return format!("ferricd CPU {total:.0} s");
        }
        let each: Vec<String> = self
            .0
            .iter()
            .zip(&used)
            .map(|((name, _), u)| format!("{name} {u:.0}"))
            .collect();
        format!("ferricd CPU {total:.0} s ({})", each.join(", "))
    }
}

/// Forwards a process's log: power-sync rounds are kept, errors printed.
fn watch_log(name: &str, child: &mut std::process::Child, rounds: &Arc<Mutex<Vec<String>>>) {
    let logs = child.stdout.take().expect("piped");
    let (rounds, name) = (rounds.clone(), name.to_string());
    std::thread::spawn(move || {
        for line in BufReader::new(logs).lines().map_while(Result::ok) {
            if line.contains("power sync round") {
                rounds.lock().unwrap().push(line);
            } else if line.contains("ERROR") {
                eprintln!("{name}: {line}");
            }
        }
    });
}

/// Starts ferricd with `args` (its own data directory under `dir`).
fn spawn(
    bin: &PathBuf,
    dir: &std::path::Path,
    name: &str,
    config: &std::path::Path,
    args: &[String],
) -> std::process::Child {
    Command::new(bin)
        .arg("--data-dir")
        .arg(dir.join(format!("var-{name}")))
        .arg("--config")
        .arg(config)
        .arg("--log")
        .arg("info")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

/// Every port, and how many carry the switch link the rack's cabling says.
async fn check_links(client: &Client, rack: &Rack) -> (usize, usize) {
    let mut expected: HashMap<String, (String, String, String)> = HashMap::new();
    for m in &rack.machines {
        for nic in &m.spec.nics {
            let l = &nic.link;
            expected.insert(
                nic.mac.clone(),
                (l.switch.switch_id(), l.port.clone(), l.switch.name.clone()),
            );
        }
    }
    let mut url = "/v1/ports?limit=1000&fields=address,local_link_connection".to_string();
    let (mut ports, mut linked) = (0, 0);
    loop {
        let page = client
            .request(Method::GET, &url, None)
            .await
            .expect("port list");
        for p in page["ports"].as_array().into_iter().flatten() {
            ports += 1;
            let llc = &p["local_link_connection"];
            let want = expected.get(p["address"].as_str().unwrap_or_default());
            let got = (
                llc["switch_id"].as_str().unwrap_or_default().to_string(),
                llc["port_id"].as_str().unwrap_or_default().to_string(),
                llc["switch_info"].as_str().unwrap_or_default().to_string(),
            );
            if want == Some(&got) {
                linked += 1;
            }
        }
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    (ports, linked)
}

/// As many open files as the hard limit allows (10 000 agents need listeners).
fn raise_file_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_cur
}

/// A `key=value` field of a log line (colour codes ignored).
fn field(line: &str, key: &str) -> String {
    let mut plain = String::new();
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Sends one request until it is taken: 409 (the node is busy or changed under the
/// request) and 503 (no free worker) are tried again; anything else panics.
async fn until_taken(client: &Client, method: Method, path: &str, body: &Value) {
    loop {
        match client.request(method.clone(), path, Some(body)).await {
            Ok(_) => return,
            Err(ClientError::Api { status, .. })
                if status.as_u16() == 409 || status.as_u16() == 503 =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{method} {path} {body}: {e}"),
        }
    }
}

/// Issues `body` to every node (`concurrency` at a time), retrying 409/503.
async fn issue_all(client: &Client, uuids: &[String], body: Value, concurrency: usize) {
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for u in uuids {
        let (c, u, body, gate) = (client.clone(), u.clone(), body.clone(), gate.clone());
        tasks.spawn(async move {
            let _slot = gate.acquire().await;
            let path = format!("/v1/nodes/{u}/states/provision");
            until_taken(&c, Method::PUT, &path, &body).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Runs a phase over the rack in waves of `wave` nodes: issues `body` to each
/// wave and waits for it to rest; each node's time from `since`, and the nodes
/// not in `want`.
async fn run_phase(
    client: &Client,
    uuids: &[String],
    body: Value,
    want: &str,
    args: &Args,
    since: Instant,
) -> (Vec<Duration>, Vec<Value>) {
    let (mut per_node, mut bad) = (Vec::new(), Vec::new());
    for wave in uuids.chunks(args.wave.unwrap_or(uuids.len()).max(1)) {
        issue_all(client, wave, body.clone(), args.concurrency).await;
        let only: std::collections::HashSet<&str> = wave.iter().map(String::as_str).collect();
        let (d, b) = wait_all(client, want, since, &only).await;
        per_node.extend(d);
        bad.extend(b);
    }
    per_node.sort_unstable();
    (per_node, bad)
}

/// Waits until the nodes of `only` rest; each one's time to rest from `since`,
/// and those not in `want`.
async fn wait_all(
    client: &Client,
    want: &str,
    since: Instant,
    only: &std::collections::HashSet<&str>,
) -> (Vec<Duration>, Vec<Value>) {
    let mut done: HashMap<String, Duration> = HashMap::new();
    loop {
        let mut nodes = Vec::new();
        let mut url =
            "/v1/nodes?limit=1000&fields=uuid,name,provision_state,reservation,last_error"
                .to_string();
        loop {
            let mut page = client
                .request(Method::GET, &url, None)
                .await
                .expect("node list");
            if let Some(items) = page["nodes"].as_array_mut() {
                nodes.extend(
                    items
                        .drain(..)
                        .filter(|n| only.contains(n["uuid"].as_str().unwrap_or_default())),
                );
            }
            match page["next"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        let mut busy = 0;
        for n in &nodes {
            let state = n["provision_state"].as_str().unwrap_or_default();
            let busy_state = state.parse::<ProvisionState>().is_ok_and(|s| s.is_busy());
            if busy_state || !n["reservation"].is_null() {
                busy += 1;
            } else {
                done.entry(n["uuid"].as_str().unwrap_or_default().to_string())
                    .or_insert_with(|| since.elapsed());
            }
        }
        if busy == 0 {
            let bad = nodes
                .into_iter()
                .filter(|n| n["provision_state"] != want)
                .collect();
            let mut d: Vec<Duration> = done.into_values().collect();
            d.sort_unstable();
            return (d, bad);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn report(
    phase: &str,
    n: usize,
    wall: Duration,
    per_node: &[Duration],
    bad: &[Value],
    processes: &Processes,
    cpu0: &[f64],
) {
    println!(
        "{phase:<8} {n} nodes in {:>7.1} s = {:>6.1} nodes/s; per node p50 {:.1} s, p99 {:.1} s; {}; {} not as wanted",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        percentile(per_node, 0.5).as_secs_f64(),
        percentile(per_node, 0.99).as_secs_f64(),
        processes.cpu_since(cpu0),
        bad.len()
    );
    for b in bad.iter().take(3) {
        println!(
            "         e.g. {} {}: {}",
            b["name"], b["provision_state"], b["last_error"]
        );
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let files = raise_file_limit();
    let server_bin = args.server_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("own path")
            .with_file_name("ferricd")
    });
    let dir = std::env::temp_dir().join(format!("ferric-sim-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    if args.conductors > 0 && args.database_url.is_none() {
        panic!("--conductors needs --database-url: SQLite serves one process");
    }
    let api = format!("http://127.0.0.1:{}", args.port);
    let config = dir.join("ferricd.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nrequire_tls = false\n[conductor]\nworkers = {}\ndeploy_callback_timeout = 3600\n\
             clean_callback_timeout = 3600\nsync_power_state_interval = {}\n[inspector]\nadd_ports = \"{}\"\n\
             [deploy]\nhttp_url = \"{api}\"\nallowed_local_paths = [\"{}\"]\n",
            args.workers,
            args.power_sync_interval,
            args.add_ports,
            dir.display()
        ),
    )
    .expect("config");
    let secret = dir.join("rpc-secret");
    std::fs::write(&secret, "sim-scale-shared-rpc-secret").expect("secret");
    let mut common: Vec<String> = Vec::new();
    if let Some(url) = &args.database_url {
        common.extend(["--database-url".into(), url.clone()]);
    }
    if args.conductors > 0 {
        common.extend(["--rpc-secret-file".into(), secret.display().to_string()]);
    }
    let listen = |port: u16| vec!["--listen".to_string(), format!("127.0.0.1:{port}")];
    let mut plan: Vec<(String, Vec<String>)> = Vec::new();
    if args.conductors == 0 {
        plan.push(("ferricd".into(), listen(args.port)));
    } else {
        let mut a = listen(args.port);
        a.extend(["--role".into(), "api,boot".into()]);
        plan.push(("api".into(), a));
        for i in 0..args.conductors {
            let name = format!("c{i}");
            plan.push((name.clone(), conductor_args(&name, free_port())));
        }
    }
    let rounds: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut started = Vec::new();
    for (name, mut a) in plan {
        a.extend(common.iter().cloned());
        let mut child = spawn(&server_bin, &dir, &name, &config, &a);
        watch_log(&name, &mut child, &rounds);
        started.push((
            name,
            Server {
                child,
                dir: dir.clone(),
            },
        ));
    }
    let processes = Processes(started);
    let client = Client::new(&api).expect("client");
    for _ in 0..200 {
        if client.request(Method::GET, "/v1", None).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let image = dir.join("image.raw");
    let mut data = vec![0x5au8; (args.image_kib as usize) << 10];
    data[510] = 0x55;
    data[511] = 0xaa;
    std::fs::write(&image, &data).expect("image");
    let sha = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(&data))
    };
    let mut rc = RackConfig::new(args.nodes, dir.join("rack"), &api);
    rc.agent_net = args.agent_net;
    rc.disk_size = args.disk_mib << 20;
    rc.nics = args.nics;
    rc.lldp = !args.no_lldp;
    let rack = Arc::new(Rack::start(rc).await.expect("rack"));
    println!(
        "ferric-sim-scale: {} machines ({} NICs each, LLDP {}), {} workers, add_ports {}, backend {}, open files {files}",
        args.nodes,
        args.nics,
        if args.no_lldp { "off" } else { "on" },
        args.workers,
        args.add_ports,
        if args.database_url.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    );

    // Enroll.
    let t = Instant::now();
    let cpu0 = processes.cpu();
    let gate = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    for i in 0..args.nodes {
        let (c, r, gate, lat) = (client.clone(), rack.clone(), gate.clone(), lat.clone());
        tasks.spawn(async move {
            let _slot = gate.acquire().await;
            let t = Instant::now();
            let node = c
                .request(Method::POST, "/v1/nodes", Some(&r.node_document(i)))
                .await
                .expect("node create");
            let uuid = node["uuid"].as_str().unwrap_or_default().to_string();
            c.request(Method::POST, "/v1/ports", Some(&r.port_document(i, &uuid)))
                .await
                .expect("port create");
            lat.lock().unwrap().push(t.elapsed());
            uuid
        });
    }
    let mut uuids = Vec::new();
    while let Some(u) = tasks.join_next().await {
        uuids.push(u.expect("enroll task"));
    }
    let mut l = lat.lock().unwrap().clone();
    l.sort_unstable();
    report(
        "enroll",
        args.nodes,
        t.elapsed(),
        &l,
        &[],
        &processes,
        &cpu0,
    );

    let patch = json!([
        {"op": "add", "path": "/instance_info/image_source", "value": image.display().to_string()},
        {"op": "add", "path": "/instance_info/image_disk_format", "value": "raw"},
        {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
        {"op": "add", "path": "/instance_info/image_os_hash_value", "value": sha},
    ]);
    for (phase, body, want) in [
        ("manage", json!({"target": "manage"}), "manageable"),
        ("inspect", json!({"target": "inspect"}), "manageable"),
        ("provide", json!({"target": "provide"}), "available"),
        ("deploy", json!({"target": "active"}), "active"),
    ] {
        if phase == "deploy" {
            for u in &uuids {
                until_taken(&client, Method::PATCH, &format!("/v1/nodes/{u}"), &patch).await;
            }
        }
        let t = Instant::now();
        let cpu0 = processes.cpu();
        let (per_node, bad) = run_phase(&client, &uuids, body, want, &args, t).await;
        report(
            phase,
            args.nodes,
            t.elapsed(),
            &per_node,
            &bad,
            &processes,
            &cpu0,
        );
        if phase == "inspect" {
            let (ports, linked) = check_links(&client, &rack).await;
            println!(
                "         {ports} ports after inspection, {linked} linked to the switch port they are cabled to"
            );
        }
    }
    let booted = rack
        .machines
        .iter()
        .filter(|m| m.running() == ferric_sim::Running::Image)
        .count();
    println!("machines running their deployed image: {booted}");

    // Two power-sync rounds of each conductor over the deployed rack.
    let want = 2 * args.conductors.max(1);
    let seen = rounds.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(args.power_sync_interval * 3 + 600);
    while rounds.lock().unwrap().len() < seen + want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for line in rounds.lock().unwrap().iter().skip(seen).take(want) {
        println!(
            "power sync round: {} nodes checked in {} s",
            field(line, "checked"),
            field(line, "seconds")
        );
    }
    for ((name, server), cpu) in processes.0.iter().zip(processes.cpu()) {
        println!(
            "{name}: peak RSS {:.0} MiB, CPU {cpu:.0} s in all",
            status_kib(server.child.id(), "VmHWM:") as f64 / 1024.0,
        );
    }
    if args.database_url.is_none() {
        let db = dir.join("var-ferricd").join("ferric.db");
        let db_size: u64 = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "SQLite database {:.1} MiB",
            db_size as f64 / (1 << 20) as f64
        );
    }
    println!(
        "this process (the rack: {} agents, BMCs) peak RSS {:.0} MiB",
        args.nodes,
        status_kib(std::process::id(), "VmHWM:") as f64 / 1024.0
    );
    drop(rack);
    drop(processes);
}
