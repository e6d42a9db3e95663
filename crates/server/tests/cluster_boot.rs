//! The boot role in a process of its own, on the database the conductor writes:
//! a node prepared for network boot by an API+conductor `ferricd` boots from a
//! boot-only `ferricd` with its own data directory — its iPXE script over HTTP,
//! its kernel and ramdisk over HTTP and TFTP, fetched by the boot process itself
//! from their sources — and once the node stops network-booting, the boot process
//! serves nothing for it and drops its copies. An image the cache hands out is
//! served by a process that never cached it, from the source recorded for its key.

mod support;

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use support::{free_port, postgres_url, scratch, serve_images, Ferric};

fn tftp(port: u16, name: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "20"])
        .arg(format!("tftp://127.0.0.1:{port}/{name}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tftp {name}: curl exited {}",
        out.status
    );
    out.stdout
}

fn digest(text: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", "printf %s \"$0\" | sha256sum", text])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

// Several threads: curl runs blocking while the image origin serves the boot
// process from this runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_process_serves_what_another_process_prepared() {
    let dir = scratch("cluster-boot");
    let db = postgres_url();
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(images.join("kernel"), b"a kernel, served by the boot role").unwrap();
    std::fs::write(images.join("ramdisk"), vec![7u8; 300_000]).unwrap();
    let (origin, _, hits) = serve_images(images.clone()).await;
    let source = |name: &str| format!("http://127.0.0.1:{origin}/{name}");

    let p1 = dir.join("conductor");
    std::fs::create_dir_all(&p1).unwrap();
    let conductor = Ferric::start_with(
        &p1,
        Some(db.clone()),
        "",
        &["--role".into(), "api,conductor".into()],
    )
    .await;
    let p2 = dir.join("boot");
    std::fs::create_dir_all(&p2).unwrap();
    let (http_port, tftp_port) = (free_port(), free_port());
    let _boot = Ferric::start_without_api(
        &p2,
        Some(db.clone()),
        "",
        &[
            "--role".into(),
            "boot".into(),
            "--http-boot-listen".into(),
            format!("127.0.0.1:{http_port}"),
            "--tftp-listen".into(),
            format!("127.0.0.1:{tftp_port}"),
        ],
        http_port,
    )
    .await;
    let boot_url = format!("http://127.0.0.1:{http_port}");
    let get = |path: String| {
        let url = format!("{boot_url}{path}");
        async move { reqwest::get(url).await.unwrap() }
    };

    let (status, node) = conductor
        .call(
            Method::POST,
            "/nodes",
            Some(json!({
                "driver": "fake-hardware",
                "boot_interface": "ipxe",
                "inspect_interface": "agent",
                "driver_info": {"deploy_kernel": source("kernel"), "deploy_ramdisk": source("ramdisk")},
            })),
        )
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    conductor.provision(&uuid, "manage").await;
    conductor
        .wait_for(&uuid, &["manageable"], Duration::from_secs(20))
        .await;
    conductor.provision(&uuid, "inspect").await;
    conductor
        .wait_for(&uuid, &["inspect wait"], Duration::from_secs(20))
        .await;

    // The script the conductor rendered, from the boot process.
    let resp = get(format!("/boot/{uuid}/config")).await;
    assert_eq!(resp.status(), 200);
    let script = resp.text().await.unwrap();
    assert!(script.starts_with("#!ipxe"), "{script}");
    assert!(script.contains("ipa-api-url=http://127.0.0.1:"), "{script}");
    assert!(script.contains("ipa-inspection-callback-url="), "{script}");
    // Its kernel over HTTP, its ramdisk over TFTP: fetched by the boot process.
    let kernel = get(format!("/boot/{uuid}/deploy_kernel")).await;
    assert_eq!(kernel.status(), 200);
    assert_eq!(
        kernel.bytes().await.unwrap().as_ref(),
        std::fs::read(images.join("kernel")).unwrap()
    );
    assert_eq!(
        tftp(tftp_port, &format!("{uuid}/deploy_ramdisk")),
        std::fs::read(images.join("ramdisk")).unwrap()
    );
    assert_eq!(
        tftp(tftp_port, &format!("{uuid}/config")),
        script.as_bytes()
    );
    // The boot process's counters, on its HTTP boot listener.
    let metrics = get("/metrics".into()).await.text().await.unwrap();
    let completed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ferric_tftp_completed_total "))
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(completed, Some(2.0), "{metrics}");
    assert!(
        metrics.contains("ferric_http_boot_files_total"),
        "{metrics}"
    );
    let origin_reads = hits.lock().unwrap().clone();
    assert_eq!(
        (origin_reads["kernel"], origin_reads["ramdisk"]),
        (2, 2),
        "the conductor and the boot process each read the sources once"
    );
    let copies = p2.join("var/tftp").join(&uuid);
    assert!(copies.join("deploy_kernel").is_file());

    // Inspection aborted: the node boots nothing any more.
    conductor.provision(&uuid, "abort").await;
    conductor
        .wait_for(
            &uuid,
            &["inspect failed", "manageable"],
            Duration::from_secs(20),
        )
        .await;
    // A boot process asks the database about a file at most once a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = get(format!("/boot/{uuid}/config")).await;
    assert_eq!(resp.status(), 404);
    assert!(!copies.exists(), "the boot process dropped its copies");
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "20"])
        .arg(format!(
            "tftp://127.0.0.1:{tftp_port}/{uuid}/deploy_ramdisk"
        ))
        .output()
        .unwrap();
    assert!(!out.status.success(), "TFTP serves nothing for the node");

    // An image the cache handed out (its key's source recorded by the conductor
    // that cached it) is served by the boot process, which never cached it.
    let image = source("ramdisk");
    let key = digest(&image);
    let recorded = Command::new("psql")
        .arg(&db)
        .arg("-qc")
        .arg(format!(
            "INSERT INTO served_images (image_key, source) VALUES ('{key}', '{image}')"
        ))
        .status()
        .unwrap();
    assert!(recorded.success());
    let resp = get(format!("/images/{key}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), 300_000);
    let unknown = get(format!("/images/{}", "0".repeat(64))).await;
    assert_eq!(unknown.status(), 404);
}
