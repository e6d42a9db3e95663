//! The agent's command API over HTTP, against the real `ferric-agent` binary in test
//! mode (a file as its disk, a token from its kernel command line): token checks,
//! IPA's error bodies and codes, the step listings, the inventory, an image written
//! and verified, one command at a time, logs, and powering off.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TOKEN: &str = "0123456789abcdef0123456789abcdef-test-token";
const MAC: &str = "52:54:00:12:34:56";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Agent {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_agent(disk_size: u64) -> Agent {
    let dir = std::env::temp_dir().join(format!(
        "ferric-agent-api-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let disk = dir.join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(disk_size)
        .unwrap();
    let cmdline = dir.join("cmdline");
    std::fs::write(
        &cmdline,
        format!("quiet ipa-agent-token={TOKEN} ipa-image-download-connection-retry-interval=0.2\n"),
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferric-agent"))
        .args([
            "--disk",
            disk.to_str().unwrap(),
            "--mac",
            MAC,
            "--plain-http",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--cmdline", cmdline.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Agent { child, base, dir };
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("ferric-agent did not start");
}

/// A tiny HTTP/1.1 exchange (no client library needed).
fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn command(agent: &Agent, name: &str, params: Value, wait: bool) -> (u16, Value) {
    http(
        "POST",
        &format!(
            "{}/v1/commands/?agent_token={TOKEN}&wait={wait}",
            agent.base
        ),
        Some(&json!({"name": name, "params": params})),
    )
}

/// Serves `data` once per connection; `delay` before the body.
fn serve(data: Vec<u8>, delay: Duration) -> String {
    serve_with(data, delay, 0)
}

/// As `serve`, but the first `broken` answers stop halfway through the body.
fn serve_with(data: Vec<u8>, delay: Duration, broken: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().flatten().enumerate() {
            let data = if n < broken {
                let mut half = data.clone();
                half.truncate(data.len() / 2);
                (data.len(), half)
            } else {
                (data.len(), data.clone())
            };
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let (len, body) = data;
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                );
                std::thread::sleep(delay);
                let _ = conn.write_all(&body);
            });
        }
    });
    format!("http://127.0.0.1:{port}/image.raw")
}

fn sha256(data: &[u8]) -> String {
    let path =
        std::env::temp_dir().join(format!("ferric-sha-{}-{}", std::process::id(), free_port()));
    std::fs::write(&path, data).unwrap();
    let out = Command::new("sha256sum").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn write_image_params(url: &str, sha: &str) -> Value {
    json!({
        "step": {"interface": "deploy", "step": "write_image", "priority": 80,
                 "args": {"image_info": {"id": "image.raw", "urls": [url], "disk_format": "raw",
                                          "os_hash_algo": "sha256", "os_hash_value": sha}}},
        "node": {"uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123", "properties": {}, "instance_info": {}},
        "ports": [],
    })
}

#[test]
fn command_api() {
    let agent = start_agent(16 << 20);
    let (status, body) = http("GET", &format!("{}/v1/status", agent.base), None);
    assert_eq!(status, 200);
    assert!(body["version"]
        .as_str()
        .unwrap()
        .starts_with("ferric-agent"));

    // No token, a wrong token: 401 with IPA's body.
    let (status, body) = http("GET", &format!("{}/v1/commands/", agent.base), None);
    assert_eq!(status, 401, "{body}");
    assert!(body["faultstring"]
        .as_str()
        .unwrap()
        .contains("Token invalid"));
    let (status, _) = http(
        "GET",
        &format!("{}/v1/commands/?agent_token=nope", agent.base),
        None,
    );
    assert_eq!(status, 401);

    // Unknown extension 404, unknown command 400, bad params 400; none recorded.
    assert_eq!(command(&agent, "nope.get", json!({}), true).0, 404);
    let (status, body) = command(&agent, "clean.nope", json!({}), true);
    assert_eq!(status, 400);
    assert_eq!(body["faultcode"], "Client");
    assert_eq!(
        command(&agent, "clean.get_clean_steps", json!([]), true).0,
        400
    );
    let bad = json!({"step": {"interface": "deploy", "step": "write_image", "args": {"image_info": {"id": "x"}}}});
    assert_eq!(
        command(&agent, "deploy.execute_deploy_step", bad, false).0,
        400
    );
    let (_, log) = http(
        "GET",
        &format!("{}/v1/commands?agent_token={TOKEN}", agent.base),
        None,
    );
    assert_eq!(
        log["commands"],
        json!([]),
        "refused commands are not recorded"
    );

    // Steps.
    let (status, r) = command(
        &agent,
        "clean.get_clean_steps",
        json!({"node": {}, "ports": []}),
        true,
    );
    assert_eq!(status, 200);
    assert_eq!(r["command_status"], "SUCCEEDED");
    assert_eq!(r["command_name"], "get_clean_steps");
    let steps = &r["command_result"]["clean_steps"]["GenericHardwareManager"];
    assert!(steps
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["step"] == "erase_devices_metadata" && s["priority"] == 99));
    assert_eq!(
        r["command_result"]["hardware_manager_version"]["generic_hardware_manager"],
        "1.2"
    );
    let (_, r) = command(
        &agent,
        "deploy.get_deploy_steps",
        json!({"node": {}, "ports": []}),
        true,
    );
    assert!(
        r["command_result"]["deploy_steps"]["GenericHardwareManager"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "write_image")
    );

    // Inventory from the test-mode machine.
    let (_, r) = command(&agent, "poll.get_hardware_info", json!({}), true);
    let inv = &r["command_result"];
    assert_eq!(inv["interfaces"][0]["mac_address"], MAC);
    assert_eq!(inv["disks"][0]["size"], 16 << 20);
    assert!(inv["cpu"]["count"].as_u64().unwrap() >= 1);
    assert!(inv["memory"]["total"].as_u64().unwrap() > 0);

    // No boot loader to install before an image is on the disk.
    let (_, r) = command(
        &agent,
        "image.install_bootloader",
        json!({"root_uuid": "0x00000000"}),
        true,
    );
    assert_eq!(r["command_status"], "FAILED", "{r}");
    assert_eq!(r["command_error"]["type"], "DeviceNotFound", "{r}");

    // An image streamed to the disk and verified; one command at a time.
    let image: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = sha256(&image);
    let url = serve(image.clone(), Duration::from_millis(1500));
    let (status, r) = command(
        &agent,
        "deploy.execute_deploy_step",
        write_image_params(&url, &sha),
        false,
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["command_status"], "RUNNING");
    let id = r["id"].as_str().unwrap().to_string();
    let (status, busy) = command(&agent, "clean.get_clean_steps", json!({}), true);
    assert_eq!(status, 409, "{busy}");
    let (_, done) = http(
        "GET",
        &format!(
            "{}/v1/commands/{id}?agent_token={TOKEN}&wait=true",
            agent.base
        ),
        None,
    );
    assert_eq!(done["command_status"], "SUCCEEDED", "{done}");
    assert_eq!(done["command_result"]["deploy_step"]["step"], "write_image");
    let result = done["command_result"]["deploy_result"]["result"]
        .as_str()
        .unwrap();
    assert!(
        result.starts_with("prepare_image: image (image.raw) written to device"),
        "{result}"
    );
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert_eq!(&disk[..image.len()], &image[..]);
    let (_, r) = command(&agent, "standby.get_partition_uuids", json!({}), true);
    let expected = format!(
        "0x{:08x}",
        u32::from_le_bytes(image[440..444].try_into().unwrap())
    );
    assert_eq!(r["command_result"]["root uuid"], expected);
    // A whole-disk image carries its own boot loader: nothing to install.
    let (_, r) = command(
        &agent,
        "image.install_bootloader",
        json!({"root_uuid": expected}),
        true,
    );
    assert_eq!(r["command_status"], "SUCCEEDED", "{r}");
    let (_, r) = command(&agent, "standby.sync", json!({}), true);
    assert_eq!(r["command_status"], "SUCCEEDED", "{r}");

    // A wrong digest fails the step with the reason and wipes the first MiB.
    let url = serve(image.clone(), Duration::ZERO);
    let (_, r) = command(
        &agent,
        "deploy.execute_deploy_step",
        write_image_params(&url, &"a".repeat(64)),
        true,
    );
    assert_eq!(r["command_status"], "FAILED", "{r}");
    assert_eq!(r["command_error"]["type"], "ImageChecksumError");
    assert!(r["command_error"]["details"]
        .as_str()
        .unwrap()
        .contains(&sha));
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert!(disk[..1 << 20].iter().all(|&b| b == 0));

    // A download that breaks off halfway is started over, and then succeeds.
    let url = serve_with(image.clone(), Duration::ZERO, 2);
    let (_, r) = command(
        &agent,
        "deploy.execute_deploy_step",
        write_image_params(&url, &sha),
        true,
    );
    assert_eq!(r["command_status"], "SUCCEEDED", "{r}");
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert_eq!(&disk[..image.len()], &image[..]);

    // A checksum file (sha512, several entries) for an image served under another
    // name, as the conductor's cache serves it: the image id names its entry.
    let sha512 = {
        let path = agent.dir.join("image.sha512");
        std::fs::write(&path, &image).unwrap();
        let out = Command::new("sha512sum").arg(&path).output().unwrap();
        String::from_utf8(out.stdout).unwrap()[..128].to_string()
    };
    let sums = format!("{} other.raw\n{sha512}  image.raw\n", "0".repeat(128));
    let sums_url = serve(sums.into_bytes(), Duration::ZERO).replace("image.raw", "SHA512SUMS");
    let cached_url = serve(image.clone(), Duration::ZERO).replace("image.raw", "0a1b2c3d");
    let mut params = write_image_params(&cached_url, "unused");
    params["step"]["args"]["image_info"]["os_hash_algo"] = json!("sha512");
    params["step"]["args"]["image_info"]["os_hash_value"] = json!(sums_url);
    let (_, r) = command(&agent, "deploy.execute_deploy_step", params.clone(), true);
    assert_eq!(r["command_status"], "SUCCEEDED", "{r}");
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert_eq!(&disk[..image.len()], &image[..]);

    // A root device smaller than root_gb: refused before anything is written.
    params["step"]["args"]["image_info"]["root_gb"] = json!(1);
    let (_, r) = command(&agent, "deploy.execute_deploy_step", params, true);
    assert_eq!(r["command_status"], "FAILED", "{r}");
    assert!(
        r["command_error"]["details"]
            .as_str()
            .unwrap()
            .contains("less than the 1 GiB root_gb"),
        "{r}"
    );
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert_eq!(&disk[..image.len()], &image[..], "nothing was written");

    // A download that always breaks off fails the step and wipes the metadata.
    let url = serve_with(image.clone(), Duration::ZERO, usize::MAX);
    let (_, r) = command(
        &agent,
        "deploy.execute_deploy_step",
        write_image_params(&url, &sha),
        true,
    );
    assert_eq!(r["command_status"], "FAILED", "{r}");
    assert_eq!(r["command_error"]["type"], "ImageDownloadError", "{r}");
    let disk = std::fs::read(agent.dir.join("disk.img")).unwrap();
    assert!(disk[..1 << 20].iter().all(|&b| b == 0));

    // Logs are a gzip archive.
    let (_, r) = command(&agent, "log.collect_system_logs", json!({}), true);
    let logs = r["command_result"]["system_logs"].as_str().unwrap();
    assert!(logs.starts_with("H4sI"), "base64 of a gzip stream");

    // Powering off ends the test-mode machine.
    let (_, r) = command(&agent, "standby.power_off", json!({}), false);
    assert_eq!(r["command_status"], "RUNNING");
    let mut agent = agent;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = agent.child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(Instant::now() < deadline, "the agent did not power off");
        std::thread::sleep(Duration::from_millis(50));
    }
}
