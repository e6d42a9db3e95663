//! Version discovery and microversion negotiation.

use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

both_backends!(root_documents_describe_v1, |app: TestApp| async move {
    let r = app.call_v("GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "OpenStack Ironic API");
    assert_eq!(r.body["default_version"]["min_version"], "1.1");
    assert_eq!(r.body["default_version"]["version"], "1.115");
    assert_eq!(
        r.body["default_version"]["links"][0]["href"],
        "http://ferric.test:6385/v1/"
    );
    assert_eq!(r.body["versions"][0], r.body["default_version"]);

    let r = app.call_v("GET", "/v1", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], "v1");
    assert_eq!(
        r.body["media_types"]["type"],
        "application/vnd.openstack.ironic.v1+json"
    );
    assert_eq!(
        r.body["nodes"][0]["href"],
        "http://ferric.test:6385/v1/nodes/"
    );
    assert!(
        r.body.get("portgroups").is_none(),
        "portgroups appear from 1.23"
    );
    let r = app.call_v("GET", "/v1/", None, Some("1.65")).await;
    assert_eq!(
        r.body["portgroups"][1]["href"],
        "http://ferric.test:6385/portgroups/"
    );
});

both_backends!(negotiation_headers, |app: TestApp| async move {
    let r = app.call_v("GET", "/v1/nodes", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-openstack-ironic-api-version"), Some("1.1"));
    assert_eq!(
        r.header("x-openstack-ironic-api-minimum-version"),
        Some("1.1")
    );
    assert_eq!(
        r.header("x-openstack-ironic-api-maximum-version"),
        Some("1.115")
    );
    let id = r.header("openstack-request-id").unwrap().to_string();
    assert!(id.starts_with("req-") && id.len() == 40, "{id}");
    assert_eq!(r.header("x-openstack-request-id"), Some(id.as_str()));

    let r = app.call_v("GET", "/v1/nodes", None, Some("LATEST")).await;
    assert_eq!(r.header("x-openstack-ironic-api-version"), Some("1.115"));

    // The standard header wins over the Ironic one.
    let req = axum::http::Request::builder()
        .uri("/v1/nodes")
        .header("openstack-api-version", "compute 2.1, baremetal 1.40")
        .header("x-openstack-ironic-api-version", "1.65")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.header("x-openstack-ironic-api-version"), Some("1.40"));
});

both_backends!(unsupported_versions_are_406, |app: TestApp| async move {
    for v in ["1.200", "1.0", "2.1"] {
        let r = app.call_v("GET", "/v1/nodes", None, Some(v)).await;
        assert_eq!(r.status, 406, "{v}");
        assert!(
            r.fault()
                .contains("The supported version range is: [1.1, 1.115]"),
            "{}",
            r.fault()
        );
        assert_eq!(
            r.header("x-openstack-ironic-api-maximum-version"),
            Some("1.115")
        );
        assert_eq!(r.header("x-openstack-ironic-api-version"), None);
        assert!(r.header("openstack-request-id").is_some());
    }
    for v in ["abc", "1", "1.x"] {
        let r = app.call_v("GET", "/v1/nodes", None, Some(v)).await;
        assert_eq!(r.status, 406, "{v}");
        assert_eq!(
            r.fault(),
            format!("Invalid value for X-OpenStack-Ironic-API-Version header: {v}")
        );
        assert_eq!(r.header("x-openstack-ironic-api-maximum-version"), None);
    }
});

both_backends!(error_body_is_ironics, |app: TestApp| async move {
    let r = app
        .call(
            "GET",
            "/v1/nodes/11111111-2222-3333-4444-555555555555",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let inner: serde_json::Value =
        serde_json::from_str(r.body["error_message"].as_str().unwrap()).unwrap();
    assert_eq!(
        inner,
        json!({"faultcode": "Client", "faultstring": "Node 11111111-2222-3333-4444-555555555555 could not be found.", "debuginfo": null})
    );
    let r = app.call("GET", "/v1/no-such-thing", None).await;
    assert_eq!(r.status, 404);
    assert!(r.body["error_message"].is_string());
});
