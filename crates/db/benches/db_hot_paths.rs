//! Criterion benchmarks of the datastore's hot paths on SQLite: get one node by UUID,
//! list a page of 1000 nodes, and insert a node.

use criterion::{criterion_group, criterion_main, Criterion};
use ferric_db::{Datastore, ListQuery};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};

fn node(i: usize) -> Node {
    let mut n = Node::new(
        NodeId::new_v4(),
        "fake-hardware".into(),
        ProvisionState::Enroll,
        Timestamp::now(),
    );
    n.name = Some(format!("n{i}"));
    n.properties.insert("cpus".into(), 8.into());
    n.driver_info
        .insert("ipmi_address".into(), "10.0.0.1".into());
    n
}

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ferric-db-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = rt.block_on(Datastore::connect(&url)).unwrap();
    let mut last = NodeId::new_v4();
    rt.block_on(async {
        for i in 0..1000 {
            let n = node(i);
            last = n.uuid;
            db.node_create(&n).await.unwrap();
        }
    });
    let page = ListQuery {
        limit: Some(1000),
        ..ListQuery::default()
    };
    let mut group = c.benchmark_group("db");
    group.bench_function("node_get", |b| b.to_async(&rt).iter(|| db.node_get(last)));
    group.bench_function("node_list_1000", |b| {
        b.to_async(&rt).iter(|| db.node_list(&page))
    });
    let mut i = 1000;
    group.bench_function("node_create", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let n = node(i);
            let db = db.clone();
            async move { db.node_create(&n).await.unwrap() }
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
