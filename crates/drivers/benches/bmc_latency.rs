//! Per-call latency of the real-BMC drivers: `power status` through ipmitool against
//! a pyghmi BMC (`FERRIC_BENCH_IPMI_PORT`, from `lab/ipmi-bmc.sh`) and a Redfish
//! `PowerState` read against sushy-tools (`FERRIC_BENCH_REDFISH_URL`, from
//! `lab/sushy.sh`). A benchmark whose peer is not named is left out with a note.

use criterion::{criterion_group, criterion_main, Criterion};
use ferric_drivers::Drivers;
use ferric_types::hardware::{InterfaceKind, IPMI, REDFISH};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::json;

fn node(driver: &str, info: serde_json::Value) -> Node {
    let mut n = Node::new(
        NodeId::new_v4(),
        driver.into(),
        ProvisionState::Manageable,
        Timestamp::now(),
    );
    let hw = if driver == "ipmi" { &IPMI } else { &REDFISH };
    for kind in InterfaceKind::ALL {
        n.set_interface(kind, hw.default_interface(kind).map(str::to_string));
    }
    n.driver_info = info.as_object().unwrap().clone();
    n
}

fn latency(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("bmc");
    group.sample_size(20);
    match std::env::var("FERRIC_BENCH_IPMI_PORT") {
        Ok(port) => {
            let n = node(
                "ipmi",
                json!({"ipmi_address": "127.0.0.1", "ipmi_port": port, "ipmi_username": "admin", "ipmi_password": "password"}),
            );
            let driver = Drivers::default().for_node(&n).unwrap();
            group.bench_function("ipmi_power_status", |b| {
                b.to_async(&rt)
                    .iter(|| async { driver.power.get_power_state(&n).await.unwrap() })
            });
        }
        Err(_) => eprintln!("bmc/ipmi_power_status: set FERRIC_BENCH_IPMI_PORT to run it"),
    }
    match std::env::var("FERRIC_BENCH_REDFISH_URL") {
        Ok(url) => {
            let n = node(
                "redfish",
                json!({"redfish_address": url, "redfish_system_id": "00000000-0000-4000-8000-000000000001"}),
            );
            let driver = Drivers::default().for_node(&n).unwrap();
            group.bench_function("redfish_power_state", |b| {
                b.to_async(&rt)
                    .iter(|| async { driver.power.get_power_state(&n).await.unwrap() })
            });
        }
        Err(_) => eprintln!("bmc/redfish_power_state: set FERRIC_BENCH_REDFISH_URL to run it"),
    }
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
