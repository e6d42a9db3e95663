//! End to end through the ramdisk agent, on SQLite and on PostgreSQL: a real
//! `ferricd` and real `ferric-agent` processes in test mode, each virtual node a
//! fake-hardware node (`deploy_interface=direct`) whose disk is a file. A small
//! watcher plays the machine: when the node boots from the network (power on, boot
//! device pxe, a new boot counted) it starts an agent; when the node powers off it
//! stops it. Images are served by an HTTP server inside the test.
//!
//! Covered: cleaning through the agent (metadata erased), deploying a raw image
//! (disk bytes = image bytes, and `qemu-img compare`), undeploy + automated
//! cleaning, a bad checksum (`deploy failed`, reason in `last_error`), an agent
//! killed mid-write (callback timeout, or the agent found gone → `deploy failed`), a redeploy that then
//! succeeds, a qcow2 image converted on the way (`qemu-img compare`), a JSON config
//! drive built into a config-2 ISO and written to a partition at the end of the disk
//! (every file read back with `isoinfo` equal to what was given, `blkid` sees
//! `LABEL=config-2 TYPE=iso9660`), and images served from the conductor's cache
//! (`image_download_source=http`, local paths). ferricd and the agents log at debug
//! level, and no agent token the node was given appears in any of their logs. A
//! deploy asked for under the caller's request id keeps it end to end: the agent
//! logs its commands under it and its heartbeats bring it back to the conductor.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

