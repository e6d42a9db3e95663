//! What the end-to-end tests share: a real `ferricd` process and its API, virtual
//! nodes whose "machine" is a `ferric-agent` in test mode on a file disk (started
//! when the node boots from the network, stopped when it powers off), an HTTP image
//! server, and a fresh PostgreSQL schema per test.
#![allow(dead_code)]

pub mod cluster;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::response::Response;
use serde_json::{json, Value};

pub const MIB: usize = 1 << 20;
pub const API_VERSION: &str = "1.89";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferricd"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn agent_binary() -> PathBuf {
    let p = target_dir().join("ferric-agent");
    assert!(
        p.exists(),
        "{} is missing: build it first (cargo build --bin ferric-agent, or cargo test --workspace)",
        p.display()
    );
    p
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferric-e2e-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A deterministic pseudo-random image.
pub fn image_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// Serves `<dir>/<name>`; `slow-<name>` trickles it out over ~20 s and raises the
/// returned flag when such a download starts.
pub async fn serve_images(dir: PathBuf) -> (u16, Arc<AtomicBool>, Hits) {
    async fn file(
        State((dir, slow_started, hits)): State<(PathBuf, Arc<AtomicBool>, Hits)>,
        UrlPath(name): UrlPath<String>,
    ) -> Response {
        *hits.lock().unwrap().entry(name.clone()).or_default() += 1;
        let slow = name.strip_prefix("slow-").map(str::to_string);
        if slow.is_some() {
            slow_started.store(true, Ordering::SeqCst);
        }
        let path = dir.join(slow.as_deref().unwrap_or(&name));
        let Ok(data) = std::fs::read(&path) else {
            return Response::builder().status(404).body(Body::empty()).unwrap();
        };
        let len = data.len();
        if slow.is_none() {
            return Response::builder()
                .header("content-length", len)
                .body(Body::from(data))
                .unwrap();
        }
        let chunks: Vec<Vec<u8>> = data.chunks(len / 40 + 1).map(<[u8]>::to_vec).collect();
        let stream = trickle(chunks);
        Response::builder()
            .header("content-length", len)
            .body(Body::from_stream(stream))
            .unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let flag = Arc::new(AtomicBool::new(false));
    let hits = Hits::default();
    let app = axum::Router::new()
        .route("/{name}", axum::routing::get(file))
        .with_state((dir, flag.clone(), hits.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, flag, hits)
}

/// How many times each image was requested from the origin.
pub type Hits = Arc<Mutex<std::collections::HashMap<String, usize>>>;

/// Yields the chunks half a second apart.
pub fn trickle(
    chunks: Vec<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    futures_util::stream::unfold(chunks.into_iter(), |mut rest| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rest.next().map(|c| (Ok(c), rest))
    })
}

/// A running ferricd.
pub struct Ferric {
    pub child: Child,
    pub api: String,
    pub http: reqwest::Client,
    pub log: PathBuf,
}

impl Drop for Ferric {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Ferric {
    pub async fn start(dir: &Path, database_url: Option<String>) -> Ferric {
        Self::start_with(dir, database_url, "", &[]).await
    }

    /// Starts ferricd with more configuration (TOML tables appended) and flags;
    /// returns once its API answers.
    pub async fn start_with(
        dir: &Path,
        database_url: Option<String>,
        extra_config: &str,
        extra_args: &[String],
    ) -> Ferric {
        let f = Self::spawn(dir, database_url, extra_config, extra_args);
        for _ in 0..200 {
            if f.http.get(&f.api).send().await.is_ok() {
                return f;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "ferricd did not start: {}",
            std::fs::read_to_string(&f.log).unwrap_or_default()
        );
    }

    /// Starts a ferricd that serves no API (`--role conductor`, say); returns once
    /// something accepts connections on `ready_port`.
    pub async fn start_without_api(
        dir: &Path,
        database_url: Option<String>,
        extra_config: &str,
        extra_args: &[String],
        ready_port: u16,
    ) -> Ferric {
        let f = Self::spawn(dir, database_url, extra_config, extra_args);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", ready_port))
                .await
                .is_ok()
            {
                return f;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "ferricd did not start: {}",
            std::fs::read_to_string(&f.log).unwrap_or_default()
        );
    }

    fn spawn(
        dir: &Path,
        database_url: Option<String>,
        extra_config: &str,
        extra_args: &[String],
    ) -> Ferric {
        let port = free_port();
        let config = dir.join("ferricd.toml");
        let defaults = format!(
            "[conductor]\ndeploy_callback_timeout = 12\nclean_callback_timeout = 60\nsync_power_state_interval = 0\n\
             [agent]\nheartbeat_timeout = 10\npost_deploy_get_power_state_retry_interval = 0.2\npost_deploy_get_power_state_retries = 2\n\
             [deploy]\nallowed_local_paths = [\"{}\"]\n",
            dir.display()
        );
        std::fs::write(&config, merge_config(&defaults, extra_config)).unwrap();
        let log = dir.join("ferricd.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferricd"));
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.join("var"))
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG");
        // ferricd logs to stdout; stderr carries what it says before logging starts.
        let log_file = std::fs::File::create(&log).unwrap();
        cmd.stdout(log_file.try_clone().unwrap()).stderr(log_file);
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(extra_args);
        let child = cmd.spawn().expect("ferricd starts");
        Ferric {
            child,
            api: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            log,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}/v1{path}", self.api))
            .header("X-OpenStack-Ironic-API-Version", API_VERSION);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn node(&self, uuid: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/nodes/{uuid}"), None)
            .await
            .1
    }

    pub async fn provision(&self, uuid: &str, target: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/nodes/{uuid}/states/provision"),
                Some(json!({"target": target})),
            )
            .await;
        assert_eq!(status, 202, "provision {target}: {body}");
    }

    /// Runs a provision verb under the caller's own request id
    /// (`X-OpenStack-Request-ID`); returns the id the API gave the request.
    pub async fn provision_as(&self, uuid: &str, target: &str, request_id: &str) -> String {
        let resp = self
            .http
            .put(format!("{}/v1/nodes/{uuid}/states/provision", self.api))
            .header("X-OpenStack-Ironic-API-Version", API_VERSION)
            .header("X-OpenStack-Request-ID", request_id)
            .json(&json!({"target": target}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202, "provision {target}");
        resp.headers()["openstack-request-id"]
            .to_str()
            .unwrap()
            .to_string()
    }

    pub async fn patch_instance_info(&self, uuid: &str, info: Value) {
        let ops: Vec<Value> = info
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| json!({"op": "add", "path": format!("/instance_info/{k}"), "value": v}))
            .collect();
        let (status, body) = self
            .call(
                reqwest::Method::PATCH,
                &format!("/nodes/{uuid}"),
                Some(Value::from(ops)),
            )
            .await;
        assert_eq!(status, 200, "patch: {body}");
    }

    /// Waits until the node rests, unlocked, in one of `states`.
    pub async fn wait_for(&self, uuid: &str, states: &[&str], limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let node = self.node(uuid).await;
            let state = node["provision_state"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if states.contains(&state.as_str()) && node["reservation"].is_null() {
                return node;
            }
            if Instant::now() > deadline {
                panic!(
                    "node {uuid} is {state}, not one of {states:?} after {limit:?}: {node}\n--- ferricd log\n{}",
                    tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The test's defaults with `extra`'s settings over them: a key of a table both
/// name takes `extra`'s value (TOML allows a table, and a key, only once). Each
/// setting must fit on one line.
fn merge_config(defaults: &str, extra: &str) -> String {
    let mut tables: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for text in [defaults, extra] {
        let mut current = String::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                !line.starts_with("[["),
                "arrays of tables are not merged: {line}"
            );
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = name.to_string();
                if !tables.iter().any(|(t, _)| *t == current) {
                    tables.push((current.clone(), Vec::new()));
                }
                continue;
            }
            let key = line
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if !tables.iter().any(|(t, _)| *t == current) {
                tables.push((current.clone(), Vec::new()));
            }
            let (_, entries) = tables.iter_mut().find(|(t, _)| *t == current).unwrap();
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = line.to_string(),
                None => entries.push((key, line.to_string())),
            }
        }
    }
    let mut out = String::new();
    // Keys outside any table come first.
    tables.sort_by_key(|(t, _)| !t.is_empty());
    for (table, entries) in tables {
        if !table.is_empty() {
            out.push_str(&format!("[{table}]\n"));
        }
        for (_, line) in entries {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The virtual machine behind a fake-hardware node: boots an agent from the network.
pub struct VirtualNode {
    pub disk: PathBuf,
    pub mac: String,
    pub dir: PathBuf,
    pub agent: Arc<Mutex<Option<Child>>>,
    /// Set to kill the agent once its (slow) image download has started.
    pub kill_during_write: Arc<Mutex<bool>>,
    pub slow_download_started: Arc<AtomicBool>,
}

impl VirtualNode {
    pub fn new(
        dir: &Path,
        mac: &str,
        disk_size: usize,
        slow_download_started: Arc<AtomicBool>,
    ) -> VirtualNode {
        let disk = dir.join(format!("disk-{}.img", mac.replace(':', "")));
        let f = std::fs::File::create(&disk).unwrap();
        f.set_len(disk_size as u64).unwrap();
        VirtualNode {
            disk,
            mac: mac.into(),
            dir: dir.to_path_buf(),
            agent: Arc::default(),
            kill_during_write: Arc::default(),
            slow_download_started,
        }
    }

    /// Plays the machine until the test ends.
    pub fn run(&self, api: String, uuid: String) -> tokio::task::JoinHandle<()> {
        let (disk, mac, dir) = (self.disk.clone(), self.mac.clone(), self.dir.clone());
        let agent = self.agent.clone();
        let kill_during_write = self.kill_during_write.clone();
        let slow_started = self.slow_download_started.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut booted = 0u64;
            let mut boots = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let Ok(resp) = http
                    .get(format!("{api}/v1/nodes/{uuid}"))
                    .header("X-OpenStack-Ironic-API-Version", API_VERSION)
                    .send()
                    .await
                else {
                    continue;
                };
                let node: Value = resp.json().await.unwrap_or(Value::Null);
                let dii = &node["driver_internal_info"];
                let on = node["power_state"] == "power on";
                let count = dii["fake_boot_count"].as_u64().unwrap_or(0);
                let pxe = dii["fake_boot_device"].as_str().unwrap_or("pxe") == "pxe";
                let mut slot = agent.lock().unwrap();
                if let Some(child) = slot.as_mut() {
                    let exited = child.try_wait().ok().flatten().is_some();
                    let writing = slow_started.load(Ordering::SeqCst);
                    let kill = *kill_during_write.lock().unwrap() && writing;
                    if !on || count != booted || exited || kill {
                        let _ = child.kill();
                        let _ = child.wait();
                        *slot = None;
                        if kill {
                            *kill_during_write.lock().unwrap() = false;
                        }
                    }
                }
                if on && pxe && count != booted && slot.is_none() {
                    booted = count;
                    boots += 1;
                    let log =
                        std::fs::File::create(dir.join(format!("agent-{boots}.log"))).unwrap();
                    let child = Command::new(agent_binary())
                        .arg("--api-url")
                        .arg(&api)
                        .arg("--disk")
                        .arg(&disk)
                        .arg("--mac")
                        .arg(&mac)
                        .arg("--listen")
                        .arg(format!("127.0.0.1:{}", free_port()))
                        .arg("--cmdline")
                        .arg("/dev/null")
                        .arg("--log")
                        .arg("debug")
                        .stdout(Stdio::null())
                        .stderr(log)
                        .spawn()
                        .expect("ferric-agent starts");
                    *slot = Some(child);
                } else if on && count != booted && !pxe {
                    // Booted from disk: the deployed image runs, no agent.
                    booted = count;
                }
            }
        })
    }
}

impl Drop for VirtualNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.agent.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn read_range(path: &Path, start: usize, len: usize) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    data[start..start + len].to_vec()
}

pub fn fill(path: &Path, start: usize, len: usize, byte: u8) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(&vec![byte; len], start as u64).unwrap();
}

