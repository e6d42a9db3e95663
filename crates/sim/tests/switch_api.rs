//! Ferric's `sim` switch driver against the rack's switch management API: binding
//! and unbinding ports shows in the switch's log and in `/sim/machines`, wrong
//! credentials and unknown ports are refused with errors that name the port and
//! never the password, and malformed writes change nothing.

use ferric_net::switch::sim::SimSwitch as SimDriver;
use ferric_net::switch::{Segment, SwitchDriver};
use ferric_sim::{PortSegment, Rack, RackConfig};
use serde_json::Value;

async fn rack(dir: &str) -> Rack {
    let dir = std::env::temp_dir().join(format!("ferric-{dir}-{}", std::process::id()));
    let mut config = RackConfig::new(2, dir, "http://127.0.0.1:9");
    config.disk_size = 1 << 20;
    config.agent_net = std::net::Ipv4Addr::new(127, 9, 0, 0);
    Rack::start(config).await.unwrap()
}

fn driver(rack: &Rack, switch: &str, password: &str) -> SimDriver {
    SimDriver::new(
        &rack.switch_url(switch),
        Some(("admin".into(), password.into())),
    )
    .unwrap()
}

#[tokio::test]
async fn the_driver_configures_the_rack_switches() {
    let rack = rack("switch-api").await;
    let leaf = driver(&rack, "sim-leaf-000a", "password");
    leaf.bind("Ethernet1/2", Segment::Vlan(101)).await.unwrap();
    leaf.unbind("Ethernet1/2").await.unwrap();
    leaf.bind("Ethernet1/2", Segment::Flat).await.unwrap();
    leaf.bind("Ethernet1/1", Segment::Vlan(200)).await.unwrap();
    let log: Vec<(String, PortSegment)> = rack
        .switch_log("sim-leaf-000a")
        .into_iter()
        .map(|c| (c.port, c.segment))
        .collect();
    assert_eq!(
        log,
        [
            ("Ethernet1/2".to_string(), PortSegment::Vlan(101)),
            ("Ethernet1/2".to_string(), PortSegment::Down),
            ("Ethernet1/2".to_string(), PortSegment::Untagged),
            ("Ethernet1/1".to_string(), PortSegment::Vlan(200)),
        ]
    );
    assert!(rack.switch_log("sim-leaf-000b").is_empty());

    // The machines' view: each NIC's switch port and its configuration.
    let status: Value = reqwest::get(format!("{}/sim/machines", rack.bmc_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nics = &status["machines"][0]["nics"];
    assert_eq!(nics[0]["port"], "Ethernet1/1");
    assert_eq!(nics[0]["segment"], "vlan 200");
    assert_eq!(nics[1]["switch"], "sim-leaf-000b");
    assert_eq!(nics[1]["segment"], "untagged");
    let one: Value = reqwest::get(rack.switch_url("sim-leaf-000a"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["changes"], 4);
    assert_eq!(one["ports"][1]["segment"], "untagged");
    assert_eq!(one["log"][0]["segment"], "vlan 101");
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let rack = rack("switch-api-bad").await;
    let wrong = driver(&rack, "sim-leaf-000a", "hunter2");
    let e = wrong
        .bind("Ethernet1/1", Segment::Vlan(5))
        .await
        .unwrap_err();
    assert!(e.contains("401"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");

    let leaf = driver(&rack, "sim-leaf-000a", "password");
    let e = leaf
        .bind("Ethernet1/49", Segment::Vlan(5))
        .await
        .unwrap_err();
    assert!(
        e.contains("404") && e.contains("no port Ethernet1/49"),
        "{e}"
    );
    let e = driver(&rack, "sim-leaf-009a", "password")
        .unbind("Ethernet1/1")
        .await
        .unwrap_err();
    assert!(e.contains("no switch sim-leaf-009a"), "{e}");
    assert!(leaf
        .bind("Ethernet1/1 ; reload", Segment::Flat)
        .await
        .is_err());

    let http = reqwest::Client::new();
    let url = format!("{}/ports/Ethernet1%2F1", rack.switch_url("sim-leaf-000a"));
    for body in [r#"{"vlan": 4095}"#, r#"{"vlan": "7"}"#, r#"{}"#, "junk"] {
        let r = http
            .put(&url)
            .basic_auth("admin", Some("password"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    assert!(rack.switch_log("sim-leaf-000a").is_empty());
}
