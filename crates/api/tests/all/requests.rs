//! Request-level rules: body size, malformed JSON, unknown parameters, trailing
//! slashes, paths without `/v1`, and endpoints this build does not serve yet.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(bodies_are_checked, |app: TestApp| async move {
    let big = json!({"driver": "fake-hardware", "extra": {"pad": "x".repeat(1024 * 1024)}});
    let r = app.call("POST", "/v1/nodes", Some(big)).await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body,
        json!({"faultcode": "Client", "faultstring": "Request body is too large. Please contact the service administrator."})
    );
    let req = Request::builder()
        .method("POST")
        .uri("/v1/nodes")
        .header("x-openstack-ironic-api-version", "1.65")
        .body(Body::from("{not json"))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().contains("not valid JSON"), "{}", r.fault());
    let mut deep = json!(1);
    for _ in 0..30 {
        deep = json!([deep]);
    }
    let r = app
        .call(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "extra": {"d": deep}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        app.db.node_count(&[]).await.unwrap(),
        0,
        "refused requests change nothing"
    );
});

both_backends!(paths_and_parameters, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n1"}))
        .await;
    let r = app.call("GET", "/v1/nodes/?fields=uuid,name", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["nodes"][0]["name"], "n1");
    let r = app.call("GET", "/nodes/n1", None).await;
    assert_eq!(r.status, 200, "paths without /v1 are served as under /v1");
    let r = app.call("GET", "/v1/nodes?bogus=1", None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fault(), "Unexpected arguments: bogus");
    let r = app.call("GET", "/v1/events", None).await;
    assert_eq!(r.status, 501);
    assert!(r.fault().contains("not supported"), "{}", r.fault());
    let r = app.call("PUT", "/v1/nodes/n1", Some(json!({}))).await;
    assert_eq!(r.status, 405);
});
