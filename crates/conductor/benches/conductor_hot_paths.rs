//! Criterion benchmarks of the conductor's periodic work on SQLite: one power-sync
//! round over 1 000 fake-hardware nodes, and the hash ring's node → conductor lookup.

use criterion::{criterion_group, criterion_main, Criterion};
use ferric_conductor::hash_ring::HashRing;
use ferric_conductor::{Conductor, ConductorConfig};
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
    let conductor = rt.block_on(async {
        let db = Datastore::connect(&url).await.unwrap();
        for _ in 0..1000 {
            let mut n = Node::new(
                NodeId::new_v4(),
                "fake-hardware".into(),
                ProvisionState::Available,
                Timestamp::now(),
            );
            for kind in InterfaceKind::ALL {
                n.set_interface(
                    kind,
                    FAKE_HARDWARE.default_interface(kind).map(str::to_string),
                );
            }
            db.node_create(&n).await.unwrap();
        }
        let conductor = Conductor::new(
            db,
            ConductorConfig {
                host: "bench".into(),
                group: String::new(),
                workers: 100,
            },
        );
        conductor
            .register(std::time::Duration::from_secs(3600))
            .await
            .unwrap();
        conductor
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
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
