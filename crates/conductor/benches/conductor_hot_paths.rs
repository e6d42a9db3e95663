//! Criterion benchmarks of the conductor's periodic work on SQLite: one power-sync
//! round over 1 000 fake-hardware nodes, the hash ring's node → conductor lookup,
//! and one conductor call (a node's boot devices) in process and over JSON-RPC on
//! loopback — the RPC's round trip.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;

use ferric_conductor::{Conductor, ConductorApi, ConductorConfig};
use ferric_conductor_api::client::{http_client, RemoteConductor};
use ferric_conductor_api::ring::HashRing;
use ferric_db::Datastore;
use ferric_types::hardware::{InterfaceKind, FAKE_HARDWARE};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ferric-conductor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let (conductor, first) = rt.block_on(async {
        let db = Datastore::connect(&url).await.unwrap();
        let mut first = None;
        for _ in 0..1000 {
            let n = FAKE_HARDWARE.new_node(ProvisionState::Available);
            db.node_create(&n).await.unwrap();
            first.get_or_insert(n.uuid);
        }
        let conductor = Conductor::new(
            db,
            ConductorConfig {
                host: "bench".into(),
                group: String::new(),
                workers: 100,
                ..ferric_conductor::ConductorConfig::default()
            },
        );
        conductor.register().await.unwrap();
        (conductor, first.unwrap())
    });
    c.bench_function("power_sync_1000_nodes", |b| {
        b.to_async(&rt).iter(|| async {
            let report = conductor.sync_power_states().await.unwrap();
            assert_eq!(report.checked, 1000);
        })
    });
    let ring = HashRing::new((0..10).map(|i| format!("conductor-{i}")).collect());
    let keys: Vec<String> = (0..1000).map(|_| NodeId::new_v4().to_string()).collect();
    c.bench_function("hash_ring_lookup_1000", |b| {
        b.iter(|| {
            keys.iter()
                .filter(|k| ring.get(k) == Some("conductor-0"))
                .count()
        })
    });
    rpc_round_trip(c, &rt, &conductor, first);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One call in process and over RPC: what routing a call to another process costs.
fn rpc_round_trip(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    conductor: &Conductor,
    node: NodeId,
) {
    let secret = "bench-secret-of-some-length";
    let remote = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = ferric_conductor_api::server::router(Arc::new(conductor.clone()), secret);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RemoteConductor::new("bench", &url, secret, http_client(None).unwrap())
    });
    c.bench_function("conductor_call_in_process", |b| {
        b.to_async(rt)
            .iter(|| async { conductor.supported_boot_devices(node).await.unwrap() })
    });
    c.bench_function("conductor_call_over_rpc", |b| {
        b.to_async(rt)
            .iter(|| async { remote.supported_boot_devices(node).await.unwrap() })
    });
}

/// One power-sync round over redfish nodes, one per system of the sushy-tools emulator
/// named by `FERRIC_BENCH_REDFISH_URL` (start it with `lab/sushy.sh start DIR --instant
/// --systems N`, N = `FERRIC_BENCH_REDFISH_SYSTEMS`, default 200).
fn redfish_sync(c: &mut Criterion) {
    let Ok(url) = std::env::var("FERRIC_BENCH_REDFISH_URL") else {
        eprintln!("redfish_power_sync: set FERRIC_BENCH_REDFISH_URL to run it");
        return;
    };
    let systems: u32 = std::env::var("FERRIC_BENCH_REDFISH_SYSTEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ferric-redfish-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_url = format!("sqlite://{}", dir.join("bench.db").display());
    let conductor = rt.block_on(async {
        let db = Datastore::connect(&db_url).await.unwrap();
        for i in 1..=systems {
            let mut n = Node::new(
                NodeId::new_v4(),
                "redfish".into(),
                ProvisionState::Manageable,
                Timestamp::now(),
            );
            for kind in InterfaceKind::ALL {
                n.set_interface(
                    kind,
                    ferric_types::hardware::REDFISH
                        .default_interface(kind)
                        .map(str::to_string),
                );
            }
            n.driver_info
                .insert("redfish_address".into(), url.clone().into());
            n.driver_info.insert(
                "redfish_system_id".into(),
                format!("00000000-0000-4000-8000-{i:012x}").into(),
            );
            db.node_create(&n).await.unwrap();
        }
        let conductor = Conductor::new(
            db,
            ConductorConfig {
                host: "bench".into(),
                group: String::new(),
                workers: 100,
                ..ferric_conductor::ConductorConfig::default()
            },
        );
        conductor.register().await.unwrap();
        conductor
    });
    let mut group = c.benchmark_group("redfish");
    group.sample_size(10);
    group.bench_function(format!("power_sync_{systems}_systems"), |b| {
        b.to_async(&rt).iter(|| async {
            let report = conductor.sync_power_states().await.unwrap();
            assert_eq!(report.checked, systems as usize, "{report:?}");
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, hot_paths, redfish_sync);
criterion_main!(benches);
