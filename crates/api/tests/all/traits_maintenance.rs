//! Node traits and maintenance mode.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(traits, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app.call("GET", "/v1/nodes/n/traits", None).await;
    assert_eq!(r.body, json!({"traits": []}));
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/traits",
            Some(json!({"traits": ["CUSTOM_A", "HW_CPU_X86_AVX2", "CUSTOM_A"]})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = app.call("PUT", "/v1/nodes/n/traits/CUSTOM_B", None).await;
    assert_eq!(r.status, 204);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with("/v1/nodes/n/traits"));
    let r = app.call("PUT", "/v1/nodes/n/traits/CUSTOM_B", None).await;
    assert_eq!(r.status, 204, "adding a present trait is fine");
    let r = app.call("GET", "/v1/nodes/n/traits", None).await;
    assert_eq!(
        r.body,
        json!({"traits": ["CUSTOM_A", "HW_CPU_X86_AVX2", "CUSTOM_B"]})
    );
    let r = app.call("GET", "/v1/nodes/n?fields=traits", None).await;
    assert_eq!(
        r.body["traits"],
        json!(["CUSTOM_A", "HW_CPU_X86_AVX2", "CUSTOM_B"])
    );

    for (method, path, body, status) in [
        ("PUT", "/v1/nodes/n/traits/bad-trait", None, 400),
        ("PUT", "/v1/nodes/n/traits/HW_NOT_A_REAL_TRAIT", None, 400),
        ("PUT", "/v1/nodes/n/traits/CUSTOM_lower", None, 400),
        (
            "PUT",
            "/v1/nodes/n/traits",
            Some(json!({"traits": ["bad-trait"]})),
            400,
        ),
        ("PUT", "/v1/nodes/n/traits", Some(json!(["CUSTOM_A"])), 400),
        ("PUT", "/v1/nodes/n/traits", Some(json!({})), 400),
        (
            "PUT",
            "/v1/nodes/n/traits/CUSTOM_C",
            Some(json!({"x": 1})),
            400,
        ),
        ("DELETE", "/v1/nodes/n/traits/CUSTOM_NOPE", None, 404),
        ("PUT", "/v1/nodes/nope/traits/CUSTOM_A", None, 404),
    ] {
        let r = app.call(method, path, body.clone()).await;
        assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.raw);
    }
    let many: Vec<String> = (0..51).map(|i| format!("CUSTOM_T{i}")).collect();
    let r = app
        .call("PUT", "/v1/nodes/n/traits", Some(json!({"traits": many})))
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .call_v("GET", "/v1/nodes/n/traits", None, Some("1.36"))
        .await;
    assert_eq!(r.status, 406);

    let r = app
        .call("DELETE", "/v1/nodes/n/traits/CUSTOM_B", None)
        .await;
    assert_eq!(r.status, 204);
    let r = app.call("DELETE", "/v1/nodes/n/traits", None).await;
    assert_eq!(r.status, 204);
    let r = app.call("GET", "/v1/nodes/n/traits", None).await;
    assert_eq!(r.body, json!({"traits": []}));
});

both_backends!(maintenance, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "n"}))
        .await;
    let r = app
        .call(
            "PUT",
            "/v1/nodes/n/maintenance",
            Some(json!({"reason": "broken fan"})),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.raw.is_empty());
    let r = app
        .call(
            "GET",
            "/v1/nodes/n?fields=maintenance,maintenance_reason,fault",
            None,
        )
        .await;
    assert_eq!(r.body["maintenance"], true);
    assert_eq!(r.body["maintenance_reason"], "broken fan");
    let r = app.call("GET", "/v1/nodes?maintenance=true", None).await;
    assert_eq!(r.body["nodes"].as_array().unwrap().len(), 1);
    let r = app.call("DELETE", "/v1/nodes/n/maintenance", None).await;
    assert_eq!(r.status, 202);
    let r = app.call("GET", "/v1/nodes/n", None).await;
    assert_eq!(r.body["maintenance"], false);
    assert_eq!(r.body["maintenance_reason"], Value::Null);
    let r = app
        .call("PUT", "/v1/nodes/n/maintenance?reason=via%20query", None)
        .await;
    assert_eq!(r.status, 202);
    let r = app.call("GET", "/v1/nodes/n", None).await;
    assert_eq!(r.body["maintenance_reason"], "via query");
    let r = app
        .call("PUT", "/v1/nodes/n/maintenance", Some(json!({"bogus": 1})))
        .await;
    assert_eq!(r.status, 400);
    let r = app.call("PUT", "/v1/nodes/nope/maintenance", None).await;
    assert_eq!(r.status, 404);
});
