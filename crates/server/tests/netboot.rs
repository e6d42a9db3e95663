//! ferricd's network boot path with real packets: ferricd runs inside a network
//! namespace with DHCP and TFTP on a veth; busybox `udhcpc` in a second namespace
//! plays a node's NIC, curl its firmware's HTTP and TFTP fetches. A node in `clean
//! wait` (waiting for its ramdisk) gets an address; PXE firmware gets the iPXE
//! binary, iPXE the node's rendered script — over HTTP for the `ipxe` boot
//! interface, over TFTP for `pxe` — which loads the cached deploy kernel and ramdisk
//! next to it with the agent's kernel parameters; a node at rest is not answered and
//! its by-MAC script sends it to its disk; an unknown PXE client is enrolled
//! (discovery); leases and metrics are checked, across a restart. Needs root
//! (namespaces), `ip`, busybox and curl.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const MAC_WAITING: &str = "52:54:00:bb:00:01";
const MAC_RESTING: &str = "52:54:00:bb:00:02";
const MAC_TFTP: &str = "52:54:00:bb:00:03";

fn run(args: &[&str]) -> String {
    let out = try_run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn try_run(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("runs")
}

/// Whether ferricd's API answers yet (curl fails with "connection refused" until
/// its listener is up).
fn api_up(lab: &Lab) -> bool {
    let url = "http://10.252.0.1:6385/v1/nodes";
    try_run(&["ip", "netns", "exec", &lab.srv, "curl", "-sf", url])
        .status
        .success()
}

struct Lab {
    srv: String,
    cli: String,
    ferricd: Option<Child>,
    dir: std::path::PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.ferricd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.srv])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.cli])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts (or restarts) ferricd in the server namespace and waits for its API.
