//! The web dashboard in a real headless Chromium (WebDriver), against a ferricd
//! with the built-in identity and a simulated rack of 20 machines: an administrator
//! logs in and sees the rack appear; deploys one machine from its page and watches
//! it reach `active` without a reload; sees a machine whose ramdisk never calls
//! back wait (with the "why is it waiting" panel) and end `deploy failed` with its
//! error; a request without the CSRF token is refused; logout ends the session; a
//! project reader sees only the project's nodes and no actions, and the API refuses
//! an action forged in that session. Screenshots of the fleet and a node page go to
//! `target/<profile>/test-artifacts/dashboard/`.

#[path = "../support/mod.rs"]
mod support;

mod browser;

use std::time::Duration;

use browser::Browser;
use ferric_sim::{Rack, RackConfig};
use reqwest::Method;
use serde_json::{json, Value};
use support::{image_bytes, scratch, sha256_hex, target_dir, Ferric, API_VERSION};

const MACHINES: usize = 20;
/// The machine `never_heartbeat = 0.05` picks (the rack staggers that fault by 7:
/// machine 12 of 20).
const SILENT: usize = 12;
/// The first five belong to project acme.
const ACME_NODES: usize = 5;

/// The API as one signed-in user (a Keystone token).
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-OpenStack-Ironic-API-Version", API_VERSION)
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    /// Waits until every node in `uuids` is in `state`.
    async fn settle(&self, uuids: &[String], state: &str) {
        for _ in 0..600 {
            let (_, body) = self
                .call(
                    Method::GET,
                    "/v1/nodes?fields=uuid,provision_state&limit=1000",
                    None,
                )
                .await;
            let done = body["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| uuids.iter().any(|u| n["uuid"] == u.as_str()))
                .all(|n| n["provision_state"] == state);
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the nodes never all reached {state}");
    }
}

/// A password token from the built-in identity service.
async fn token(base: &str, user: &str, password: &str, scope: Value) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{base}/identity/v3/auth/tokens"))
        .json(&json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": "Default"}, "password": password}}},
            "scope": scope,
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string()
}

/// `dashboard/<path>` with the session cookie, and the CSRF token if given.
async fn as_session(
    base: &str,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .request(method, format!("{base}/dashboard/{path}"))
        .header("Cookie", format!("ferric_session={cookie}"))
        .header("X-OpenStack-Ironic-API-Version", API_VERSION);
    if let Some(t) = csrf {
        rb = rb.header("X-CSRF-Token", t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Signs in on the login page.
async fn log_in(b: &Browser, base: &str, user: &str, password: &str, project: &str) {
    b.goto(&format!("{base}/dashboard/")).await;
    assert_eq!(
        b.path().await,
        "/dashboard/login",
        "the dashboard wants a login first"
    );
    b.type_into("#username", user).await;
    b.type_into("#password", password).await;
    b.type_into("#project", project).await;
    b.click("#login-submit").await;
    b.text_until("#whoami", browser::PATIENCE, |t| t.contains(user))
        .await;
}

/// Sets a form control's value the way a user's choice would (with its events).
async fn choose(b: &Browser, css: &str, value: &str) {
    b.find(css).await;
    b.run(&format!(
        "const e = document.querySelector({css:?}); e.value = {value:?}; \
         e.dispatchEvent(new Event('input', {{bubbles: true}})); \
         e.dispatchEvent(new Event('change', {{bubbles: true}}));"
    ))
    .await;
}

/// The enroll form with a bad MAC and with an unreachable BMC, and the deploy
/// dialog with an image that cannot be used: each shows the API's error at the
/// field, and nothing is created (the node stays as it was).
async fn bad_input(b: &Browser, admin: &Api, available: &str) {
    b.run("location.hash = '#/enroll';").await;
    choose(b, "#enroll-form select[name='driver']", "fake-hardware").await;
    choose(b, "#enroll-form input[name='name']", "bad-mac").await;
    b.type_into("#mac-rows .mac-row input", "52:54:zz:00:00:01")
        .await;
    b.click("#enroll-submit").await;
    let error = b
        .text_until("#mac-rows .mac-row .field-error", browser::PATIENCE, |t| {
            !t.is_empty()
        })
        .await;
    assert!(error.to_lowercase().contains("mac"), "{error}");
    let (status, _) = admin.call(Method::GET, "/v1/nodes/bad-mac", None).await;
    assert_eq!(status, 404, "the node with a bad MAC was not kept");

    b.run("location.hash = '#/'; location.hash = '#/enroll';")
        .await;
    choose(b, "#enroll-form select[name='driver']", "redfish").await;
    choose(b, "#enroll-form input[name='name']", "unreachable").await;
    choose(
        b,
        "#enroll-form input[name='redfish_address']",
        "http://127.0.0.1:9",
    )
    .await;
    choose(
        b,
        "#enroll-form input[name='redfish_system_id']",
        "/redfish/v1/Systems/1",
    )
    .await;
    choose(b, "#enroll-form input[name='redfish_username']", "u").await;
    choose(b, "#enroll-form input[name='redfish_password']", "p").await;
    b.click("#enroll-test").await;
    let error = b
        .text_until(
            "#enroll-form [data-field='redfish_address'] .field-error",
            Duration::from_secs(90),
            |t| !t.is_empty(),
        )
        .await;
    assert!(!error.contains("p@"), "{error}");
    let mut gone = false;
    for _ in 0..50 {
        if admin
            .call(Method::GET, "/v1/nodes/unreachable", None)
            .await
            .0
            == 404
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the node whose BMC did not answer was removed again");

    b.run(&format!("location.hash = '#/node/{available}';"))
        .await;
    b.text_until("#node-provision-state", browser::PATIENCE, |t| {
        t.contains("available")
    })
    .await;
    b.click("button[data-action='active']").await;
    b.type_into("input[name='image_source']", "not-a-url").await;
    b.type_into("input[name='image_checksum']", "0123").await;
    b.click("button[data-submit]").await;
    let error = b
        .text_until(
            "dialog[open] .field-error, dialog[open] .action-error",
            browser::PATIENCE,
            |t| !t.is_empty(),
        )
        .await;
    assert!(!error.is_empty());
    let node = admin
        .ok(Method::GET, &format!("/v1/nodes/{available}"), None)
        .await;
    assert_eq!(node["provision_state"], "available", "{error}");
    b.run("document.querySelector('dialog[open]').close();")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_in_a_browser() {
    let dir = scratch("dashboard");
    let artifacts = target_dir().join("test-artifacts/dashboard");
    std::fs::create_dir_all(&artifacts).unwrap();
    let network_api = format!("127.0.0.1:{}", support::free_port());
    let args = [
        "--enable-identity",
        "--auth-strategy",
        "keystone",
        "--network-api-listen",
        &network_api,
    ]
    .map(String::from);
    let ferric = Ferric::start_with(
        &dir,
        None,
        "[agent]\nrequire_tls = false\n[conductor]\ndeploy_callback_timeout = 40\n",
        &args,
    )
    .await;
    let base = ferric.api.clone();
    let admin_password = std::fs::read_to_string(dir.join("var/identity-admin-password"))
        .unwrap()
        .trim()
        .to_string();
    let admin = Api {
        http: reqwest::Client::new(),
        base: base.clone(),
        token: token(
            &base,
            "admin",
            &admin_password,
            json!({"system": {"all": true}}),
        )
        .await,
    };

    // Project acme and its reader, rita.
    let acme = admin
        .ok(
            Method::POST,
            "/identity/v3/projects",
            Some(json!({"project": {"name": "acme"}})),
        )
        .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rita = admin
        .ok(
            Method::POST,
            "/identity/v3/users",
            Some(json!({"user": {"name": "rita", "password": "rita-pw"}})),
        )
        .await["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .ok(
            Method::PUT,
            &format!("/identity/v3/projects/{acme}/users/{rita}/roles/reader"),
            None,
        )
        .await;

    // A tenant network, made through the network API.
    let resp = reqwest::Client::new()
        .post(format!("http://{network_api}/v2.0/networks"))
        .header("X-Auth-Token", &admin.token)
        .json(
            &json!({"network": {"name": "tenant-a", "provider:network_type": "vlan",
            "provider:segmentation_id": 101, "provider:physical_network": "physnet1"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().await.unwrap()
    );

    // The rack: 20 machines, one whose ramdisk never calls back.
    let mut rack_config = RackConfig::new(MACHINES, dir.join("rack"), &base);
    rack_config.disk_size = 64 << 20;
    rack_config.nics = 1;
    rack_config.faults.never_heartbeat = 0.05;
    let rack = Rack::start(rack_config).await.expect("rack");
    let mut uuids = Vec::new();
    for i in 0..MACHINES {
        let mut doc = rack.node_document(i);
        doc["automated_clean"] = json!(false);
        if i < ACME_NODES {
            doc["owner"] = json!(acme);
        }
        let node = admin.ok(Method::POST, "/v1/nodes", Some(doc)).await;
        let uuid = node["uuid"].as_str().unwrap().to_string();
        admin
            .ok(
                Method::POST,
                "/v1/ports",
                Some(rack.port_document(i, &uuid)),
            )
            .await;
        uuids.push(uuid);
    }
    for (verb, state) in [("manage", "manageable"), ("provide", "available")] {
        for u in &uuids {
            admin
                .ok(
                    Method::PUT,
                    &format!("/v1/nodes/{u}/states/provision"),
                    Some(json!({"target": verb})),
                )
                .await;
        }
        admin.settle(&uuids, state).await;
    }
    let image = dir.join("image.raw");
    std::fs::write(&image, image_bytes(8 << 20, 5)).unwrap();
    let sha = sha256_hex(&image);

    // The administrator logs in and sees the rack.
    let b = Browser::start(&dir.join("chromedriver.log"), &artifacts).await;
    log_in(&b, &base, "admin", &admin_password, "").await;
    let rows = b
        .count_until("tr[data-node-uuid]", browser::PATIENCE, |n| n == MACHINES)
        .await;
    assert_eq!(rows, MACHINES, "the fleet table lists the rack");
    b.text_until(
        "[data-counter='provision_state:available']",
        browser::PATIENCE,
        |t| t.contains("20"),
    )
    .await;
    b.screenshot(&artifacts.join("fleet.png")).await;

    // The networks page lists the tenant network with its VLAN.
    b.run("location.hash = '#/networks';").await;
    let networks = b
        .text_until("#networks-table tbody", browser::PATIENCE, |t| {
            t.contains("tenant-a")
        })
        .await;
    assert!(networks.contains("101"), "{networks}");

    // The traits filter: typed into the fleet's form, it lists the one node with it.
    let gpu = &uuids[3];
    admin
        .ok(
            Method::PUT,
            &format!("/v1/nodes/{gpu}/traits"),
            Some(json!({"traits": ["CUSTOM_GPU"]})),
        )
        .await;
    b.run("location.hash = '#/';").await;
    b.type_into("#filters input[name='traits']", "CUSTOM_GPU")
        .await;
    b.click("#filters button[type='submit']").await;
    let rows = b
        .count_until("tr[data-node-uuid]", browser::PATIENCE, |n| n == 1)
        .await;
    assert_eq!(rows, 1, "the traits filter leaves one node");
    b.find(&format!("tr[data-node-uuid='{gpu}']")).await;

    // A node's page shows the RAID configuration asked of it. Only fake-hardware
    // has an enabled RAID interface here, so a node of its own shows it, then goes.
    let raided = admin
        .ok(
            Method::POST,
            "/v1/nodes",
            Some(json!({"driver": "fake-hardware", "name": "raided"})),
        )
        .await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .ok(
            Method::PUT,
            &format!("/v1/nodes/{raided}/states/raid"),
            Some(json!({"logical_disks": [
                {"size_gb": "MAX", "raid_level": "1", "is_root_volume": true}
            ]})),
        )
        .await;
    b.run(&format!("location.hash = '#/node/{raided}';")).await;
    let raid = b
        .text_until("#section-raid", browser::PATIENCE, |t| {
            t.contains("all free space")
        })
        .await;
    assert!(raid.contains("No logical disks built yet"), "{raid}");
    admin
        .ok(Method::DELETE, &format!("/v1/nodes/{raided}"), None)
        .await;

    // Two nodes into maintenance at once from the fleet view, each with its result.
    b.run("location.hash = '#/';").await;
    for u in &uuids[5..7] {
        b.click(&format!("tr[data-node-uuid='{u}'] td.select input"))
            .await;
    }
    b.click("#bulk button[data-action='maintenance']").await;
    b.type_into("dialog[open] input[name='reason']", "cabling check")
        .await;
    b.click("dialog[open] button[data-submit]").await;
    let done = b
        .count_until("#bulk-results .result.ok", browser::PATIENCE, |n| n == 2)
        .await;
    assert_eq!(done, 2, "each selected node reports its result");
    for u in &uuids[5..7] {
        let node = admin.ok(Method::GET, &format!("/v1/nodes/{u}"), None).await;
        assert_eq!(node["maintenance"], true);
        assert_eq!(node["maintenance_reason"], "cabling check");
    }
    b.run("document.querySelector('dialog[open]').close();")
        .await;

    // The silent machine's deploy starts through the API; its page says why it waits.
    let silent = uuids[SILENT].clone();
    admin
        .ok(
            Method::PATCH,
            &format!("/v1/nodes/{silent}"),
            Some(json!([
                {"op": "add", "path": "/instance_info/image_source", "value": image.display().to_string()},
                {"op": "add", "path": "/instance_info/image_checksum", "value": sha},
            ])),
        )
        .await;
    admin
        .ok(
            Method::PUT,
            &format!("/v1/nodes/{silent}/states/provision"),
            Some(json!({"target": "active"})),
        )
        .await;
    b.run(&format!(
        "window.stayed = true; location.hash = '#/node/{silent}';"
    ))
    .await;
    b.text_until("#node-provision-state", browser::PATIENCE, |t| {
        t.contains("wait call-back")
    })
    .await;
    let why = b.find("#why-waiting").await.text().await.unwrap();
    assert!(why.to_lowercase().contains("agent"), "{why}");

    // One machine deployed from its page, watched to active without a reload.
    let chosen = uuids[0].clone();
    b.run(&format!("location.hash = '#/node/{chosen}';")).await;
    b.text_until("#node-provision-state", browser::PATIENCE, |t| {
        t.contains("available")
    })
    .await;
    b.click("button[data-action='active']").await;
    b.type_into("input[name='image_source']", &image.display().to_string())
        .await;
    b.type_into("input[name='image_checksum']", &sha).await;
    b.click("button[data-submit]").await;
    b.text_until("#node-provision-state", Duration::from_secs(120), |t| {
        t.trim() == "active"
    })
    .await;
    assert_eq!(
        b.run("return window.stayed === true;").await,
        json!(true),
        "no reload"
    );
    let steps = b.all("#timeline li").await.len();
    assert!(
        steps >= 3,
        "the timeline shows the deploy's states: {steps}"
    );
    b.screenshot(&artifacts.join("node.png")).await;

    // The silent one ends deploy failed, with its error on its page.
    b.run(&format!("location.hash = '#/node/{silent}';")).await;
    b.text_until("#node-provision-state", Duration::from_secs(90), |t| {
        t.contains("deploy failed")
    })
    .await;
    let error = b.find("#last-error").await.text().await.unwrap();
    assert!(!error.trim().is_empty(), "the failure says what happened");

    // Bad input in the forms: the API's error next to the field, nothing created.
    bad_input(&b, &admin, &uuids[3]).await;

    // A state change without the session's CSRF token is refused and changes nothing.
    let cookie = b.cookie("ferric_session").await;
    let target = uuids[1].clone();
    for csrf in [None, Some("forged")] {
        let (status, _) = as_session(
            &base,
            Method::PUT,
            &format!("api/v1/nodes/{target}/states/provision"),
            &cookie,
            csrf,
            Some(json!({"target": "manage"})),
        )
        .await;
        assert_eq!(status, 403, "csrf {csrf:?}");
    }
    let node = admin
        .ok(Method::GET, &format!("/v1/nodes/{target}"), None)
        .await;
    assert_eq!(node["provision_state"], "available");

    // Logout ends the session for good.
    b.click("#logout").await;
    for _ in 0..100 {
        if b.path().await == "/dashboard/login" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b.path().await, "/dashboard/login");
    let (status, _) = as_session(&base, Method::GET, "session", &cookie, None, None).await;
    assert_eq!(status, 401, "the old cookie names no session");

    // A project reader sees the project's nodes only, and no actions.
    log_in(&b, &base, "rita", "rita-pw", "acme").await;
    let rows = b
        .count_until("tr[data-node-uuid]", browser::PATIENCE, |n| n == ACME_NODES)
        .await;
    assert_eq!(rows, ACME_NODES);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.all("tr[data-node-uuid]").await.len(), ACME_NODES);
    assert!(
        b.all("button[data-action]").await.is_empty(),
        "a reader gets no actions"
    );
    let own = uuids[2].clone();
    b.run(&format!("location.hash = '#/node/{own}';")).await;
    b.text_until("#node-provision-state", browser::PATIENCE, |t| {
        t.contains("available")
    })
    .await;
    assert!(b.all("button[data-action]").await.is_empty());
    let cookie = b.cookie("ferric_session").await;
    let (_, session) = as_session(&base, Method::GET, "session", &cookie, None, None).await;
    assert_eq!(session["can_act"], false);
    let (status, body) = as_session(
        &base,
        Method::PUT,
        &format!("api/v1/nodes/{own}/states/provision"),
        &cookie,
        session["csrf_token"].as_str(),
        Some(json!({"target": "manage"})),
    )
    .await;
    assert_eq!(status, 403, "the API refuses the reader: {body}");
    let node = admin
        .ok(Method::GET, &format!("/v1/nodes/{own}"), None)
        .await;
    assert_eq!(node["provision_state"], "available");
    let _ = b.client.clone().close().await;
}

/// The dashboard over 10 000 nodes: how long the fleet view takes to show its first
/// page with the fleet's counts, and a filter change (a click on a counter) to show
/// the filtered page. Printed for the record, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_nodes_in_the_browser() {
    use futures_util::StreamExt;
    const NODES: usize = 10_000;
    const MANAGED: usize = 100;
    let dir = scratch("dashboard-10k");
    let artifacts = target_dir().join("test-artifacts/dashboard");
    std::fs::create_dir_all(&artifacts).unwrap();
    let ferric = Ferric::start(&dir, None).await;
    let api = &ferric;
    let uuids: Vec<String> = futures_util::stream::iter(0..NODES)
        .map(|i| async move {
            let (status, node) = api
                .call(
                    Method::POST,
                    "/nodes",
                    Some(json!({"driver": "fake-hardware", "name": format!("n{i:05}")})),
                )
                .await;
            assert_eq!(status, 201, "{node}");
            node["uuid"].as_str().unwrap().to_string()
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for u in &uuids[..MANAGED] {
        api.provision(u, "manage").await;
    }
    for u in &uuids[..MANAGED] {
        api.wait_for(u, &["manageable"], Duration::from_secs(30))
            .await;
    }

    let b = Browser::start(&dir.join("chromedriver.log"), &artifacts).await;
    let started = std::time::Instant::now();
    b.goto(&format!("{}/dashboard/", ferric.api)).await;
    b.count_until("tr[data-node-uuid]", Duration::from_secs(60), |n| n == 50)
        .await;
    let first_page = started.elapsed();
    b.text_until("[data-counter='total:all']", Duration::from_secs(60), |t| {
        t.contains("10000") || t.contains("10 000") || t.contains("10,000")
    })
    .await;
    let with_counts = started.elapsed();

    let started = std::time::Instant::now();
    b.click("[data-counter='provision_state:manageable']").await;
    let wanted = "tr[data-node-uuid] td.provision-state[data-state='manageable']";
    let n = b
        .count_until(wanted, Duration::from_secs(60), |n| n == 50)
        .await;
    let filtered = started.elapsed();
    assert_eq!(n, 50, "the filtered page lists manageable nodes only");
    assert_eq!(b.all("tr[data-node-uuid]").await.len(), 50);
    eprintln!(
        "dashboard over {NODES} nodes: first page {} ms, with the fleet's counts {} ms; \
         filter change {} ms",
        first_page.as_millis(),
        with_counts.as_millis(),
        filtered.as_millis()
    );
}
