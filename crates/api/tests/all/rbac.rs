//! Ironic's policy, persona by persona: system admin, member and reader; the owner
//! project's admin, member and reader; the lessee project's; an unrelated project's
//! admin; and a caller with no credentials. One table gives, for every operation,
//! the answer each persona gets (spec §2.6), and the test runs every cell against a
//! fresh node owned by project `owner` and leased to project `lessee` (with a port
//! and a port group). The users are htpasswd users with a scope and roles, so no
//! identity service is needed.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::{TestApp, PASSWORD};

/// (user, htpasswd grant) of each persona, in the table's column order.
const PERSONAS: [(&str, &str); 11] = [
    ("sa", "system=all:roles=admin"),
    ("sm", "system=all:roles=member"),
    ("sr", "system=all:roles=reader"),
    ("oa", "project=owner:roles=admin"),
    ("om", "project=owner:roles=member"),
    ("or", "project=owner:roles=reader"),
    ("la", "project=lessee:roles=admin"),
    ("lm", "project=lessee:roles=member"),
    ("lr", "project=lessee:roles=reader"),
    ("oth", "project=other:roles=admin"),
    ("anon", ""),
];

/// One operation on the fixture node `{n}` (and its port `{p}`): method, path,
/// body, the status of success, and per persona `ok` or the refusal's status.
struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    ok: u16,
    cells: &'static str,
}

