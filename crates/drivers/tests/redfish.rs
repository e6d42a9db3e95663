//! The redfish driver against a real Redfish service: sushy-tools' emulator, started
//! by `lab/sushy.sh` (`lab/run-tests.sh` does it) and named by
//! `FERRIC_TEST_REDFISH_URL` (no auth, instant power changes) and
//! `FERRIC_TEST_REDFISH_AUTH_URL` (basic auth `admin`/`password`, real 1–11 s delays).
//! Without them the tests fail: a protocol we claim to speak is never skipped.

use std::time::Duration;

use ferric_drivers::{BootDevice, Drivers, PowerTarget};
use ferric_types::hardware::{InterfaceKind, REDFISH};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::json;

fn url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: start the emulator with lab/sushy.sh (lab/run-tests.sh does)")
    })
}

/// A redfish node for system `n` (1-based) of the emulator at `address`.
fn node(address: &str, n: u32, extra: serde_json::Value) -> Node {
    let mut node = Node::new(
        NodeId::new_v4(),
        "redfish".into(),
        ProvisionState::Enroll,
        Timestamp::now(),
    );
    for kind in InterfaceKind::ALL {
        node.set_interface(kind, REDFISH.default_interface(kind).map(str::to_string));
    }
    let mut info = json!({
        "redfish_address": address,
        "redfish_system_id": format!("00000000-0000-4000-8000-{n:012}"),
    });
    for (k, v) in extra.as_object().unwrap() {
        info[k] = v.clone();
    }
    node.driver_info = info.as_object().unwrap().clone();
    node
}

#[tokio::test]
async fn power_follows_requests() {
    let mut n = node(&url("FERRIC_TEST_REDFISH_URL"), 1, json!({}));
    let driver = Drivers::default().for_node(&n).unwrap();
    driver
        .power
        .validate(&n)
        .await
        .expect("the emulator answers");
    for (target, want) in [
        (PowerTarget::On, "power on"),
        (PowerTarget::Off, "power off"),
        (PowerTarget::Reboot, "power on"),
        (PowerTarget::SoftOff, "power off"),
    ] {
        driver
            .power
            .set_power_state(&mut n, target, Some(Duration::from_secs(30)))
            .await
            .unwrap();
        assert_eq!(
            driver.power.get_power_state(&n).await.unwrap(),
            want,
            "{target:?}"
        );
        assert_eq!(n.power_state.as_deref(), Some(want));
    }
}

#[tokio::test]
async fn boot_device_is_recorded() {
    let mut n = node(&url("FERRIC_TEST_REDFISH_URL"), 2, json!({}));
    let driver = Drivers::default().for_node(&n).unwrap();
    for (device, persistent) in [("pxe", false), ("disk", true), ("cdrom", false)] {
        let wanted = BootDevice {
            device: device.into(),
            persistent,
        };
        driver
            .management
            .set_boot_device(&mut n, wanted.clone())
            .await
            .unwrap();
        let got = driver
            .management
            .get_boot_device(&n)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.device, device);
        // sushy-tools reports a one-time override as Continuous (a known emulator quirk).
        if persistent {
            assert!(got.persistent);
        }
    }
    let err = driver
        .management
        .set_boot_device(
            &mut n,
            BootDevice {
                device: "floppy".into(),
                persistent: false,
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
}

#[tokio::test]
async fn credentials_and_reachability_errors_read_well() {
    let auth = url("FERRIC_TEST_REDFISH_AUTH_URL");
    let good = node(
        &auth,
        1,
        json!({"redfish_username": "admin", "redfish_password": "password"}),
    );
    Drivers::default()
        .for_node(&good)
        .unwrap()
        .power
        .validate(&good)
        .await
        .expect("good credentials work");
    let bad = node(
        &auth,
        1,
        json!({"redfish_username": "admin", "redfish_password": "wrong"}),
    );
    let err = Drivers::default()
        .for_node(&bad)
        .unwrap()
        .power
        .validate(&bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(
        !err.contains("wrong"),
        "the password never appears in errors: {err}"
    );
    let gone = node("http://127.0.0.1:9", 1, json!({"redfish_timeout": 2}));
    let err = Drivers::default()
        .for_node(&gone)
        .unwrap()
        .power
        .validate(&gone)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be reached") || err.contains("did not answer"),
        "{err}"
    );
    let nameless = node(&url("FERRIC_TEST_REDFISH_URL"), 1, json!({}));
    let mut several = nameless.clone();
    several.driver_info.remove("redfish_system_id");
    let err = Drivers::default()
        .for_node(&several)
        .unwrap()
        .power
        .validate(&several)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("set driver_info redfish_system_id"), "{err}");
}