fn start_ferricd(lab: &mut Lab) {
    if let Some(mut old) = lab.ferricd.take() {
        let _ = Command::new("kill").arg(old.id().to_string()).status();
        let _ = old.wait();
    }
    let dir = lab.dir.clone();
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(dir.join("ferricd.log"))
        .unwrap();
    lab.ferricd = Some(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.srv,
                env!("CARGO_BIN_EXE_ferricd"),
                "--listen",
                "10.252.0.1:6385",
                "--dhcp-interface",
                "fbs",
                "--tftp-listen",
                "10.252.0.1:69",
                "--network-api-listen",
                "10.252.0.1:9696",
                "--allow-insecure-noauth",
            ])
            .arg("--data-dir")
            .arg(dir.join("var"))
            .arg("--config")
            .arg(dir.join("ferricd.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !api_up(lab) {
        assert!(
            Instant::now() < deadline,
            "ferricd did not start: {}",
            std::fs::read_to_string(dir.join("ferricd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A call to ferricd's network API from inside the server namespace.
fn net_api(lab: &Lab, method: &str, path: &str, body: Value) -> Value {
    let url = format!("http://10.252.0.1:9696/v2.0{path}");
    let body = body.to_string();
    let out = run(&[
        "ip",
        "netns",
        "exec",
        &lab.srv,
        "curl",
        "-s",
        "-X",
        method,
        &url,
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
    ]);
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

/// A counter of ferricd's `/metrics`.
fn metric(lab: &Lab, name: &str) -> u64 {
    let text = String::from_utf8(fetch(lab, "http://10.252.0.1:6385/metrics")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

/// An API call made from inside the server namespace.
fn api(lab: &Lab, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut args = vec![
        "ip".to_string(),
        "netns".into(),
        "exec".into(),
        lab.srv.clone(),
        "curl".into(),
        "-s".into(),
        "-X".into(),
        method.into(),
        format!("http://10.252.0.1:6385/v1{path}"),
        "-H".into(),
        "X-OpenStack-Ironic-API-Version: 1.89".into(),
        "-H".into(),
        "Content-Type: application/json".into(),
    ];
    if let Some(b) = body {
        args.push("-d".into());
        args.push(b.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    serde_json::from_str(&run(&refs)).unwrap_or(Value::Null)
}

/// A DHCP exchange as iPXE (user class `iPXE`) or as BIOS PXE firmware.
fn udhcpc(lab: &Lab, mac: &str, ipxe: bool) -> Option<std::collections::HashMap<String, String>> {
    run(&["ip", "-n", &lab.cli, "link", "set", "fbc", "address", mac]);
    let script = lab.dir.join("script");
    let out = lab.dir.join("env");
    let _ = std::fs::remove_file(&out);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = bound ] && env > {}\nexit 0\n",
            out.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let st = Command::new("ip")
        .args([
            "netns", "exec", &lab.cli, "busybox", "udhcpc", "-i", "fbc", "-f", "-q", "-n", "-t",
            "6", "-T", "1", "-s",
        ])
        .arg(&script)
        .args(if ipxe {
            ["-x", "77:69505845"]
        } else {
            ["-V", "PXEClient:Arch:00000:UNDI:002001"]
        })
        .output()
        .unwrap();
    if !st.status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
    )
}

/// Enrolls a node whose deploy kernel and ramdisk are local files; its UUID.
fn node(lab: &Lab, name: &str, mac: &str, boot: &str) -> String {
    let (kernel, ramdisk) = (lab.dir.join("kernel"), lab.dir.join("ramdisk"));
    let n = api(
        lab,
        "POST",
        "/nodes",
        Some(
            json!({"driver": "fake-hardware", "deploy_interface": "direct", "name": name,
            "boot_interface": boot,
            "driver_info": {"deploy_kernel": kernel, "deploy_ramdisk": ramdisk}}),
        ),
    );
    let uuid = n["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("{n}"))
        .to_string();
    let p = api(
        lab,
        "POST",
        "/ports",
        Some(json!({"node_uuid": uuid, "address": mac})),
    );
    assert!(p["uuid"].is_string(), "{p}");
    uuid
}

/// Takes a node to `clean wait`: cleaning boots its ramdisk, which never calls back.
fn to_clean_wait(lab: &Lab, name: &str) {
    for target in ["manage", "provide"] {
        api(
            lab,
            "PUT",
            &format!("/nodes/{name}/states/provision"),
            Some(json!({"target": target})),
        );
        settle(
            lab,
            name,
            if target == "manage" {
                "manageable"
            } else {
                "clean wait"
            },
        );
    }
}

/// Fetches a URL from the server namespace into bytes.
fn fetch(lab: &Lab, url: &str) -> Vec<u8> {
    let out = try_run(&["ip", "netns", "exec", &lab.srv, "curl", "-sf", url]);
    assert!(out.status.success(), "{url}: curl exit {:?}", out.status);
    out.stdout
}

fn settle(lab: &Lab, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let n = api(lab, "GET", &format!("/nodes/{name}"), None);
        if n["provision_state"] == want && n["reservation"].is_null() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{name} never reached {want}");
}

#[test]
fn dhcp_and_ipxe_script_for_a_waiting_node() {
    let id = std::process::id() % 100_000;
    let dir = std::env::temp_dir().join(format!("ferric-netboot-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut lab = Lab {
        srv: format!("fnbs{id}"),
        cli: format!("fnbc{id}"),
        ferricd: None,
        dir: dir.clone(),
    };
    run(&["ip", "netns", "add", &lab.srv]);
    run(&["ip", "netns", "add", &lab.cli]);
    run(&[
        "ip", "link", "add", "fbs", "netns", &lab.srv, "type", "veth", "peer", "name", "fbc",
        "netns", &lab.cli,
    ]);
    run(&[
        "ip",
        "-n",
        &lab.srv,
        "addr",
        "add",
        "10.252.0.1/24",
        "dev",
        "fbs",
    ]);
    run(&["ip", "-n", &lab.srv, "link", "set", "fbs", "up"]);
    run(&["ip", "-n", &lab.srv, "link", "set", "lo", "up"]);
    run(&["ip", "-n", &lab.cli, "link", "set", "fbc", "up"]);
    std::fs::write(dir.join("kernel"), vec![0x4b; 300_000]).unwrap();
    std::fs::write(dir.join("ramdisk"), vec![0x52; 700_000]).unwrap();
    std::fs::create_dir_all(dir.join("ipxe")).unwrap();
    std::fs::write(dir.join("ipxe/undionly.kpxe"), b"BIOS iPXE").unwrap();
    std::fs::write(dir.join("ipxe/snponly.efi"), b"UEFI iPXE").unwrap();
    std::fs::write(
        dir.join("ferricd.toml"),
        format!(
            "[boot]\ndhcp_server_ip = \"10.252.0.1\"\ndhcp_pool_start = \"10.252.0.100\"\ndhcp_pool_end = \"10.252.0.150\"\n\
             dhcp_gateway = \"10.252.0.1\"\ndhcp_discovery = true\nipxe_dir = \"{}\"\n[deploy]\nhttp_url = \"http://10.252.0.1:6385\"\nallowed_local_paths = [\"{}\"]\n",
            dir.join("ipxe").display(),
            dir.display()
        ),
    )
    .unwrap();
    start_ferricd(&mut lab);

    let waiting = node(&lab, "waiting", MAC_WAITING, "ipxe");
    node(&lab, "resting", MAC_RESTING, "ipxe");
    let tftp = node(&lab, "tftp", MAC_TFTP, "pxe");
    to_clean_wait(&lab, "waiting");
    to_clean_wait(&lab, "tftp");

    // PXE firmware gets the iPXE binary over TFTP; iPXE gets the node's script.
    let pxe = udhcpc(&lab, MAC_WAITING, false).expect("PXE firmware gets an answer");
    assert_eq!(pxe["boot_file"], "undionly.kpxe");
    assert_eq!(pxe["siaddr"], "10.252.0.1");
    assert_eq!(
        fetch(&lab, "tftp://10.252.0.1/undionly.kpxe"),
        b"BIOS iPXE",
        "the iPXE binaries are copied into the boot root"
    );
    let lease = udhcpc(&lab, MAC_WAITING, true).expect("the waiting node's NIC gets an answer");
    assert_eq!(lease["ip"], "10.252.0.100", "the same address again");
    assert_eq!(lease["serverid"], "10.252.0.1");
    let script_url = format!("http://10.252.0.1:6385/boot/{waiting}/config");
    assert_eq!(lease["boot_file"], script_url);
    let script = String::from_utf8(fetch(&lab, &script_url)).unwrap();
    assert!(script.starts_with("#!ipxe\n"), "{script}");
    assert!(
        script.contains("kernel --name kernel deploy_kernel nofb nomodeset vga=normal ipa-api-url=http://10.252.0.1:6385 BOOTIF=${mac} initrd=ramdisk"),
        "{script}"
    );
    assert!(
        script.contains("initrd --name ramdisk deploy_ramdisk"),
        "{script}"
    );
    // The names resolve next to the script.
    let base = format!("http://10.252.0.1:6385/boot/{waiting}");
    assert_eq!(fetch(&lab, &format!("{base}/deploy_kernel")).len(), 300_000);
    assert_eq!(
        fetch(&lab, &format!("{base}/deploy_ramdisk")).len(),
        700_000
    );
    let by_mac = format!(
        "http://10.252.0.1:6385/boot/{}.ipxe",
        MAC_WAITING.replace(':', "-")
    );
    assert_eq!(
        String::from_utf8(fetch(&lab, &by_mac)).unwrap(),
        format!("#!ipxe\nchain {waiting}/config\n")
    );
    assert_eq!(
        fetch(&lab, "http://10.252.0.1:6385/boot/snponly.efi"),
        b"UEFI iPXE",
        "UEFI HTTP boot's binary"
    );
    let escape = try_run(&[
        "ip",
        "netns",
        "exec",
        &lab.srv,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--path-as-is",
        "http://10.252.0.1:6385/boot/../../etc/passwd",
    ]);
    assert_ne!(String::from_utf8_lossy(&escape.stdout), "200");
    let missing = try_run(&[
        "ip",
        "netns",
        "exec",
        &lab.srv,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://10.252.0.1:6385/boot/missing.efi",
    ]);
    assert_eq!(String::from_utf8_lossy(&missing.stdout), "404");

    // The node's provisioning port for the NIC gives it its address and adds its
    // DHCP options.
    let net = net_api(
        &lab,
        "POST",
        "/networks",
        json!({"network": {"name": "prov", "role": "provisioning"}}),
    );
    let net_id = net["network"]["id"].as_str().unwrap().to_string();
    let subnet = net_api(
        &lab,
        "POST",
        "/subnets",
        json!({"subnet": {"network_id": net_id, "cidr": "10.252.0.0/24", "ip_version": 4}}),
    );
    let subnet_id = subnet["subnet"]["id"].as_str().unwrap().to_string();
    let vif = net_api(
        &lab,
        "POST",
        "/ports",
        json!({"port": {"network_id": net_id, "mac_address": MAC_WAITING,
            "binding:host_id": waiting, "device_owner": "baremetal:provisioning",
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "10.252.0.77"}],
            "extra_dhcp_opts": [{"opt_name": "domain-name", "opt_value": "lab.example"}]}}),
    );
    assert!(vif["port"]["id"].is_string(), "{vif}");
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let lease = udhcpc(&lab, MAC_WAITING, true).expect("answered");
        // One exchange may straddle the table's refresh (every 2 s): its DISCOVER
        // was offered a pool address, its REQUEST answered with the new options.
        // The next exchange gets the fixed address.
        if lease.get("domain").map(String::as_str) == Some("lab.example")
            && lease.get("ip").map(String::as_str) == Some("10.252.0.77")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the port's fixed address and DHCP option never came: {lease:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // `pxe`: the same files, over TFTP.
    let lease = udhcpc(&lab, MAC_TFTP, true).expect("the pxe node's NIC gets an answer");
    assert_eq!(lease["ip"], "10.252.0.101");
    assert_eq!(lease["boot_file"], format!("{tftp}/config"));
    let script =
        String::from_utf8(fetch(&lab, &format!("tftp://10.252.0.1/{tftp}/config"))).unwrap();
    assert!(
        script.contains("kernel --name kernel deploy_kernel"),
        "{script}"
    );
    assert_eq!(
        fetch(&lab, &format!("tftp://10.252.0.1/{tftp}/deploy_ramdisk")).len(),
        700_000
    );

    assert!(
        udhcpc(&lab, MAC_RESTING, true).is_none(),
        "a node at rest is not answered"
    );
    // Discovery: an unknown PXE client gets no answer but is enrolled.
    const MAC_NEW: &str = "52:54:00:bb:00:09";
    assert!(udhcpc(&lab, MAC_NEW, false).is_none(), "not answered");
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let ports = api(
            &lab,
            "GET",
            &format!("/ports?address={MAC_NEW}&fields=node_uuid"),
            None,
        );
        if let Some(p) = ports["ports"].as_array().and_then(|a| a.first()) {
            break p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the new machine was not enrolled"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let found = api(
        &lab,
        "GET",
        &format!("/nodes/{}", port["node_uuid"].as_str().unwrap()),
        None,
    );
    assert_eq!(found["provision_state"], "enroll");
    assert_eq!(found["driver"], "fake-hardware");
    assert_eq!(found["extra"]["auto_discovered"], true);
    assert!(metric(&lab, "ferric_dhcp_offers_total") >= 3);
    assert!(metric(&lab, "ferric_dhcp_acks_total") >= 3);
    assert!(metric(&lab, "ferric_dhcp_ignored_total") >= 1);
    assert!(metric(&lab, "ferric_tftp_completed_total") >= 3);
    assert!(metric(&lab, "ferric_http_boot_files_total") >= 4);
    assert!(metric(&lab, "ferric_http_boot_refused_total") >= 1);

    // Leases outlive a restart: the pxe node keeps 10.252.0.101 although it now asks
    // first.
    start_ferricd(&mut lab);
    let again = udhcpc(&lab, MAC_TFTP, true).expect("answered after a restart");
    assert_eq!(again["ip"], "10.252.0.101");
    let again = udhcpc(&lab, MAC_WAITING, true).expect("answered after a restart");
    assert_eq!(again["ip"], "10.252.0.77", "its port's fixed address");
    let rest_url = format!(
        "http://10.252.0.1:6385/boot/{}.ipxe",
        MAC_RESTING.replace(':', "-")
    );
    let script = String::from_utf8(fetch(&lab, &rest_url)).unwrap();
    assert!(
        script.contains("booting from its disk") && script.trim_end().ends_with("exit"),
        "{script}"
    );

    // A deploy kernel outside the allowed directories is refused, not published.
    let sneaky = api(
        &lab,
        "POST",
        "/nodes",
        Some(
            json!({"driver": "fake-hardware", "deploy_interface": "direct", "name": "sneaky",
            "boot_interface": "ipxe",
            "driver_info": {"deploy_kernel": "/etc/passwd", "deploy_ramdisk": lab.dir.join("ramdisk")}}),
        ),
    );
    assert!(sneaky["uuid"].is_string(), "{sneaky}");
    api(
        &lab,
        "PUT",
        "/nodes/sneaky/states/provision",
        Some(json!({"target": "manage"})),
    );
    settle(&lab, "sneaky", "manageable");
    api(
        &lab,
        "PUT",
        "/nodes/sneaky/states/provision",
        Some(json!({"target": "provide"})),
    );
    settle(&lab, "sneaky", "clean failed");
    let failed = api(&lab, "GET", "/nodes/sneaky", None);
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("allowed_local_paths"),
        "{failed}"
    );

    // Leaving cleaning removes the node's boot files.
    api(
        &lab,
        "PUT",
        "/nodes/waiting/states/provision",
        Some(json!({"target": "abort"})),
    );
    settle(&lab, "waiting", "clean failed");
    let gone = try_run(&["ip", "netns", "exec", &lab.srv, "curl", "-sf", &script_url]);
    assert!(
        !gone.status.success(),
        "the script is removed after an abort"
    );
}
