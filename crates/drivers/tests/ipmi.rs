//! The ipmi driver against a real IPMI 2.0 BMC: the pyghmi-based emulator started by
//! `lab/ipmi-bmc.sh` (`lab/run-tests.sh` does it), at 127.0.0.1 ports
//! `FERRIC_TEST_IPMI_PORT` and the next ones, user `admin`, password `password`, each
//! writing its state to `FERRIC_TEST_IPMI_DIR/bmc-PORT.json`. Without them the tests
//! fail: a protocol we claim to speak is never skipped.

use std::time::Duration;

use ferric_drivers::{BootDevice, Drivers, PowerTarget};
use ferric_types::hardware::{InterfaceKind, IPMI};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::{json, Value};

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: start the BMCs with lab/ipmi-bmc.sh (lab/run-tests.sh does)")
    })
}

fn port(offset: u16) -> u16 {
    env("FERRIC_TEST_IPMI_PORT").parse::<u16>().unwrap() + offset
}

fn state(port: u16) -> Value {
    let path = format!("{}/bmc-{port}.json", env("FERRIC_TEST_IPMI_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn node(port: u16, password: &str) -> Node {
    let mut node = Node::new(
        NodeId::new_v4(),
        "ipmi".into(),
        ProvisionState::Enroll,
        Timestamp::now(),
    );
    for kind in InterfaceKind::ALL {
        node.set_interface(kind, IPMI.default_interface(kind).map(str::to_string));
    }
    node.driver_info = json!({
        "ipmi_address": "127.0.0.1",
        "ipmi_port": port,
        "ipmi_username": "admin",
        "ipmi_password": password,
        "ipmi_cipher_suite": 3,
        "ipmi_timeout": 10,
    })
    .as_object()
    .unwrap()
    .clone();
    node
}

#[tokio::test]
async fn power_follows_requests() {
    let p = port(0);
    let mut n = node(p, "password");
    let driver = Drivers::default().for_node(&n).unwrap();
    driver.power.validate(&n).await.expect("the BMC answers");
    for (target, want) in [
        (PowerTarget::On, "power on"),
        (PowerTarget::Reboot, "power on"),
        (PowerTarget::Off, "power off"),
    ] {
        driver
            .power
            .set_power_state(&mut n, target, Some(Duration::from_secs(20)))
            .await
            .unwrap();
        assert_eq!(
            driver.power.get_power_state(&n).await.unwrap(),
            want,
            "{target:?}"
        );
    }
    assert_eq!(state(p)["power"], "off");
}

#[tokio::test]
async fn boot_device_and_nmi_reach_the_bmc() {
    let p = port(1);
    let mut n = node(p, "password");
    n.boot_mode = Some("uefi".into());
    let driver = Drivers::default().for_node(&n).unwrap();
    driver
        .management
        .set_boot_device(
            &mut n,
            BootDevice {
                device: "pxe".into(),
                persistent: true,
            },
        )
        .await
        .unwrap();
    let got = driver
        .management
        .get_boot_device(&n)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.device, "pxe");
    assert!(got.persistent);
    let seen = state(p);
    assert_eq!(seen["boot_device"], "pxe", "{seen}");
    assert_eq!(seen["boot_persistent"], true, "{seen}");
    assert_eq!(seen["boot_uefi"], true, "{seen}");
    driver
        .management
        .set_boot_device(
            &mut n,
            BootDevice {
                device: "disk".into(),
                persistent: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        driver
            .management
            .get_boot_device(&n)
            .await
            .unwrap()
            .unwrap()
            .device,
        "disk"
    );
    driver
        .power
        .set_power_state(&mut n, PowerTarget::On, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    driver.management.inject_nmi(&n).await.unwrap();
}

#[tokio::test]
async fn wrong_password_reads_well_and_never_shows() {
    let n = node(port(0), "wrong-secret");
    let err = Drivers::default()
        .for_node(&n)
        .unwrap()
        .power
        .validate(&n)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(!err.contains("wrong-secret"), "{err}");
    let mut silent = node(9, "password");
    silent.driver_info.insert("ipmi_timeout".into(), json!(3));
    let err = Drivers::default()
        .for_node(&silent)
        .unwrap()
        .power
        .validate(&silent)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
}