const fn row(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    ok: u16,
    cells: &'static str,
) -> Row {
    Row {
        method,
        path,
        body,
        ok,
        cells,
    }
}

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //  method  path                                        body                                                                   ok    SA  SM  SR  OA  OM  OR  LA  LM  LR  Oth Anon
    row("GET",    "/v1/nodes/{n}",                            None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("POST",   "/v1/nodes",                                Some(r#"{"driver": "fake-hardware"}"#),                                201, "ok  403 403 ok  403 403 ok  403 403 ok  401"),
    row("DELETE", "/v1/nodes/{n}",                            None,                                                                  204, "ok  403 403 ok  403 403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/extra/a", "value": 1}]"#),            200, "ok  ok  403 ok  ok  403 ok  ok  403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/description", "value": "d"}]"#),      200, "ok  ok  403 ok  ok  403 ok  ok  403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/instance_info/x", "value": 1}]"#),    200, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/driver_info/x", "value": 1}]"#),      200, "ok  ok  403 ok  ok  403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "replace", "path": "/name", "value": "{name}"}]"#),    200, "ok  ok  403 ok  ok  403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "replace", "path": "/power_interface", "value": "fake"}]"#), 200, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "replace", "path": "/owner", "value": "owner"}]"#),    200, "ok  ok  403 403 403 403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/shard", "value": "s1"}]"#),           200, "ok  403 403 403 403 403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "replace", "path": "/automated_clean", "value": false}]"#), 200, "ok  403 403 403 403 403 403 403 403 404 401"),
    row("PUT",    "/v1/nodes/{n}/states/provision",           Some(r#"{"target": "manage"}"#),                                       202, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("GET",    "/v1/nodes/{n}/validate",                   None,                                                                  200, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("PUT",    "/v1/nodes/{n}/maintenance",                None,                                                                  202, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("PUT",    "/v1/nodes/{n}/states/power",               Some(r#"{"target": "power on"}"#),                                     202, "ok  ok  403 ok  ok  403 ok  ok  403 404 401"),
    row("GET",    "/v1/nodes/{n}/states",                     None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/nodes/{n}/traits",                     None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/nodes/{n}/vifs",                       None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("PUT",    "/v1/nodes/{n}/traits/CUSTOM_X",            None,                                                                  204, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("GET",    "/v1/nodes/{n}/management/boot_device",     None,                                                                  200, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("GET",    "/v1/nodes/{n}/history",                    None,                                                                  200, "ok  ok  ok  ok  ok  ok  403 403 403 404 401"),
    row("GET",    "/v1/nodes/{n}/bios",                       None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/nodes/{n}/firmware",                   None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/nodes/{n}/management/indicators",      None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/nodes/{n}/ports",                      None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("PUT",    "/v1/nodes/{n}/management/boot_device",     Some(r#"{"boot_device": "pxe"}"#),                                     204, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("DELETE", "/v1/nodes/{n}/traits",                     None,                                                                  204, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("DELETE", "/v1/nodes/{n}/maintenance",                None,                                                                  202, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("GET",    "/v1/nodes/{n}/vendor_passthru/methods",    None,                                                                  200, "ok  403 403 403 403 403 403 403 403 404 401"),
    row("GET",    "/v1/ports/{p}",                            None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("POST",   "/v1/ports",                                Some(r#"{"node_uuid": "{n}", "address": "{mac}"}"#),                   201, "ok  403 403 ok  403 403 403 403 403 403 401"),
    row("PATCH",  "/v1/ports/{p}",                            Some(r#"[{"op": "add", "path": "/extra/a", "value": 1}]"#),            200, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("DELETE", "/v1/ports/{p}",                            None,                                                                  204, "ok  403 403 ok  403 403 403 403 403 404 401"),
    row("GET",    "/v1/portgroups/{g}",                       None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("POST",   "/v1/portgroups",                           Some(r#"{"node_uuid": "{n}", "address": "{mac}"}"#),                   201, "ok  403 403 ok  403 403 403 403 403 403 401"),
    row("PATCH",  "/v1/portgroups/{g}",                       Some(r#"[{"op": "add", "path": "/extra/a", "value": 1}]"#),            200, "ok  ok  403 ok  403 403 403 403 403 404 401"),
    row("DELETE", "/v1/portgroups/{g}",                       None,                                                                  204, "ok  403 403 ok  403 403 403 403 403 404 401"),
    row("GET",    "/v1/chassis",                              None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("POST",   "/v1/chassis",                              Some(r#"{"description": "c"}"#),                                       201, "ok  403 403 403 403 403 403 403 403 403 401"),
    row("GET",    "/v1/shards",                               None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("GET",    "/v1/drivers",                              None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("GET",    "/v1/conductors",                           None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("GET",    "/v1/deploy_templates",                     None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("POST",   "/v1/allocations",                          Some(r#"{"resource_class": "none-such"}"#),                            201, "ok  ok  403 ok  ok  403 ok  ok  403 ok  401"),
    row("GET",    "/v1/nodes/{n}/vmedia",                     None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "replace", "path": "/disable_power_off", "value": true}]"#), 200, "ok  403 403 403 403 403 403 403 403 404 401"),
    row("PATCH",  "/v1/nodes/{n}",                            Some(r#"[{"op": "add", "path": "/instance_name", "value": "i"}]"#),    200, "ok  ok  403 ok  ok  403 ok  403 403 404 401"),
    row("GET",    "/v1/volume/connectors/{vc}",               None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401"),
    row("GET",    "/v1/volume/connectors",                    None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  401"),
    row("POST",   "/v1/volume/connectors",                    Some(r#"{"node_uuid": "{n}", "type": "iqn", "connector_id": "iqn.{mac}"}"#), 201, "ok  ok  403 ok  403 403 ok  403 403 403 401"),
    row("DELETE", "/v1/volume/connectors/{vc}",               None,                                                                  204, "ok  ok  403 ok  403 403 ok  403 403 404 401"),
    row("POST",   "/v1/volume/targets",                       Some(r#"{"node_uuid": "{n}", "volume_type": "iscsi", "boot_index": 1, "volume_id": "v1"}"#), 201, "ok  ok  403 ok  403 403 ok  403 403 403 401"),
    row("GET",    "/v1/runbooks",                             None,                                                                  200, "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  401"),
    row("POST",   "/v1/runbooks",                             Some(r#"{"name": "{name}", "steps": [{"interface": "deploy", "step": "erase_devices", "order": 1}]}"#), 201, "ok  ok  403 ok  403 403 ok  403 403 ok  401"),
    row("GET",    "/v1/runbooks/{rb}",                        None,                                                                  200, "ok  ok  ok  ok  ok  ok  403 403 403 403 401"),
    row("PATCH",  "/v1/runbooks/{rb}",                        Some(r#"[{"op": "add", "path": "/extra/a", "value": 1}]"#),            200, "ok  ok  403 ok  403 403 403 403 403 403 401"),
    row("PATCH",  "/v1/runbooks/{rb}",                        Some(r#"[{"op": "replace", "path": "/owner", "value": "lessee"}]"#),   200, "ok  ok  403 403 403 403 403 403 403 403 401"),
    row("DELETE", "/v1/runbooks/{rb}",                        None,                                                                  204, "ok  ok  403 ok  403 403 403 403 403 403 401"),
    row("GET",    "/v1/inspection_rules",                     None,                                                                  200, "ok  ok  ok  403 403 403 403 403 403 403 401"),
    row("POST",   "/v1/inspection_rules",                     Some(r#"{"actions": [{"op": "add-trait", "args": {"name": "CUSTOM_X"}}]}"#), 201, "ok  403 403 403 403 403 403 403 403 403 401"),
];

/// The app behind http_basic with every persona's user.
fn secured(app: &TestApp) -> TestApp {
    app.with_users(&PERSONAS)
}

fn persona(app: &TestApp, user: &str) -> TestApp {
    if user == "anon" {
        app.anonymous()
    } else {
        app.as_user(user, PASSWORD)
    }
}

static MACS: AtomicU32 = AtomicU32::new(1);

fn next_mac() -> String {
    let n = MACS.fetch_add(1, Ordering::Relaxed);
    format!(
        "52:54:00:{:02x}:{:02x}:{:02x}",
        n >> 16 & 0xff,
        n >> 8 & 0xff,
        n & 0xff
    )
}

/// What each cell works on: a node of project `owner` leased to `lessee`, with one
/// port, one port group and one volume connector, and a runbook of `owner`.
struct Fixture {
    node: String,
    port: String,
    group: String,
    connector: String,
    runbook: String,
}

/// A node of project `owner` leased to `lessee`, with one port and one port group:
/// their UUIDs.
async fn fixture(admin: &TestApp) -> Fixture {
    let (node, port, group) = node_fixture(admin).await;
    let r = admin
        .call(
            "POST",
            "/v1/volume/connectors",
            Some(json!({"node_uuid": node, "type": "iqn", "connector_id": format!("iqn.{}", next_mac())})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let connector = r.body["uuid"].as_str().unwrap().to_string();
    let r = admin
        .call(
            "POST",
            "/v1/runbooks",
            Some(
                json!({"name": format!("rb{}", next_mac().replace(':', "")), "owner": "owner",
                "steps": [{"interface": "deploy", "step": "erase_devices", "order": 1}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let runbook = r.body["uuid"].as_str().unwrap().to_string();
    Fixture {
        node,
        port,
        group,
        connector,
        runbook,
    }
}

async fn node_fixture(admin: &TestApp) -> (String, String, String) {
    let node = admin
        .node(json!({"driver": "fake-hardware", "owner": "owner", "lessee": "lessee"}))
        .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    let port = admin.port(&uuid, &next_mac()).await;
    let r = admin
        .call(
            "POST",
            "/v1/portgroups",
            Some(json!({"node_uuid": uuid, "address": next_mac()})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let group = r.body["uuid"].as_str().unwrap().to_string();
    (uuid, port["uuid"].as_str().unwrap().to_string(), group)
}

async fn the_matrix(mut app: TestApp) {
    app.version = "1.115";
    let app = secured(&app);
    let admin = app.as_user("admin", PASSWORD);
    let mut failures = Vec::new();
    let mut cases = 0;
    for row in MATRIX {
        let cells: Vec<&str> = row.cells.split_whitespace().collect();
        assert_eq!(cells.len(), PERSONAS.len(), "{} {}", row.method, row.path);
        for ((user, _), cell) in PERSONAS.iter().zip(cells) {
            let f = fixture(&admin).await;
            let fill = |s: &str| {
                s.replace("{n}", &f.node)
                    .replace("{p}", &f.port)
                    .replace("{g}", &f.group)
                    .replace("{vc}", &f.connector)
                    .replace("{rb}", &f.runbook)
                    .replace("{mac}", &next_mac())
                    .replace("{name}", &format!("n{}", next_mac().replace(':', "")))
            };
            let body = row
                .body
                .map(|b| serde_json::from_str::<Value>(&fill(b)).unwrap());
            let r = persona(&app, user)
                .call(row.method, &fill(row.path), body)
                .await;
            let want = if cell == "ok" {
                row.ok
            } else {
                cell.parse().unwrap()
            };
            cases += 1;
            if r.status.as_u16() != want {
                failures.push(format!(
                    "{user}: {} {} → {} (want {want}): {}",
                    row.method, row.path, r.status, r.raw
                ));
            }
            if want == 403 && r.status == 403 {
                assert!(
                    r.fault()
                        .starts_with("Access was denied to the following resource: baremetal:"),
                    "{}",
                    r.raw
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
both_backends!(operation_by_persona_matrix, the_matrix);

/// Node names of a list answer, sorted.
fn names(body: &Value, key: &str) -> Vec<String> {
    let mut n: Vec<String> = body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect();
    n.sort();
    n
}

async fn lists_show_each_project_its_own(app: TestApp) {
    let app = secured(&app);
    let admin = app.as_user("admin", PASSWORD);
    for (name, owner, lessee) in [
        ("a", Some("owner"), Some("lessee")),
        ("b", Some("owner"), None),
        ("c", Some("third"), None),
        ("d", None, None),
    ] {
        let n = admin
            .node(
                json!({"driver": "fake-hardware", "name": name, "owner": owner, "lessee": lessee}),
            )
            .await;
        admin.port(n["uuid"].as_str().unwrap(), &next_mac()).await;
    }
    let all = ["a", "b", "c", "d"];
    for (user, nodes) in [
        ("sa", &all[..]),
        ("sr", &all[..]),
        ("or", &["a", "b"][..]),
        ("lr", &["a"][..]),
        ("oth", &[][..]),
    ] {
        let who = persona(&app, user);
        let r = who.call("GET", "/v1/nodes", None).await;
        assert_eq!(r.status, 200, "{user}: {}", r.raw);
        assert_eq!(names(&r.body, "nodes"), nodes, "{user}");
        let r = who.call("GET", "/v1/nodes/detail", None).await;
        assert_eq!(names(&r.body, "nodes"), nodes, "{user}");
        let r = who.call("GET", "/v1/ports", None).await;
        assert_eq!(r.status, 200, "{user}: {}", r.raw);
        assert_eq!(
            r.body["ports"].as_array().unwrap().len(),
            nodes.len(),
            "{user}"
        );
    }
    // Asking for another project's nodes is refused; one's own is fine.
    let om = persona(&app, "om");
    let r = om.call("GET", "/v1/nodes?project=third", None).await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = om.call("GET", "/v1/nodes?owner=third", None).await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = om.call("GET", "/v1/nodes?project=owner", None).await;
    assert_eq!(names(&r.body, "nodes"), ["a", "b"]);
    // Identity headers a client sends are not believed.
    let req = axum::http::Request::builder()
        .uri("/v1/nodes")
        .header("x-openstack-ironic-api-version", "1.65")
        .header("x-roles", "admin")
        .header("x-project-id", "third")
        .header("openstack-system-scope", "all")
        .header("authorization", om_basic());
    let r = app.send(req.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(names(&r.body, "nodes"), ["a", "b"]);
}
both_backends!(
    lists_show_each_project_its_own_nodes,
    lists_show_each_project_its_own
);

fn om_basic() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("om:{PASSWORD}"))
    )
}

const REDACTED: [(&str, &str); 4] = [
    (
        "last_error",
        r#""** Value Redacted - Requires baremetal:node:get:last_error permission. **""#,
    ),
    (
        "reservation",
        r#""** Redacted - requires baremetal:node:get:reservation permission. **""#,
    ),
    (
        "driver_internal_info",
        r#"{"content": "** Redacted - Requires baremetal:node:get:driver_internal_info permission. **"}"#,
    ),
    (
        "driver_info",
        r#"{"content": "** Redacted - requires baremetal:node:get:driver_info permission. **"}"#,
    ),
];

async fn lessees_see_redacted_fields(app: TestApp) {
    let app = secured(&app);
    let admin = app.as_user("admin", PASSWORD);
    let node = admin
        .node(json!({
            "driver": "fake-hardware", "owner": "owner", "lessee": "lessee",
            "driver_info": {"ipmi_address": "10.0.0.9", "ipmi_password": "hunter2"}
        }))
        .await;
    let uuid = node["uuid"].as_str().unwrap();
    for user in ["lr", "la"] {
        let r = persona(&app, user)
            .call("GET", &format!("/v1/nodes/{uuid}"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        for (field, text) in REDACTED {
            let want: Value = serde_json::from_str(text).unwrap();
            assert_eq!(r.body[field], want, "{user} {field}");
        }
        let r = persona(&app, user)
            .call("GET", "/v1/nodes/detail", None)
            .await;
        let want: Value = serde_json::from_str(REDACTED[3].1).unwrap();
        assert_eq!(r.body["nodes"][0]["driver_info"], want, "{user}");
    }
    // Owners and the system see the fields, with secrets still masked.
    for user in ["or", "sr"] {
        let r = persona(&app, user)
            .call("GET", &format!("/v1/nodes/{uuid}"), None)
            .await;
        assert_eq!(r.body["driver_info"]["ipmi_address"], "10.0.0.9", "{user}");
        assert_eq!(r.body["driver_info"]["ipmi_password"], "******", "{user}");
        assert!(r.body["last_error"].is_null());
        assert!(!r.raw.contains("hunter2"));
    }
    // An operator's policy.yaml can let lessees read last_error.
    let relaxed = app.reconfigured(|c| {
        c.policy = std::sync::Arc::new(
            ferric_authz::Policy::with_overrides(
                "\"baremetal:node:get:last_error\": \"role:reader\"\n",
            )
            .unwrap(),
        );
    });
    let r = persona(&relaxed, "lr")
        .call("GET", &format!("/v1/nodes/{uuid}"), None)
        .await;
    assert!(r.body["last_error"].is_null(), "{}", r.raw);
    assert_eq!(
        r.body["reservation"],
        serde_json::from_str::<Value>(REDACTED[1].1).unwrap()
    );
}
both_backends!(
    lessees_see_redacted_node_fields,
    lessees_see_redacted_fields
);

async fn project_admins_own_what_they_create(app: TestApp) {
    let app = secured(&app);
    let oa = persona(&app, "oa");
    let r = oa
        .call(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["owner"], "owner");
    let r = oa
        .call(
            "POST",
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "owner": "third", "name": "stolen"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.fault(),
        "Cannot create a node as a project scoped admin with an owner other than your own project."
    );
    let r = app
        .as_user("admin", PASSWORD)
        .call("GET", "/v1/nodes/stolen", None)
        .await;
    assert_eq!(r.status, 404, "nothing was created");

    // Allocations belong to the caller's project; another owner needs a system member.
    let om = persona(&app, "om");
    let r = om
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "x"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["owner"], "owner");
    let mine = r.body["uuid"].as_str().unwrap().to_string();
    let r = om
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "x", "owner": "third"})),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.fault(),
        "Cannot create allocation with an owner Project ID value third not matching the \
         requester Project ID owner. Policy baremetal:allocation:create_restricted is required \
         for this capability."
    );
    let r = persona(&app, "sm")
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "x", "owner": "third"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let theirs = r.body["uuid"].as_str().unwrap().to_string();
    // Each project sees its own allocations only; others' are not found.
    let r = om.call("GET", "/v1/allocations", None).await;
    let listed: Vec<&str> = r.body["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [mine.as_str()]);
    let r = om
        .call("GET", &format!("/v1/allocations/{theirs}"), None)
        .await;
    assert_eq!(r.status, 404);
    let r = om
        .call("DELETE", &format!("/v1/allocations/{theirs}"), None)
        .await;
    assert_eq!(r.status, 404);
    let r = persona(&app, "or")
        .call("DELETE", &format!("/v1/allocations/{mine}"), None)
        .await;
    assert_eq!(r.status, 403);
    let r = om.call("GET", "/v1/allocations?owner=third", None).await;
    assert_eq!(r.status, 403);
    // A candidate node the project cannot see is as good as missing.
    let hidden = app
        .as_user("admin", PASSWORD)
        .node(json!({"driver": "fake-hardware", "owner": "third"}))
        .await;
    let r = om
        .call(
            "POST",
            "/v1/allocations",
            Some(json!({"resource_class": "x", "candidate_nodes": [hidden["uuid"]]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
}
both_backends!(
    project_admins_own_what_they_create_here,
    project_admins_own_what_they_create
);

async fn history_names_who_asked(mut app: TestApp) {
    app.version = "1.89";
    let app = secured(&app);
    let admin = app.as_user("admin", PASSWORD);
    let (node, _, _) = node_fixture(&admin).await;
    let om = persona(&app, "om");
    let r = om
        .call("PUT", &format!("/v1/nodes/{node}/maintenance"), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let r = om
        .call(
            "PUT",
            &format!("/v1/nodes/{node}/states/power"),
            Some(json!({"target": "power on"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.raw);
    let mut events = Vec::new();
    for _ in 0..500 {
        let uuid: ferric_types::NodeId = node.parse().unwrap();
        events = app
            .db
            .history_list(uuid, &ferric_db::ListQuery::default())
            .await
            .unwrap();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    types.sort();
    assert_eq!(types, ["maintenance", "power"]);
    for e in &events {
        assert_eq!(e.user.as_deref(), Some("om"), "{e:?}");
        assert_eq!(e.project.as_deref(), Some("owner"), "{e:?}");
    }
    let r = admin
        .call(
            "GET",
            &format!("/v1/nodes/{node}/history?detail=True"),
            None,
        )
        .await;
    assert_eq!(r.body["history"][0]["user"], "om", "{}", r.raw);
}
both_backends!(history_names_the_user_and_project, history_names_who_asked);

async fn deployed_nodes_are_leased_to_their_instances_project(app: TestApp) {
    let app = secured(&app);
    let admin = app.as_user("admin", PASSWORD);
    let node = admin
        .node(json!({"driver": "fake-hardware", "owner": "owner",
                     "instance_info": {"project_id": "lessee", "image_source": "http://i/img"}}))
        .await;
    let uuid = node["uuid"].as_str().unwrap().to_string();
    for (verb, state) in [
        ("manage", "manageable"),
        ("provide", "available"),
        ("active", "active"),
    ] {
        let r = admin.provision(&uuid, verb).await;
        assert_eq!(r.status, 202, "{verb}: {}", r.raw);
        admin.settle(&uuid, state).await;
    }
    let r = admin.call("GET", &format!("/v1/nodes/{uuid}"), None).await;
    assert_eq!(r.body["lessee"], "lessee");
    let r = persona(&app, "lr").call("GET", "/v1/nodes", None).await;
    assert_eq!(r.body["nodes"].as_array().unwrap().len(), 1, "{}", r.raw);
    let r = admin.provision(&uuid, "deleted").await;
    assert_eq!(r.status, 202, "{}", r.raw);
    admin.settle(&uuid, "available").await;
    let r = admin.call("GET", &format!("/v1/nodes/{uuid}"), None).await;
    assert!(r.body["lessee"].is_null(), "{}", r.raw);
}
both_backends!(
    automatic_lessee,
    deployed_nodes_are_leased_to_their_instances_project
);
