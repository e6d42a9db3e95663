//! The conductor over JSON-RPC: a real conductor behind the RPC listener on
//! loopback, called through the client exactly as an API process elsewhere calls
//! it — a provision verb moves the node, errors keep their kind (not found, invalid
//! state) — and by raw HTTP: a caller without the secret is refused, malformed
//! calls get the protocol's error codes, a notification gets 204, only POST is
//! served. Then the router: a node whose owner cannot be reached is served by the
//! next owner on the ring; a group no conductor serves gets 503.

use std::sync::Arc;
use std::time::Duration;

use ferric_conductor::{Conductor, ConductorConfig, ProvisionRequest};
use ferric_conductor_api::client::{http_client, RemoteConductor};
use ferric_conductor_api::router::{ConductorRouter, LocalConductor, RemoteAccess};
use ferric_conductor_api::{ConductorApi, ErrorKind, Heartbeats, RingCache};
use ferric_db::Datastore;
use ferric_types::conductor::ConductorRecord;
use ferric_types::fsm::Verb;
use ferric_types::hardware::FAKE_HARDWARE;
use ferric_types::provision::ProvisionState;
use ferric_types::{NodeId, Timestamp};
use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::conductor;

const SECRET: &str = "a-secret-of-twenty-chars";

async fn enrolled(db: &Datastore, group: &str) -> NodeId {
    let mut n = FAKE_HARDWARE.new_node(ProvisionState::Enroll);
    n.conductor_group = group.into();
    db.node_create(&n).await.unwrap();
    n.uuid
}

/// Serves `conductor` over RPC on a loopback port; its URL.
async fn serve(conductor: Conductor) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = ferric_conductor_api::server::router(Arc::new(conductor), SECRET);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn wait_for(db: &Datastore, node: NodeId, state: ProvisionState) {
    for _ in 0..200 {
        let n = db.node_get(node).await.unwrap();
        // At rest: in the state, and its lock given back.
        if n.provision_state == state && n.reservation.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("node {node} never reached {state:?}");
}

both_backends!(calls_travel_with_their_errors, |db: Datastore| async move {
    let c = conductor(&db, ConductorConfig::default()).await;
    let url = serve(c).await;
    let remote = RemoteConductor::new("test-conductor", &url, SECRET, http_client(None).unwrap());
    let node = enrolled(&db, "").await;
    remote
        .provision(node, ProvisionRequest::new(Verb::named("manage").unwrap()))
        .await
        .unwrap();
    wait_for(&db, node, ProvisionState::Manageable).await;
    let devices = remote.supported_boot_devices(node).await.unwrap();
    assert!(devices.contains(&"pxe".to_string()), "{devices:?}");

    let e = remote
        .provision(node, ProvisionRequest::new(Verb::named("active").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidState, "{e}");
    let e = remote.inject_nmi(NodeId::new_v4()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert_eq!(e.status(), 404);

    // The wrong secret: refused, and said so without echoing it.
    let intruder = RemoteConductor::new(
        "test-conductor",
        &url,
        "not-the-secret-at-all",
        http_client(None).unwrap(),
    );
    let e = intruder.inject_nmi(node).await.unwrap_err();
    assert!(
        e.message.contains("refused this process's RPC secret"),
        "{e}"
    );
    assert!(!e.message.contains("not-the-secret"), "{e}");

    let http = reqwest::Client::new();
    let post = |body: &'static str, secret: Option<&'static str>| {
        let mut r = http
            .post(&url)
            .body(body)
            .header("content-type", "application/json");
        if let Some(s) = secret {
            r = r.bearer_auth(s);
        }
        r.send()
    };
    let unauthenticated = post(
        r#"{"jsonrpc":"2.0","method":"vifs","params":{},"id":1}"#,
        None,
    )
    .await
    .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    for (body, code) in [
        ("{not json", -32700),
        (r#"{"jsonrpc":"1.0","method":"vifs","id":1}"#, -32600),
        (
            r#"{"jsonrpc":"2.0","method":"vifs","params":[1],"id":1}"#,
            -32600,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"reboot_everything","params":{},"id":1}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"vifs","params":{"node":"nope"},"id":1}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"vifs","params":{"node":"5e1f0000-0000-4000-8000-000000000000","x":1},"id":1}"#,
            -32602,
        ),
    ] {
        let answer: Value = post(body, Some(SECRET))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["error"]["code"], json!(code), "{body}: {answer}");
    }
    let notification = post(
        r#"{"jsonrpc":"2.0","method":"inject_nmi","params":{"node":"5e1f0000-0000-4000-8000-000000000000"}}"#,
        Some(SECRET),
    )
    .await
    .unwrap();
    assert_eq!(notification.status(), 204);
    let get = http.get(&url).bearer_auth(SECRET).send().await.unwrap();
    assert_eq!(get.status(), 405);
});

