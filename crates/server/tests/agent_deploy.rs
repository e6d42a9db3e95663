//! End to end through the ramdisk agent, on SQLite and on PostgreSQL: a real
//! `ferricd` and real `ferric-agent` processes in test mode, each virtual node a
//! fake-hardware node (`deploy_interface=direct`) whose disk is a file. A small
//! watcher plays the machine: when the node boots from the network (power on, boot
//! device pxe, a new boot counted) it starts an agent; when the node powers off it
//! stops it. Images are served by an HTTP server inside the test.
//!
//! Covered: cleaning through the agent (metadata erased), deploying a raw image
//! (disk bytes = image bytes), undeploy + automated cleaning, a bad checksum
//! (`deploy failed`, reason in `last_error`), an agent killed mid-write (callback
//! timeout → `deploy failed`), a redeploy that then succeeds, and a qcow2 image
//! converted on the way (checked with `qemu-img compare`), and a JSON config drive
//! built into a config-2 ISO and written to a partition at the end of the disk, and
//! images served from the conductor's cache (`image_download_source=http`, local paths).

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

const MIB: usize = 1 << 20;
const API_VERSION: &str = "1.89";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferricd"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn agent_binary() -> PathBuf {
    let p = target_dir().join("ferric-agent");
    assert!(
        p.exists(),
        "{} is missing: build it first (cargo build --bin ferric-agent, or cargo test --workspace)",
        p.display()
    );
    p
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferric-e2e-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A deterministic pseudo-random image.
fn image_bytes(len: usize, seed: u64) -> Vec<u8> {
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

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// Serves `<dir>/<name>`; `slow-<name>` trickles it out over ~20 s and raises the
/// returned flag when such a download starts.
async fn serve_images(dir: PathBuf) -> (u16, Arc<AtomicBool>, Hits) {
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
type Hits = Arc<Mutex<std::collections::HashMap<String, usize>>>;

/// Yields the chunks half a second apart.
fn trickle(
    chunks: Vec<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    futures_util::stream::unfold(chunks.into_iter(), |mut rest| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rest.next().map(|c| (Ok(c), rest))
    })
}

/// A running ferricd.
struct Ferric {
    child: Child,
    api: String,
    http: reqwest::Client,
    log: PathBuf,
}

impl Drop for Ferric {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Ferric {
    async fn start(dir: &Path, database_url: Option<String>) -> Ferric {
        let port = free_port();
        let config = dir.join("ferricd.toml");
        std::fs::write(
            &config,
            format!(
                "[conductor]\ndeploy_callback_timeout = 12\nclean_callback_timeout = 60\nsync_power_state_interval = 0\n\
                 [agent]\nheartbeat_timeout = 10\npost_deploy_get_power_state_retry_interval = 0.2\npost_deploy_get_power_state_retries = 2\n\
                 [deploy]\nallowed_local_paths = [\"{}\"]\n",
                dir.display()
            ),
        )
        .unwrap();
        let log = dir.join("ferricd.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferricd"));
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.join("var"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        let child = cmd.spawn().expect("ferricd starts");
        let f = Ferric {
            child,
            api: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            log,
        };
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

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
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

    async fn node(&self, uuid: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/nodes/{uuid}"), None)
            .await
            .1
    }

    async fn provision(&self, uuid: &str, target: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/nodes/{uuid}/states/provision"),
                Some(json!({"target": target})),
            )
            .await;
        assert_eq!(status, 202, "provision {target}: {body}");
    }

    async fn patch_instance_info(&self, uuid: &str, info: Value) {
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
    async fn wait_for(&self, uuid: &str, states: &[&str], limit: Duration) -> Value {
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

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The virtual machine behind a fake-hardware node: boots an agent from the network.
struct VirtualNode {
    disk: PathBuf,
    mac: String,
    dir: PathBuf,
    agent: Arc<Mutex<Option<Child>>>,
    /// Set to kill the agent once its (slow) image download has started.
    kill_during_write: Arc<Mutex<bool>>,
    slow_download_started: Arc<AtomicBool>,
}

impl VirtualNode {
    fn new(
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
    fn run(&self, api: String, uuid: String) -> tokio::task::JoinHandle<()> {
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

fn read_range(path: &Path, start: usize, len: usize) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    data[start..start + len].to_vec()
}

fn fill(path: &Path, start: usize, len: usize, byte: u8) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(&vec![byte; len], start as u64).unwrap();
}

async fn scenario(database_url: Option<String>) {
    let dir = scratch("deploy");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let image = image_bytes(6 * MIB + 12_345, 7);
    std::fs::write(images.join("good.raw"), &image).unwrap();
    let sha = sha256_hex(&images.join("good.raw"));
    let (img_port, slow_started, hits) = serve_images(images.clone()).await;
    let img = |name: &str| format!("http://127.0.0.1:{img_port}/{name}");

    let ferric = Ferric::start(&dir, database_url).await;
    let mac = "52:54:00:aa:00:01";
    let disk_size = 160 * MIB;
    let vm = VirtualNode::new(&dir, mac, disk_size, slow_started);
    fill(&vm.disk, 0, MIB, 0xab);
    fill(&vm.disk, disk_size - MIB, MIB, 0xab);
    let (status, node) = ferric
        .call(
            reqwest::Method::POST,
            "/nodes",
            Some(json!({"driver": "fake-hardware", "deploy_interface": "direct", "network_interface": "flat", "rescue_interface": "agent", "name": "vm-1"})),
        )
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let (status, port) = ferric
        .call(
            reqwest::Method::POST,
            "/ports",
            Some(json!({"node_uuid": uuid, "address": mac})),
        )
        .await;
    assert_eq!(status, 201, "{port}");
    let watcher = vm.run(ferric.api.clone(), uuid.clone());
    let budget = Duration::from_secs(90);

    // Cleaning through the agent erases the disk's metadata.
    ferric.provision(&uuid, "manage").await;
    ferric.wait_for(&uuid, &["manageable"], budget).await;
    ferric.provision(&uuid, "provide").await;
    let node = ferric
        .wait_for(&uuid, &["available", "clean failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "available", "{node}");
    assert_eq!(node["power_state"], "power off");
    assert!(
        node["driver_internal_info"]
            .get("network_binding")
            .is_none(),
        "off the cleaning network"
    );
    assert!(
        read_range(&vm.disk, 0, MIB).iter().all(|&b| b == 0),
        "first MiB erased"
    );
    assert!(
        read_range(&vm.disk, disk_size - MIB, MIB)
            .iter()
            .all(|&b| b == 0),
        "last MiB erased"
    );

    // A raw image lands on the disk byte for byte.
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": img("good.raw"), "image_os_hash_algo": "sha256", "image_os_hash_value": sha, "image_disk_format": "raw"}),
        )
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(node["power_state"], "power on");
    assert_eq!(node["driver_internal_info"]["fake_boot_device"], "disk");
    assert_eq!(node["driver_internal_info"]["network_binding"], "tenant");
    assert_eq!(
        read_range(&vm.disk, 0, image.len()),
        image,
        "disk holds the image"
    );
    assert!(
        node["driver_internal_info"]
            .get("agent_secret_token")
            .is_none(),
        "token wiped at the end"
    );

    // Undeploy: automated cleaning wipes the metadata again.
    ferric.provision(&uuid, "deleted").await;
    let node = ferric
        .wait_for(&uuid, &["available", "clean failed", "error"], budget)
        .await;
    assert_eq!(node["provision_state"], "available", "{node}");
    assert!(read_range(&vm.disk, 0, MIB).iter().all(|&b| b == 0));
    assert!(read_range(&vm.disk, disk_size - MIB, MIB)
        .iter()
        .all(|&b| b == 0));

    // A wrong checksum fails the deploy with the reason.
    let (status, body) = ferric
        .call(
            reqwest::Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "active"})),
        )
        .await;
    assert_eq!(status, 400, "no image: refused up front: {body}");
    assert_eq!(ferric.node(&uuid).await["provision_state"], "available");
    let wrong = "0".repeat(64);
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": img("good.raw"), "image_os_hash_algo": "sha256", "image_os_hash_value": wrong}),
        )
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "deploy failed", "{node}");
    let err = node["last_error"].as_str().unwrap_or_default();
    assert!(err.contains("sha256") && err.contains(&wrong), "{err}");
    assert!(
        read_range(&vm.disk, 0, MIB).iter().all(|&b| b == 0),
        "a bad image is not left bootable"
    );

    // The agent dies mid-write: the callback times out, then a redeploy works.
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": img("slow-good.raw"), "image_os_hash_value": sha}),
        )
        .await;
    *vm.kill_during_write.lock().unwrap() = true;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "deploy failed", "{node}");
    let err = node["last_error"].as_str().unwrap_or_default().to_string();
    assert!(err.to_lowercase().contains("timeout"), "{err}");
    ferric
        .patch_instance_info(&uuid, json!({"image_source": img("good.raw")}))
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(read_range(&vm.disk, 0, image.len()), image);

    // A qcow2 image is converted on the way to the disk.
    ferric.provision(&uuid, "deleted").await;
    ferric.wait_for(&uuid, &["available"], budget).await;
    let mut holey = image_bytes(5 * MIB, 11);
    holey[MIB..3 * MIB].fill(0);
    std::fs::write(images.join("holey.raw"), &holey).unwrap();
    let converted = Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "qcow2"])
        .arg(images.join("holey.raw"))
        .arg(images.join("holey.qcow2"))
        .status()
        .expect("qemu-img is installed");
    assert!(converted.success());
    let qsha = sha256_hex(&images.join("holey.qcow2"));
    fill(&vm.disk, 2 * MIB, MIB, 0x5a);
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": img("holey.qcow2"), "image_checksum": qsha, "image_disk_format": "qcow2"}),
        )
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    let same = Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "qcow2"])
        .arg(&vm.disk)
        .arg(images.join("holey.qcow2"))
        .status()
        .unwrap();
    assert!(
        same.success(),
        "qemu-img compare: the disk holds the qcow2 image's guest bytes"
    );

    // A config drive given as JSON: built into an ISO by the conductor, written by the
    // agent to a partition added at the end of the disk, readable with isoinfo.
    ferric.provision(&uuid, "deleted").await;
    ferric.wait_for(&uuid, &["available"], budget).await;
    let mut with_table = image_bytes(4 * MIB, 13);
    with_table[446..462].fill(0);
    with_table[446 + 4] = 0x83;
    with_table[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    with_table[446 + 12..446 + 16].copy_from_slice(&4096u32.to_le_bytes());
    with_table[462..510].fill(0);
    with_table[510] = 0x55;
    with_table[511] = 0xaa;
    std::fs::write(images.join("table.raw"), &with_table).unwrap();
    let tsha = sha256_hex(&images.join("table.raw"));
    ferric
        .patch_instance_info(
            &uuid,
            json!({"image_source": img("table.raw"), "image_os_hash_algo": "sha256", "image_os_hash_value": tsha, "image_disk_format": "raw"}),
        )
        .await;
    let user_data = "#cloud-config\nhostname: vm-1\n";
    let (status, body) = ferric
        .call(
            reqwest::Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "active", "configdrive": {
                "meta_data": {"hostname": "vm-1", "public_keys": {"k": "ssh-ed25519 AAAA test"}},
                "user_data": user_data,
                "network_data": {"links": [], "networks": [], "services": []},
            }})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(
        node["instance_info"]["configdrive"], "******",
        "masked in the API"
    );
    let mbr = read_range(&vm.disk, 0, 512);
    assert_eq!(
        &mbr[446..462],
        &with_table[446..462],
        "the image's own partition is kept"
    );
    let start = u32::from_le_bytes(mbr[462 + 8..462 + 12].try_into().unwrap()) as usize;
    let sectors = u32::from_le_bytes(mbr[462 + 12..462 + 16].try_into().unwrap()) as usize;
    assert_eq!(sectors * 512, 64 * MIB, "a 64 MiB config drive partition");
    assert_eq!((start + sectors) * 512, disk_size, "at the end of the disk");
    let iso_path = dir.join("configdrive.iso");
    std::fs::write(&iso_path, read_range(&vm.disk, start * 512, 4 * MIB)).unwrap();
    let extract = |path: &str| {
        let out = Command::new("isoinfo")
            .args(["-R", "-i"])
            .arg(&iso_path)
            .args(["-x", path])
            .output()
            .expect("isoinfo (genisoimage) is installed");
        String::from_utf8(out.stdout).unwrap()
    };
    let label = Command::new("isoinfo")
        .args(["-d", "-i"])
        .arg(&iso_path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&label.stdout).contains("Volume id: config-2"));
    let meta: Value = serde_json::from_str(&extract("/openstack/latest/meta_data.json")).unwrap();
    assert_eq!(meta["hostname"], "vm-1");
    assert_eq!(meta["uuid"], uuid);
    assert_eq!(meta["public_keys"]["k"], "ssh-ed25519 AAAA test");
    assert_eq!(extract("/openstack/latest/user_data"), user_data);
    let net: Value = serde_json::from_str(&extract("/openstack/latest/network_data.json")).unwrap();
    assert_eq!(net["links"], json!([]));

    // Through the conductor's image cache: the origin is read once for two deploys,
    // and an image given as a local path is served by the conductor too.
    std::fs::write(images.join("cached.raw"), &image).unwrap();
    for (round, source) in [
        img("cached.raw"),
        img("cached.raw"),
        images.join("good.raw").display().to_string(),
    ]
    .into_iter()
    .enumerate()
    {
        ferric.provision(&uuid, "deleted").await;
        ferric.wait_for(&uuid, &["available"], budget).await;
        ferric
            .patch_instance_info(
                &uuid,
                json!({"image_source": source, "image_download_source": "http", "image_os_hash_algo": "sha256", "image_os_hash_value": sha, "image_disk_format": "raw"}),
            )
            .await;
        ferric.provision(&uuid, "active").await;
        let node = ferric
            .wait_for(&uuid, &["active", "deploy failed"], budget)
            .await;
        assert_eq!(
            node["provision_state"], "active",
            "cached deploy {round}: {node}"
        );
        assert_eq!(read_range(&vm.disk, 0, image.len()), image);
    }
    assert_eq!(
        hits.lock().unwrap().get("cached.raw"),
        Some(&1),
        "the origin was read once"
    );

    // Rescue: the ramdisk boots on the rescue network; its agent stores the password
    // hash and stops; the node waits on its tenant network for its owner to log in.
    let (status, body) = ferric
        .call(
            reqwest::Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "rescue", "rescue_password": "s3cret pw"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let node = ferric
        .wait_for(&uuid, &["rescue", "rescue failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "rescue", "{node}");
    assert_eq!(node["instance_info"]["hashed_rescue_password"], "******");
    assert!(node["instance_info"].get("rescue_password").is_none());
    assert_eq!(node["driver_internal_info"]["network_binding"], "tenant");
    assert!(node["driver_internal_info"].get("agent_url").is_none());
    let mut rescue_dir = vm.disk.clone().into_os_string();
    rescue_dir.push(".rescue");
    let rescue_dir = PathBuf::from(rescue_dir);
    let hash = std::fs::read_to_string(rescue_dir.join("ipa-rescue-config/ipa-rescue-password"))
        .expect("the agent stored the rescue password");
    let salt = hash.split('$').nth(2).unwrap();
    assert_eq!(
        hash,
        ferric_types::crypt::sha256_crypt("s3cret pw", salt),
        "a SHA-256-crypt hash of the password"
    );
    assert!(rescue_dir.join(".rescued").exists(), "the rescue marker");
    let deadline = Instant::now() + Duration::from_secs(10);
    while vm.agent.lock().unwrap().is_some() {
        assert!(Instant::now() < deadline, "the rescue agent stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Unrescue boots the instance from disk again, still on its tenant network.
    ferric.provision(&uuid, "unrescue").await;
    let node = ferric
        .wait_for(&uuid, &["active", "unrescue failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(node["power_state"], "power on");
    assert_eq!(node["driver_internal_info"]["fake_boot_device"], "disk");
    assert_eq!(node["driver_internal_info"]["network_binding"], "tenant");
    assert!(node["instance_info"]
        .get("hashed_rescue_password")
        .is_none());
    assert_eq!(read_range(&vm.disk, 0, image.len()), image);

    watcher.abort();
    drop(vm);
    drop(ferric);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh schema in the test PostgreSQL (`FERRIC_TEST_POSTGRES_URL`).
fn postgres_url() -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_through_the_agent_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_through_the_agent_postgres() {
    scenario(Some(postgres_url())).await;
}
