//! Criterion benchmarks of the API's hot paths, in process (no sockets) over SQLite:
//! show one node, list a page of 1000 nodes (short and detailed), scrape
//! `/metrics`, create a node, and patch a node. Whole-system numbers over HTTP
//! come from `ferric-bench`.

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;

use ferric_api::{service, ApiConfig, AppState};
use ferric_conductor::{Conductor, ConductorConfig, Heartbeats};
use ferric_conductor_api::RingCache;
use ferric_db::Datastore;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

type Service = tower_http::normalize_path::NormalizePath<axum::Router>;

async fn call(svc: &Service, method: &str, path: &str, body: Option<String>) -> usize {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "bench")
        .header("x-openstack-ironic-api-version", "1.65")
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_default())
        .unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    assert!(
        resp.status().is_success(),
        "{method} {path}: {}",
        resp.status()
    );
    resp.into_body().collect().await.unwrap().to_bytes().len()
}

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ferric-api-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let svc = rt.block_on(async {
        let db = Datastore::connect(&url).await.unwrap();
        let conductor = Arc::new(Conductor::new(db.clone(), ConductorConfig::default()));
        let rings = Arc::new(RingCache::new(db.clone(), Heartbeats::default()));
        service(AppState {
            db,
            config: ApiConfig::default(),
            conductor,
            rings,
            metrics: Default::default(),
            boot_files: None,
        })
    });
    let mut uuid = String::new();
    rt.block_on(async {
        for i in 0..1000 {
            let body = json!({"driver": "fake-hardware", "name": format!("n{i}"),
                "properties": {"cpus": 8, "memory_mb": 32768, "local_gb": 400},
                "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_password": "pw"}});
            let req = Request::builder()
                .method("POST")
                .uri("/v1/nodes")
                .header("x-openstack-ironic-api-version", "1.65")
                .body(Body::from(body.to_string()))
                .unwrap();
            let resp = svc.clone().oneshot(req).await.unwrap();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            uuid = v["uuid"].as_str().unwrap().to_string();
        }
    });
    let node_path = format!("/v1/nodes/{uuid}");
    let mut group = c.benchmark_group("api");
    group.bench_function("get_node", |b| {
        b.to_async(&rt).iter(|| call(&svc, "GET", &node_path, None))
    });
    group.bench_function("list_1000_short", |b| {
        b.to_async(&rt)
            .iter(|| call(&svc, "GET", "/v1/nodes", None))
    });
    group.bench_function("list_1000_detail", |b| {
        b.to_async(&rt)
            .iter(|| call(&svc, "GET", "/v1/nodes/detail", None))
    });
    // A scrape: the fleet gauge counted from 1000 nodes, every series rendered.
    group.bench_function("metrics_scrape_1000", |b| {
        b.to_async(&rt).iter(|| call(&svc, "GET", "/metrics", None))
    });
    let mut n = 0u64;
    group.bench_function("create_node", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            let body = json!({"driver": "fake-hardware", "name": format!("c{n}")}).to_string();
            call(&svc, "POST", "/v1/nodes", Some(body))
        })
    });
    let patch = json!([{"op": "add", "path": "/extra/k", "value": "v"}]).to_string();
    group.bench_function("patch_node", |b| {
        b.to_async(&rt)
            .iter(|| call(&svc, "PATCH", &node_path, Some(patch.clone())))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
