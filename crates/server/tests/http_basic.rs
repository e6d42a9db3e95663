//! ferricd with `--auth-strategy http_basic`, over real HTTP: Ironic's exact 400,
//! 401 and 500 answers (`{"error": {"message", "code"}}`, `WWW-Authenticate: Basic
//! realm="Baremetal API"`), a user from an htpasswd file (bcrypt) gets in, the public
//! routes (version discovery, the agent's lookup) stay open, the file is read again
//! when it changes, the network API is behind the same layer, and a file with a hash
//! that is not bcrypt stops ferricd at start. The dashboard signs users in against
//! the same file and shows a reader no actions.

mod support;

use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};
use support::*;

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

async fn get(url: &str, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = reqwest::Client::new()
        .get(url)
        .header("X-OpenStack-Ironic-API-Version", API_VERSION);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let realm = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, realm, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_basic_answers_as_ironic() {
    let dir = scratch("http-basic");
    let users = dir.join("htpasswd");
    let hash = bcrypt::hash("s3cret:with colon", 4).unwrap();
    std::fs::write(&users, format!("admin:{hash}\n")).unwrap();
    let net_port = free_port();
    let args = [
        "--auth-strategy",
        "http_basic",
        "--http-basic-auth-user-file",
        users.to_str().unwrap(),
        "--network-api-listen",
        &format!("127.0.0.1:{net_port}"),
    ]
    .map(String::from);
    let ferric = Ferric::start_with(&dir, None, "", &args).await;
    let nodes = format!("{}/v1/nodes", ferric.api);
    let realm = Some("Basic realm=\"Baremetal API\"".to_string());
    let error = |message: &str, code: u16| json!({"error": {"message": message, "code": code}});

    assert_eq!(
        get(&nodes, None).await,
        (401, realm.clone(), error("Authorization required", 401))
    );
    for (header, message) in [
        ("Basic", "Could not parse Authorization header"),
        ("Bearer abc", "Unsupported authorization type \"Bearer\""),
        ("Basic !!notbase64", "Could not decode authorization token"),
        ("Basic bm9jb2xvbg==", "Could not decode authorization token"),
    ] {
        assert_eq!(
            get(&nodes, Some(header)).await,
            (400, None, error(message, 400)),
            "{header}"
        );
    }
    for (user, password) in [("admin", "wrong"), ("nobody", "s3cret:with colon")] {
        assert_eq!(
            get(&nodes, Some(&basic(user, password))).await,
            (
                401,
                realm.clone(),
                error("Incorrect username or password", 401)
            )
        );
    }
    let ok = basic("admin", "s3cret:with colon");
    let (status, _, body) = get(&nodes, Some(&ok)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nodes"], json!([]));
    // A second request is answered from the memo (and still right).
    assert_eq!(get(&nodes, Some(&ok)).await.0, 200);

    // Public routes need no credentials.
    for path in [
        "/",
        "/v1",
        "/v1/lookup?addresses=52:54:00:00:00:01",
        "/v1/heartbeat/1be26c0b-0000",
        "/v1/continue_inspection",
    ] {
        let (status, _, body) = get(&format!("{}{path}", ferric.api), None).await;
        assert_ne!(status, 401, "{path}: {body}");
    }
    // The network API is behind the same layer; its version document is not.
    let net = format!("http://127.0.0.1:{net_port}");
    assert_eq!(get(&format!("{net}/v2.0/networks"), None).await.0, 401);
    assert_eq!(get(&format!("{net}/v2.0/networks"), Some(&ok)).await.0, 200);

    // The file is read again when it changes: the old password stops working.
    let hash = bcrypt::hash("new-password", 4).unwrap();
    std::fs::write(&users, format!("admin:{hash}\nother:{hash}\n")).unwrap();
    assert_eq!(get(&nodes, Some(&ok)).await.0, 401);
    assert_eq!(
        get(&nodes, Some(&basic("other", "new-password"))).await.0,
        200
    );
    // An unreadable file: Ironic's 500.
    std::fs::remove_file(&users).unwrap();
    let (status, _, body) = get(&nodes, Some(&ok)).await;
    assert_eq!(
        (status, body),
        (
            500,
            error(
                "Invalid configuration file. Problem reading auth user file",
                500
            )
        )
    );
    let log = std::fs::read_to_string(&ferric.log).unwrap();
    assert!(
        !log.contains("s3cret") && !log.contains("new-password"),
        "a password was logged"
    );
    drop(ferric);

    // A hash that is not bcrypt: ferricd does not start.
    std::fs::write(&users, "admin:$apr1$abc$def\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferricd"))
        .args(["--listen", "127.0.0.1:1", "--data-dir"])
        .arg(dir.join("var2"))
        .args(&args[..4])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not bcrypt"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Signs in to the dashboard with a user name and password; the session cookie.
async fn dashboard_login(api: &str, user: &str, password: &str) -> String {
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{api}/dashboard/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("username={user}&password={password}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "{user} signs in");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_learns_each_users_grant_from_the_user_file() {
    let dir = scratch("http-basic-dashboard");
    let users = dir.join("htpasswd");
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(
        &users,
        format!("admin:{hash}\nrita:{hash}:project=acme:roles=reader\n"),
    )
    .unwrap();
    let args = [
        "--auth-strategy",
        "http_basic",
        "--http-basic-auth-user-file",
        users.to_str().unwrap(),
    ]
    .map(String::from);
    let ferric = Ferric::start_with(&dir, None, "", &args).await;
    let http = reqwest::Client::new();
    let session = |cookie: String| {
        let http = http.clone();
        let url = format!("{}/dashboard/session", ferric.api);
        async move {
            let resp = http.get(url).header("Cookie", cookie).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };

    // An unrestricted user may act; a project reader sees its project and may not.
    let admin = session(dashboard_login(&ferric.api, "admin", "pw").await).await;
    assert_eq!(admin["can_act"], true, "{admin}");
    let rita_cookie = dashboard_login(&ferric.api, "rita", "pw").await;
    let rita = session(rita_cookie.clone()).await;
    assert_eq!(rita["can_act"], false, "{rita}");
    assert_eq!(rita["project"], "acme", "{rita}");

    // A write forged past the hidden buttons is still the API's to refuse.
    let resp = http
        .post(format!("{}/dashboard/api/v1/nodes", ferric.api))
        .header("Cookie", &rita_cookie)
        .header("X-CSRF-Token", rita["csrf_token"].as_str().unwrap())
        .header("X-OpenStack-Ironic-API-Version", API_VERSION)
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        403,
        "{}",
        resp.text().await.unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
