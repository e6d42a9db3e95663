//! Node listings: default and detailed shapes, `fields`, keyset pagination with the
//! `next` link, sorting, filters and their refusals.

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::TestApp;

/// Follows `next` links from `first` and returns every name seen.
async fn walk(app: &TestApp, first: &str) -> Vec<Value> {
    let mut names = Vec::new();
    let mut url = first.to_string();
    for _ in 0..50 {
        let r = app.call("GET", &url, None).await;
        assert_eq!(r.status, 200, "{url}: {}", r.raw);
        names.extend(
            r.body["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["name"].clone()),
        );
        match r.body["next"].as_str() {
            Some(next) => {
                url = next
                    .trim_start_matches("http://ferric.test:6385")
                    .to_string()
            }
            None => return names,
        }
    }
    panic!("pagination did not end");
}

both_backends!(shapes_and_fields, |app: TestApp| async move {
    app.node(json!({"driver": "fake-hardware", "name": "a", "extra": {"k": 1}}))
        .await;
    let r = app.call("GET", "/v1/nodes", None).await;
    let item = r.body["nodes"][0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "instance_uuid",
            "links",
            "maintenance",
            "name",
            "power_state",
            "provision_state",
            "uuid"
        ]
    );
    assert!(r.body.get("next").is_none());
    let r = app.call("GET", "/v1/nodes/detail", None).await;
    assert_eq!(r.body["nodes"][0]["extra"]["k"], 1);
    let r = app.call("GET", "/v1/nodes?detail=true", None).await;
    assert_eq!(r.body["nodes"][0]["extra"]["k"], 1);
    let r = app.call("GET", "/v1/nodes?fields=uuid,extra", None).await;
    let mut keys: Vec<&str> = r.body["nodes"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["extra", "links", "uuid"]);
    let r = app.call("GET", "/v1/nodes/a?fields=name", None).await;
    assert_eq!(r.body["name"], "a");
    assert!(r.body.get("driver").is_none());

    for (query, status) in [
        ("fields=bogus", 400),
        ("detail=true&fields=uuid", 400),
        ("limit=0", 400),
        ("limit=-1", 400),
        ("limit=abc", 400),
        ("sort_key=properties", 400),
        ("sort_key=bogus", 400),
        ("sort_dir=up", 400),
        ("maintenance=maybe", 400),
        ("provision_state=bogus", 400),
        ("fault=bogus", 400),
        ("instance_uuid=nope", 400),
        ("marker=11111111-2222-3333-4444-555555555555", 404),
    ] {
        let r = app.call("GET", &format!("/v1/nodes?{query}"), None).await;
        assert_eq!(r.status, status, "{query}: {}", r.raw);
    }
    let r = app.call("GET", "/v1/nodes/detail?fields=uuid", None).await;
    assert_eq!(r.status, 400);
    let r = app
        .call_v("GET", "/v1/nodes?fields=owner", None, Some("1.40"))
        .await;
    assert_eq!(r.status, 406);
    let r = app
        .call_v("GET", "/v1/nodes?detail=true", None, Some("1.42"))
        .await;
    assert_eq!(r.status, 406);
    let r = app.call("GET", "/v1/nodes?maintenance=maybe", None).await;
    assert!(
        r.fault()
            .starts_with("Invalid maintenance: Unrecognized value 'maybe'"),
        "{}",
        r.fault()
    );
});

both_backends!(
    pagination_walks_every_node_once,
    |app: TestApp| async move {
        for i in 0..7 {
            app.node(json!({"driver": "fake-hardware", "name": format!("n{i}")}))
                .await;
        }
        app.node(json!({"driver": "fake-hardware"})).await;
        let names = walk(&app, "/v1/nodes?limit=3").await;
        assert_eq!(names.len(), 8);
        assert_eq!(names[0], "n0");
        let r = app.call("GET", "/v1/nodes?limit=3", None).await;
        let next = r.body["next"].as_str().unwrap();
        let last = r.body["nodes"][2]["uuid"].as_str().unwrap();
        assert_eq!(
        next,
        format!("http://ferric.test:6385/v1/nodes?sort_key=id&sort_dir=asc&fields=instance_uuid,maintenance,power_state,provision_state,uuid,name&limit=3&marker={last}")
    );
        let r = app.call("GET", "/v1/nodes/detail?limit=3", None).await;
        assert!(r.body["next"].as_str().unwrap().starts_with(
            "http://ferric.test:6385/v1/nodes/detail?sort_key=id&sort_dir=asc&limit=3&marker="
        ));

        // Sorted by name: the unnamed node first ascending, last descending.
        let asc = walk(&app, "/v1/nodes?limit=2&sort_key=name").await;
        assert_eq!(
            asc,
            [
                Value::Null,
                json!("n0"),
                json!("n1"),
                json!("n2"),
                json!("n3"),
                json!("n4"),
                json!("n5"),
                json!("n6")
            ]
        );
        let desc = walk(&app, "/v1/nodes?limit=3&sort_key=name&sort_dir=desc").await;
        let mut reversed = asc.clone();
        reversed.reverse();
        assert_eq!(desc, reversed);
        let by_created = walk(&app, "/v1/nodes?limit=5&sort_key=created_at&sort_dir=desc").await;
        assert_eq!(by_created.len(), 8);
    }
);