async fn scenario(database_url: Option<String>) {
    let dir = scratch("deploy");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let image = image_bytes(6 * MIB + 12_345, 7);
    std::fs::write(images.join("good.raw"), &image).unwrap();
    let sha = sha256_hex(&images.join("good.raw"));
    let (img_port, slow_started, hits) = serve_images(images.clone()).await;
    let img = |name: &str| format!("http://127.0.0.1:{img_port}/{name}");

    let debug = ["--log".to_string(), "debug".to_string()];
    let ferric = Ferric::start_with(&dir, database_url.clone(), "", &debug).await;
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
    let tokens = TokenWatch::start(&dir, database_url, &uuid).await;
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
    // Asked for under the caller's own request id, which the deploy keeps.
    let request_id = "req-5e1d0c4b-7a2f-4e3d-8c9b-0a1b2c3d4e5f";
    ferric.provision_as(&uuid, "active", request_id).await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    // The id went to the agent with its commands and came back with its
    // heartbeats: the conductor's last state change, made on a heartbeat, is
    // logged under it, and so is the agent's work.
    let log = std::fs::read_to_string(&ferric.log).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("global_request_id={request_id}"))
                && l.contains("provision state change")
                && l.contains("to=active")),
        "no line of the heartbeat that finished the deploy carries {request_id}"
    );
    let agent_logs: String = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        agent_logs.contains(request_id),
        "the agent's logs do not carry {request_id}"
    );
    assert_eq!(node["power_state"], "power on");
    assert_eq!(node["driver_internal_info"]["fake_boot_device"], "disk");
    assert_eq!(node["driver_internal_info"]["network_binding"], "tenant");
    assert_eq!(
        read_range(&vm.disk, 0, image.len()),
        image,
        "disk holds the image"
    );
    assert_same_guest_bytes(&vm.disk, &images.join("good.raw"), "raw");
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
    // Either the callback times out, or a heartbeat the agent sent before it died
    // finds it gone.
    let err = node["last_error"].as_str().unwrap_or_default().to_string();
    assert!(
        err.to_lowercase().contains("timeout") || err.contains("cannot connect to the agent"),
        "{err}"
    );
    ferric
        .patch_instance_info(&uuid, json!({"image_source": img("good.raw")}))
        .await;
    ferric.provision(&uuid, "active").await;
    let node = ferric
        .wait_for(&uuid, &["active", "deploy failed"], budget)
        .await;
    assert_eq!(node["provision_state"], "active", "{node}");
    assert_eq!(read_range(&vm.disk, 0, image.len()), image);
    assert_same_guest_bytes(&vm.disk, &images.join("good.raw"), "raw");

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
    assert_same_guest_bytes(&vm.disk, &images.join("holey.qcow2"), "qcow2");

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
    let network_data = json!({
        "links": [{"id": "nic0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56", "mtu": 1500}],
        "networks": [{"id": "net0", "link": "nic0", "type": "ipv4", "ip_address": "10.9.0.5",
                      "netmask": "255.255.255.0", "routes": []}],
        "services": [{"type": "dns", "address": "10.9.0.1"}],
    });
    let vendor_data = json!({"site": "lab", "rack": 7});
    let (status, body) = ferric
        .call(
            reqwest::Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "active", "configdrive": {
                "meta_data": {"hostname": "vm-1", "public_keys": {"k": "ssh-ed25519 AAAA test"}},
                "user_data": user_data,
                "network_data": network_data,
                "vendor_data": vendor_data,
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
    assert_eq!(net, network_data, "network_data as given");
    let vendor: Value =
        serde_json::from_str(&extract("/openstack/latest/vendor_data.json")).unwrap();
    assert_eq!(vendor, vendor_data, "vendor_data as given");
    // What the image's cloud-init looks for: a config-2 labelled ISO 9660 partition.
    let probe = Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(&iso_path)
        .output()
        .expect("blkid is installed");
    let probe = String::from_utf8_lossy(&probe.stdout).to_string();
    assert!(
        probe.contains("TYPE=iso9660") && probe.contains("LABEL=config-2"),
        "{probe}"
    );

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

    assert_metrics_moved(&ferric).await;

    // Everything ran at debug level: no agent token reached a log line.
    tokens.assert_not_logged(&dir);
    watcher.abort();
    drop(vm);
    drop(ferric);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_through_the_agent_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_through_the_agent_postgres() {
    scenario(Some(postgres_url())).await;
}

/// `qemu-img compare`: the disk holds the image's guest bytes (and zeros after).
fn assert_same_guest_bytes(disk: &std::path::Path, image: &std::path::Path, format: &str) {
    let out = Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", format])
        .arg(disk)
        .arg(image)
        .output()
        .expect("qemu-img is installed");
    assert!(
        out.status.success(),
        "qemu-img compare {} {}: {}{}",
        disk.display(),
        image.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `/metrics` after the scenario, read by a Prometheus text parser (a strict
/// grammar: it refuses the whole scrape on one malformed line): the counters and
/// histograms of what the scenario did moved, and the fleet gauge holds its node.
async fn assert_metrics_moved(ferric: &Ferric) {
    use prom_text_format_parser::{Scrape, Type, ValueType};
    let base = ferric.api.trim_end_matches("/v1");
    let resp = ferric
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let scrape =
        Scrape::parse(&text).unwrap_or_else(|e| panic!("not Prometheus text ({e:?}):\n{text}"));
    // A counter's or gauge's value, a histogram's count, summed over the samples
    // that have `labels`.
    let total = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let Some(metric) = scrape.metrics.iter().find(|m| m.name == name) else {
            return 0.0;
        };
        let wanted = match metric.kind {
            Type::Histogram | Type::Summary => ValueType::Count,
            _ => ValueType::Sample,
        };
        metric
            .samples
            .iter()
            .filter(|s| s.value.value_type == wanted)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|l| l.key == *k && l.value == *v))
            })
            .map(|s| s.value.value.as_f64())
            .sum::<f64>()
            + 0.0
    };
    assert!(
        scrape
            .metrics
            .iter()
            .any(|m| m.name == "ferric_api_requests_total" && m.help_desc.is_some()),
        "no HELP for the request counter"
    );
    // manage, provide, three deploys, the bad checksum refused, undeploy, rescue, unrescue.
    let provisions = total(
        "ferric_api_requests_total",
        &[
            ("method", "PUT"),
            ("route", "/v1/nodes/{node}/states/provision"),
            ("status", "202"),
        ],
    );
    assert!(
        provisions >= 6.0,
        "{provisions} provision requests:\n{text}"
    );
    assert!(
        total(
            "ferric_api_request_duration_seconds",
            &[("route", "/v1/nodes/{node}")]
        ) >= 1.0,
        "node reads are timed:\n{text}"
    );
    assert!(total("ferric_agent_heartbeats_total", &[("outcome", "processed")]) >= 3.0);
    for state in [
        "deploying",
        "wait call-back",
        "cleaning",
        "clean wait",
        "rescue wait",
    ] {
        assert!(
            total("ferric_provision_state_seconds", &[("state", state)]) >= 1.0,
            "no time recorded in {state}:\n{text}"
        );
    }
    assert!(
        total("ferric_step_seconds", &[("phase", "deploy")]) >= 1.0,
        "deploy steps are timed:\n{text}"
    );
    assert!(total("ferric_image_cache_lookups_total", &[("result", "miss")]) >= 1.0);
    assert_eq!(
        total(
            "ferric_nodes",
            &[
                ("provision_state", "active"),
                ("power_state", "power on"),
                ("maintenance", "false"),
                ("fault", "none")
            ]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(total("ferric_nodes", &[]), 1.0, "one node in all:\n{text}");
    assert!(total("ferric_conductor_workers", &[]) >= 1.0);

    // The sample Grafana dashboard charts metrics that exist (the boot services'
    // only exist where those services run).
    let dashboard = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/grafana/ferric-dashboard.json"),
    )
    .unwrap();
    let charted: std::collections::BTreeSet<&str> = dashboard
        .match_indices("ferric_")
        .map(|(at, _)| {
            let name = &dashboard[at..];
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            let name = &name[..end];
            ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
        })
        .filter(|n| {
            !["ferric_dhcp_", "ferric_tftp_", "ferric_ra_"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    assert!(charted.len() >= 10, "{charted:?}");
    for name in charted {
        assert!(
            scrape.metrics.iter().any(|m| m.name == name),
            "the dashboard charts {name}, which /metrics does not have"
        );
    }
}
