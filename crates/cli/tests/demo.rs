//! `ferric demo` end to end, as a newcomer runs it: Ferric all-in-one in the
//! process, a simulated rack beside it (Redfish BMCs driven by Ferric's own
//! `redfish` driver, agents network-booted on sparse disks), every machine
//! enrolled, managed, inspected, cleaned and deployed; then the same with a tenth of the
//! agents dying mid-write — those nodes end `deploy failed` with the timeout in
//! `last_error`, the rest `active`. Between inspection and cleaning the nodes go to
//! the `neutron` network interface: the rack's switches, driven by the `sim` switch
//! driver, must see exactly the inspected boot NICs' ports flipped.
//! When it keeps running, each `ferric` command of its closing hints works pasted.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{documents, free_port};
use serde_json::Value;

/// Runs the demo; (exit code, the node listings it printed, stderr).
fn demo(nodes: usize, agent_net: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let dir = std::env::temp_dir().join(format!(
        "ferric-demo-test-{}-{agent_net}",
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_ferric"))
        .args(["--format", "json", "demo", "--exit", "--image-mib", "8"])
        .args(["--nodes", &nodes.to_string()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args([
            "--network-api-listen",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .args(["--agent-net", agent_net])
        .arg("--dir")
        .arg(&dir)
        .args(extra)
        .output()
        .expect("ferric runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let listings = documents(&stdout);
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code().unwrap_or(-1), listings, stderr)
}

fn states(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["provision_state"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demo_deploys_every_machine() {
    let (code, listings, stderr) = demo(3, "127.2.0.0", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        listings.len(),
        4,
        "manage, inspect, provide, deploy: {listings:?}"
    );
    assert_eq!(states(&listings[0]), ["manageable"; 3]);
    assert_eq!(states(&listings[1]), ["manageable"; 3]);
    // Each machine's agent reported its hardware; the demo prints what came of it.
    let inspected: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" inspected: "))
        .collect();
    assert_eq!(inspected.len(), 3, "{stderr}");
    for line in inspected {
        assert!(
            !line.contains('?') && line.contains("MiB of memory"),
            "{line}"
        );
        assert!(
            line.contains("a root disk of 8.0 GiB (local_gb 7)"),
            "inspection reports the simulated disk's size: {line}"
        );
    }
    // Inspection added each machine's second NIC and linked both to their switch
    // ports from the LLDP the agents heard.
    let cabled: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" is cabled to "))
        .collect();
    assert_eq!(cabled.len(), 6, "{stderr}");
    for line in &cabled {
        assert!(!line.contains('?'), "{line}");
    }
    assert!(
        stderr.contains("sim-00001 NIC 52:54:00:00:00:01 (boot) is cabled to sim-leaf-000a port Ethernet1/2 (02:5e:00:00:00:00)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sim-00002 NIC 52:54:01:00:00:02 is cabled to sim-leaf-000b port Ethernet1/3 (02:5e:00:00:00:01)"),
        "{stderr}"
    );
    assert_eq!(states(&listings[2]), ["available"; 3]);
    assert_eq!(states(&listings[3]), ["active"; 3]);
    // With the neutron network interface after inspection, the sim switch driver
    // moved each boot NIC's switch port — and only those — through cleaning,
    // provisioning and the tenant VLAN; the second NICs' switch was never touched.
    for (i, node) in ["sim-00000", "sim-00001", "sim-00002"].iter().enumerate() {
        let want = format!(
            "switch sim-leaf-000a port Ethernet1/{} ({node}'s boot NIC): vlan 101 → down → vlan 100 → down → vlan 200",
            i + 1
        );
        assert!(stderr.contains(&want), "{want}\n{stderr}");
    }
    assert!(
        stderr.contains("switch sim-leaf-000b: no port changed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("configured exactly the 3 switch ports inspection linked to boot NICs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 of 3 machines booted their deployed image"),
        "{stderr}"
    );
}

#[test]
fn agents_dying_mid_write_fail_only_their_nodes() {
    let (code, listings, stderr) = demo(
        10,
        "127.3.0.0",
        &["--crash-mid-write", "0.1", "--callback-timeout", "30"],
    );
    assert_eq!(code, 1, "a failed node makes the command fail: {stderr}");
    let deployed = listings.last().unwrap().as_array().unwrap();
    let failed: Vec<&Value> = deployed
        .iter()
        .filter(|n| n["provision_state"] == "deploy failed")
        .collect();
    let active = deployed
        .iter()
        .filter(|n| n["provision_state"] == "active")
        .count();
    assert_eq!(failed.len(), 1, "{deployed:?}");
    assert_eq!(active, 9, "{deployed:?}");
    let why = failed[0]["last_error"].as_str().unwrap();
    assert!(
        why.contains("Timeout reached while waiting for callback")
            && why.contains("wait call-back"),
        "{why}"
    );
    assert!(stderr.contains("deploy failed"), "{stderr}");
    // The failed node's port went through cleaning and provisioning too; no other
    // port was touched.
    assert!(
        stderr.contains("configured exactly the 10 switch ports inspection linked to boot NICs"),
        "{stderr}"
    );
}

/// The commands of the demo's closing hints (`  ferric …` lines, without the
/// comment after two spaces) and the environment its `export FERRIC_URL` line sets.
fn pasted_hints(stderr: &[String]) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let mut commands = Vec::new();
    let mut env = Vec::new();
    // A hint is indented by two spaces.
    for line in stderr.iter().filter_map(|l| l.strip_prefix("  ")) {
        let command = line.split("  ").next().unwrap_or_default();
        if let Some(vars) = command.strip_prefix("export FERRIC_URL=") {
            for pair in format!("FERRIC_URL={vars}").split_whitespace() {
                let (k, v) = pair.split_once('=').unwrap();
                env.push((k.to_string(), v.to_string()));
            }
        } else if let Some(args) = command.strip_prefix("ferric ") {
            commands.push(args.split_whitespace().map(str::to_string).collect());
        }
    }
    (commands, env)
}

#[test]
fn the_closing_hints_work_when_pasted() {
    let dir = std::env::temp_dir().join(format!("ferric-demo-hints-{}", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_ferric"))
        .args(["demo", "--image-mib", "8", "--nodes", "2"])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args([
            "--network-api-listen",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .args(["--agent-net", "127.4.0.0", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferric runs");
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut said = Vec::new();
    while !said.iter().any(|l: &String| l.contains("Ctrl-C to stop")) {
        match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(line) => said.push(line),
            Err(e) => {
                panic!(
                    "the demo did not finish its flow ({e}):\n{}",
                    said.join("\n")
                );
            }
        }
    }
    let (commands, env) = pasted_hints(&said);
    assert!(
        env.iter().any(|(k, _)| k == "FERRIC_URL"),
        "the hints say where Ferric is:\n{}",
        said.join("\n")
    );
    let verbs: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
    assert!(verbs.contains(&"deploy"), "{}", said.join("\n"));
    for command in &commands {
        let out = Command::new(env!("CARGO_BIN_EXE_ferric"))
            .args(command)
            .envs(env.iter().cloned())
            .output()
            .expect("ferric runs");
        assert!(
            out.status.success(),
            "`ferric {}` failed: {}",
            command.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A child process killed when the test ends, passed or not (else it would keep
/// the cargo lock its parent held).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
