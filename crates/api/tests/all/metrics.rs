//! `/metrics`: served without authentication in the Prometheus text format, with
//! the fleet gauge counted by the database the same way on both backends. (The
//! gauge's values are checked after a whole deploy in the server's agent-deploy
//! test; here tests share one process-wide recorder, so only the counts are.)

use ferric_db::NodeStateCount;
use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(the_fleet_is_counted_by_state, |app: TestApp| async move {
    for name in ["a", "b", "c"] {
        app.node(json!({"driver": "fake-hardware", "name": name}))
            .await;
    }
    let r = app
        .call(
            "PUT",
            "/v1/nodes/c/maintenance",
            Some(json!({"reason": "disk swap"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let mut counts = app.db.node_state_counts().await.unwrap();
    counts.sort_by_key(|c| c.maintenance);
    let row = |maintenance, nodes| NodeStateCount {
        provision_state: "enroll".into(),
        power_state: None,
        maintenance,
        fault: None,
        nodes,
    };
    assert_eq!(counts, [row(false, 2), row(true, 1)]);

    // Under authentication, still served to a caller without credentials.
    let r = app
        .with_users(&[])
        .anonymous()
        .call("GET", "/metrics", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    assert!(r.raw.contains("# TYPE ferric_nodes gauge\n"), "{}", r.raw);
    assert!(
        r.raw.contains("# TYPE ferric_api_requests_total counter\n"),
        "{}",
        r.raw
    );
});