#[tokio::test]
async fn delayed_power_changes_are_waited_for() {
    // The emulator with auth runs the fake driver's real 1–11 s delay.
    let mut n = node(
        &url("FERRIC_TEST_REDFISH_AUTH_URL"),
        2,
        json!({"redfish_username": "admin", "redfish_password": "password"}),
    );
    let driver = Drivers::default().for_node(&n).unwrap();
    driver
        .power
        .set_power_state(&mut n, PowerTarget::On, Some(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(driver.power.get_power_state(&n).await.unwrap(), "power on");
}

/// Serves `body` to every request on a loopback port (the emulator downloads what
/// it inserts as virtual media); the URL of `/boot.iso` there.
fn image_server(body: &'static [u8]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        }
    });
    format!("http://127.0.0.1:{port}/boot.iso")
}

#[tokio::test]
async fn virtual_media_health_and_firmware_come_from_the_bmc() {
    let mut n = node(&url("FERRIC_TEST_REDFISH_URL"), 3, json!({}));
    let driver = Drivers::default().for_node(&n).unwrap();
    // The emulator's state outlives a run: start with empty drives.
    driver
        .management
        .detach_virtual_media(&mut n, &[])
        .await
        .unwrap();
    let media = driver.management.virtual_media(&n).await.unwrap();
    let cd = media
        .iter()
        .find(|m| m.media_types.iter().any(|t| t == "CD"))
        .expect("the emulator has a CD drive");
    assert!(!cd.inserted, "{media:?}");

    let image = image_server(b"not really an ISO");
    driver
        .management
        .attach_virtual_media(&mut n, "cdrom", &image)
        .await
        .unwrap();
    let media = driver.management.virtual_media(&n).await.unwrap();
    let cd = media
        .iter()
        .find(|m| m.media_types.iter().any(|t| t == "CD"))
        .unwrap();
    assert!(cd.inserted, "{media:?}");
    assert_eq!(cd.image.as_deref(), Some(image.as_str()));
    // A disk goes on the device that takes USB sticks.
    driver
        .management
        .attach_virtual_media(&mut n, "disk", &image)
        .await
        .unwrap();
    let media = driver.management.virtual_media(&n).await.unwrap();
    assert!(
        media
            .iter()
            .any(|m| m.inserted && m.media_types.iter().any(|t| t == "USBStick")),
        "{media:?}"
    );
    driver
        .management
        .detach_virtual_media(&mut n, &["cdrom".to_string()])
        .await
        .unwrap();
    let media = driver.management.virtual_media(&n).await.unwrap();
    assert_eq!(media.iter().filter(|m| m.inserted).count(), 1, "{media:?}");
    driver
        .management
        .detach_virtual_media(&mut n, &[])
        .await
        .unwrap();
    let media = driver.management.virtual_media(&n).await.unwrap();
    assert!(media.iter().all(|m| !m.inserted), "{media:?}");

    assert_eq!(
        driver.management.health(&n).await.unwrap().as_deref(),
        Some("OK")
    );
    let firmware = driver.management.firmware(&n).await.unwrap();
    let bmc = firmware.iter().find(|c| c.component == "bmc").unwrap();
    assert!(!bmc.version.is_empty(), "{firmware:?}");
    assert!(bmc.model.is_some(), "{firmware:?}");
}