both_backends!(filters, |app: TestApp| async move {
    app.node(
        json!({"driver": "fake-hardware", "name": "gold", "resource_class": "gold", "owner": "p1",
                    "description": "Big Machine", "maintenance": true}),
    )
    .await;
    app.node(json!({"driver": "fake-hardware", "name": "silver", "resource_class": "silver", "lessee": "p1",
                    "conductor_group": "g2", "instance_uuid": "11111111-2222-3333-4444-555555555555"})).await;
    app.node(json!({"driver": "fake-hardware", "name": "bronze", "retired": true}))
        .await;
    for (name, traits) in [
        ("gold", json!(["CUSTOM_GOLD", "CUSTOM_FAST"])),
        ("silver", json!(["CUSTOM_GOLDEN", "CUSTOM_FAST"])),
    ] {
        let r = app
            .call_v(
                "PUT",
                &format!("/v1/nodes/{name}/traits"),
                Some(json!({"traits": traits})),
                Some("1.37"),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.raw);
    }
    let names = |r: &crate::harness::Reply| {
        let mut v: Vec<String> = r.body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    for (query, expected) in [
        ("maintenance=True", vec!["gold"]),
        ("maintenance=false", vec!["bronze", "silver"]),
        ("associated=true", vec!["silver"]),
        ("associated=no", vec!["bronze", "gold"]),
        ("resource_class=silver", vec!["silver"]),
        ("driver=fake-hardware", vec!["bronze", "gold", "silver"]),
        ("provision_state=enroll", vec!["bronze", "gold", "silver"]),
        ("provision_state=available", vec![]),
        ("owner=p1", vec!["gold"]),
        ("lessee=p1", vec!["silver"]),
        ("project=p1", vec!["gold", "silver"]),
        ("conductor_group=G2", vec!["silver"]),
        ("description_contains=big", vec!["gold"]),
        ("retired=true", vec!["bronze"]),
        (
            "instance_uuid=11111111-2222-3333-4444-555555555555",
            vec!["silver"],
        ),
        ("fault=power%20failure", vec![]),
        ("conductor=somewhere", vec![]),
        ("traits=CUSTOM_GOLD", vec!["gold"]),
        ("traits=CUSTOM_FAST", vec!["gold", "silver"]),
        ("traits=CUSTOM_FAST,CUSTOM_GOLDEN", vec!["silver"]),
        ("traits=CUSTOM_G_LD", vec![]),
    ] {
        let r = app.call("GET", &format!("/v1/nodes?{query}"), None).await;
        assert_eq!(r.status, 200, "{query}: {}", r.raw);
        assert_eq!(names(&r), expected, "{query}");
    }
    let r = app
        .call_v("GET", "/v1/nodes?resource_class=gold", None, Some("1.20"))
        .await;
    assert_eq!(r.status, 406);
    let r = app.call("GET", "/v1/nodes?traits=gold%25", None).await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert!(r.raw.contains("Invalid trait"), "{}", r.raw);
});

both_backends!(
    a_page_larger_than_a_chunk_streams_whole_and_in_order,
    |app: TestApp| async move {
        use ferric_types::{provision::ProvisionState, Node, NodeId, Timestamp};
        let total = 2_100;
        let mut uuids = Vec::new();
        for i in 0..total {
            let mut node = Node::new(
                NodeId::new_v4(),
                "fake-hardware".into(),
                ProvisionState::Enroll,
                Timestamp::now(),
            );
            node.name = Some(format!("n{i:05}"));
            node.driver_info = json!({"ipmi_password": "pw", "ipmi_address": "10.0.0.1"})
                .as_object()
                .unwrap()
                .clone();
            app.db.node_create(&node).await.unwrap();
            uuids.push(node.uuid.to_string());
        }
        let big = app.reconfigured(|c| c.max_limit = 5_000);

        let r = big.call("GET", "/v1/nodes/detail?limit=5000", None).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        let nodes = r.body["nodes"].as_array().unwrap();
        let listed: Vec<&str> = nodes.iter().map(|n| n["uuid"].as_str().unwrap()).collect();
        assert_eq!(listed, uuids, "every node, once, in order");
        assert!(nodes
            .iter()
            .all(|n| n["driver_info"]["ipmi_password"] == "******"
                && n["driver_info"]["ipmi_address"] == "10.0.0.1"));
        assert!(r.body.get("next").is_none());

        let r = big
            .call(
                "GET",
                "/v1/nodes?limit=2050&sort_key=name&sort_dir=desc",
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        let names: Vec<&str> = r.body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        let wanted: Vec<String> = (total - 2050..total)
            .rev()
            .map(|i| format!("n{i:05}"))
            .collect();
        assert_eq!(names, wanted);
        let last = &uuids[total - 2050];
        assert!(
            r.body["next"]
                .as_str()
                .unwrap()
                .ends_with(&format!("limit=2050&marker={last}")),
            "{}",
            r.body["next"]
        );

        let gone = uuid::Uuid::new_v4();
        let r = big
            .call("GET", &format!("/v1/nodes?limit=3000&marker={gone}"), None)
            .await;
        assert_eq!(r.status, 404, "{}", r.raw);
    }
);
