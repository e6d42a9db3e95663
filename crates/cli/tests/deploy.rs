//! `ferric deploy` end to end against `ferric demo --no-deploy` (Ferric all-in-one
//! and a simulated rack of two cleaned machines): one command reserves a node by
//! resource class, builds the config drive from an SSH key and user data, deploys,
//! waits and prints the node; the machine then boots the image. Bad input fails
//! with exit code 2 and changes nothing.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{documents, ferric, free_port};
use serde_json::Value;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ferric --url URL ARGS`.
fn ferric_at(url: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--url", url];
    all.extend_from_slice(args);
    ferric(&all)
}

/// `ferric node list` of the available nodes, as JSON.
fn available(url: &str) -> (i32, String, String) {
    ferric_at(
        url,
        &[
            "--format",
            "json",
            "node",
            "list",
            "--provision-state",
            "available",
        ],
    )
}

/// `ferric deploy` with JSON output and `--wait`; its summary.
fn deploy(url: &str, args: &[&str]) -> Value {
    let mut all = vec![
        "--format",
        "json",
        "deploy",
        "--resource-class",
        "sim",
        "--wait",
    ];
    all.extend_from_slice(args);
    let (code, out, err) = ferric_at(url, &all);
    assert_eq!(code, 0, "{err}");
    documents(&out).pop().unwrap()
}

#[test]
fn one_command_deploys_a_reserved_node() {
    let dir = std::env::temp_dir().join(format!("ferric-deploy-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("var")).unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let net_url = format!("http://127.0.0.1:{}", free_port());
    let demo = Demo(
        Command::new(env!("CARGO_BIN_EXE_ferric"))
            .args([
                "demo",
                "--no-deploy",
                "--nodes",
                "2",
                "--agent-net",
                "127.4.0.0",
            ])
            .args(["--listen", url.trim_start_matches("http://")])
            .args([
                "--network-api-listen",
                net_url.trim_start_matches("http://"),
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Ready when both nodes are cleaned.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (code, out, _) = available(&url);
        if code == 0
            && serde_json::from_str::<Value>(&out)
                .is_ok_and(|v| v.as_array().map(Vec::len) == Some(2))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo's nodes never became available"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let image = dir.join("var").join("mine.raw");
    // A boot sector with an empty partition table, then data.
    let mut data = vec![0x42u8; 3 << 20];
    data[..512].fill(0);
    data[510] = 0x55;
    data[511] = 0xaa;
    std::fs::write(&image, &data).unwrap();
    let sha = {
        let out = Command::new("sha256sum").arg(&image).output().unwrap();
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    };
    let key = dir.join("id.pub");
    std::fs::write(&key, "ssh-ed25519 AAAAC3Nza test@ferric\n").unwrap();
    let user_data = dir.join("user-data");
    std::fs::write(&user_data, "#cloud-config\nhostname: web-1\n").unwrap();
    let image_arg = image.display().to_string();

    // Bad input: a malformed checksum is refused before anything is reserved.
    let (code, _, err) = ferric_at(
        &url,
        &[
            "deploy",
            "--image",
            &image_arg,
            "--resource-class",
            "sim",
            "--checksum",
            "sha256:xyz",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let (_, out, _) = available(&url);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A tenant network for the instance, in the network service.
    let net = |args: &[&str]| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--fail-with-body",
                "-H",
                "Content-Type: application/json",
            ])
            .args(args)
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let network = net(&[
        "-X",
        "POST",
        &format!("{net_url}/v2.0/networks"),
        "-d",
        r#"{"network": {"name": "web"}}"#,
    ]);
    let network_id = network["network"]["id"].as_str().unwrap().to_string();
    net(&[
        "-X",
        "POST",
        &format!("{net_url}/v2.0/subnets"),
        "-d",
        &format!(r#"{{"subnet": {{"network_id": "{network_id}", "cidr": "10.77.0.0/24"}}}}"#),
    ]);
    let first = deploy(
        &url,
        &[
            "--image",
            &image_arg,
            "--checksum",
            &format!("sha256:{sha}"),
            "--network",
            "web",
            "--network-url",
            &net_url,
        ],
    );
    let address = first["addresses"][0].as_str().unwrap_or_default();
    assert!(
        address.starts_with("10.77.0."),
        "the instance's address on web: {first}"
    );
    let (code, shown_first, err) = ferric_at(
        &url,
        &[
            "--format",
            "json",
            "node",
            "show",
            first["name"].as_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        shown_first.contains("\"provision_state\": \"active\""),
        "{shown_first}"
    );

    let summary = deploy(
        &url,
        &[
            "--image",
            &image_arg,
            "--checksum",
            &format!("sha256:{sha}"),
            "--ssh-key",
            &key.display().to_string(),
            "--user-data",
            &user_data.display().to_string(),
            "--hostname",
            "web-1",
        ],
    );
    assert_eq!(summary["provision_state"], "active", "{summary}");
    assert!(summary["allocation_uuid"].is_string(), "{summary}");
    let name = summary["name"].as_str().unwrap().to_string();
    let (_, shown, _) = ferric_at(&url, &["--format", "json", "node", "show", &name]);
    let node: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(node["instance_info"]["configdrive"], "******");
    assert_eq!(node["instance_info"]["image_os_hash_value"], sha.as_str());
    // The machine's disk starts with the image.
    let disk = dir.join("rack").join("disks").join(format!("{name}.img"));
    let written = std::fs::read(&disk).unwrap();
    // (Its partition table now also lists the config drive partition.)
    assert!(
        written[512..data.len()] == data[512..] && written[510..512] == [0x55, 0xaa],
        "the image is on {name}'s disk"
    );
    assert_eq!(written[446 + 4], 0x83, "a config drive partition was added");
    drop(demo);
    let _ = std::fs::remove_dir_all(&dir);
}