/// A fresh schema in the test PostgreSQL (`FERRIC_TEST_POSTGRES_URL`).
pub fn postgres_url() -> String {
    let url = std::env::var("FERRIC_TEST_POSTGRES_URL").expect(
        "FERRIC_TEST_POSTGRES_URL must name a PostgreSQL server (lab/postgres.sh starts one)",
    );
    let schema = format!("e2e_{}_{}", std::process::id(), free_port());
    let ok = Command::new("psql")
        .arg(&url)
        .arg("-qc")
        .arg(format!("CREATE SCHEMA {schema}"))
        .status()
        .expect("psql runs")
        .success();
    assert!(ok, "could not create schema {schema}");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Every agent token a node is given, read from ferricd's database while the test
/// runs (the API masks it), so logs can be searched for it.
pub struct TokenWatch {
    seen: Arc<Mutex<std::collections::BTreeSet<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TokenWatch {
    /// Watches node `uuid` in the database ferricd uses (`database_url`, else the
    /// SQLite file under `dir/var`).
    pub async fn start(dir: &Path, database_url: Option<String>, uuid: &str) -> TokenWatch {
        let url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("var").join("ferric.db").display()));
        let db = ferric_db::Datastore::connect(&url)
            .await
            .expect("the test reads ferricd's database");
        let uuid: ferric_types::NodeId = uuid.parse().unwrap();
        let seen: Arc<Mutex<std::collections::BTreeSet<String>>> = Arc::default();
        let into = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(node) = db.node_get(uuid).await {
                    if let Some(t) = node
                        .driver_internal_info
                        .get("agent_secret_token")
                        .and_then(Value::as_str)
                    {
                        into.lock().unwrap().insert(t.to_string());
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        TokenWatch { seen, task }
    }

    /// Stops watching; panics unless tokens were seen and none is in any `.log`
    /// file of `dir` (ferricd's and the agents').
    pub fn assert_not_logged(self, dir: &Path) {
        self.task.abort();
        let seen = self.seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "no agent token was ever issued");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                read += text.len();
                for token in &seen {
                    assert!(
                        !text.contains(token.as_str()),
                        "an agent token is in {}",
                        path.display()
                    );
                }
            }
        }
        assert!(read > 0, "no log to search");
        let ferricd = std::fs::read_to_string(dir.join("ferricd.log")).unwrap_or_default();
        assert!(
            ferricd.contains("DEBUG"),
            "ferricd did not log at debug level"
        );
    }
}