both_backends!(
    the_router_falls_back_to_the_next_owner,
    |db: Datastore| async move {
        let hb = Heartbeats {
            interval: Duration::from_secs(3600),
            timeout: Duration::from_secs(7200),
        };
        let c = conductor(&db, ConductorConfig::default()).await;
        let url = serve(c).await;
        // The live conductor's row names its listener; a second one, registered and
        // "alive", listens nowhere any more (it died a moment ago).
        let now = Timestamp::now();
        for (host, rpc) in [
            ("test-conductor", url.clone()),
            ("dead-conductor", "http://127.0.0.1:9".to_string()),
        ] {
            db.conductor_register(&ConductorRecord {
                hostname: host.into(),
                conductor_group: String::new(),
                drivers: vec!["fake-hardware".into()],
                online: true,
                created_at: now,
                updated_at: Some(now),
                rpc_url: Some(rpc),
            })
            .await
            .unwrap();
        }
        let router = ConductorRouter::new(
            db.clone(),
            Arc::new(RingCache::new(db.clone(), hb)),
            None,
            Some(RemoteAccess {
                secret: SECRET.into(),
                http: http_client(None).unwrap(),
            }),
        );
        // Nodes on both conductors' shares of the ring all reach the live one.
        let mut nodes = Vec::new();
        for _ in 0..16 {
            let node = enrolled(&db, "").await;
            router
                .provision(node, ProvisionRequest::new(Verb::named("manage").unwrap()))
                .await
                .unwrap();
            nodes.push(node);
        }
        let rings = RingCache::new(db.clone(), hb).rings().await.unwrap();
        let on_dead = nodes
            .iter()
            .filter(|n| rings.conductor_for(&n.to_string(), "") == Some("dead-conductor"))
            .count();
        assert!(
            on_dead > 0,
            "no node was the dead conductor's: nothing fell back"
        );
        for node in nodes {
            wait_for(&db, node, ProvisionState::Manageable).await;
        }
        let orphan = enrolled(&db, "rack-9").await;
        let e = router.inject_nmi(orphan).await.unwrap_err();
        assert_eq!((e.kind, e.status()), (ErrorKind::Unavailable, 503), "{e}");
        assert!(e.message.contains("rack-9"), "{e}");
        let e = router.inject_nmi(NodeId::new_v4()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);

        // In process: this process's conductor is called directly, no RPC needed.
        let local = Conductor::new(
            db.clone(),
            ConductorConfig {
                host: "test-conductor".into(),
                ..ConductorConfig::default()
            },
        );
        let router = ConductorRouter::new(
            db.clone(),
            Arc::new(RingCache::new(db.clone(), hb)),
            Some(LocalConductor {
                host: "test-conductor".into(),
                conductor: Arc::new(local),
            }),
            None,
        );
        let node = enrolled(&db, "").await;
        router
            .provision(node, ProvisionRequest::new(Verb::named("manage").unwrap()))
            .await
            .unwrap();
        wait_for(&db, node, ProvisionState::Manageable).await;

        // SQLite serves one process: a second conductor may not join it.
        let second = Conductor::new(
            db.clone(),
            ConductorConfig {
                host: "second-conductor".into(),
                ..ConductorConfig::default()
            },
        );
        match (db.backend(), second.register().await) {
            (ferric_db::Backend::Sqlite, Err(e)) => {
                assert!(e.to_string().contains("use PostgreSQL"), "{e}")
            }
            (ferric_db::Backend::Postgres, Ok(heartbeat)) => heartbeat.abort(),
            (backend, outcome) => panic!("{backend:?}: {:?}", outcome.map(|_| ())),
        }
    }
);
