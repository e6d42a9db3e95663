//! The built-in identity service over real HTTP, on both databases: the first
//! administrator made at first start (password in a file only the owner reads),
//! Keystone's version discovery, password and application-credential tokens scoped
//! to a project or the system, the API's `keystone` strategy accepting them and
//! refusing bad, oversized, foreign-key, revoked and expired ones with
//! keystonemiddleware's 401, and a second ferricd validating the first one's tokens
//! through `[keystone_authtoken]` (503 once the first is gone, for tokens it has not
//! seen).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// `POST /identity/v3/auth/tokens`: the status, token and body.
    async fn token(&self, auth: Value) -> (u16, Option<String>, Value) {
        let resp = self
            .http
            .post(format!("{}/identity/v3/auth/tokens", self.base))
            .json(&json!({ "auth": auth }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let token = resp
            .headers()
            .get("x-subject-token")
            .map(|v| v.to_str().unwrap().to_string());
        (status, token, resp.json().await.unwrap_or(Value::Null))
    }

    async fn password_token(&self, user: &str, password: &str, scope: Value) -> String {
        let (status, token, body) = self
            .token(json!({
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": user, "domain": {"name": "Default"}, "password": password}}},
                "scope": scope,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        token.unwrap()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-OpenStack-Ironic-API-Version", API_VERSION);
        if let Some(t) = token {
            rb = rb.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, resp.json().await.unwrap_or(Value::Null), headers)
    }
}

fn project_scope(name: &str) -> Value {
    json!({"project": {"name": name, "domain": {"name": "Default"}}})
}

const UNAUTHORIZED: &str = "The request you have made requires authentication.";

async fn scenario(database_url: Option<String>) {
    let dir = scratch("identity");
    let args = ["--enable-identity", "--auth-strategy", "keystone"].map(String::from);
    let ferric = Ferric::start_with(
        &dir,
        database_url.clone(),
        "[identity]\ntoken_expiration = 3\n",
        &args,
    )
    .await;
    let c = Client {
        http: reqwest::Client::new(),
        base: ferric.api.clone(),
    };
    let file = dir.join("var/identity-admin-password");
    let admin_password = std::fs::read_to_string(&file).unwrap().trim().to_string();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Version discovery, as keystoneauth does it.
    let resp = c
        .http
        .get(format!("{}/identity", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 300);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["versions"]["values"][0]["links"][0]["href"],
        format!("{}/identity/v3/", c.base)
    );

    // The API wants a token, and says where to get one.
    let (status, body, headers) = c.send(reqwest::Method::GET, "/v1/nodes", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": {"code": 401, "title": "Unauthorized", "message": UNAUTHORIZED}})
    );
    assert_eq!(
        headers["www-authenticate"],
        format!("Keystone uri=\"{}/identity/v3\"", c.base).as_str()
    );

    // The administrator makes a project, a user and a grant.
    let system = c
        .password_token("admin", &admin_password, json!({"system": {"all": true}}))
        .await;
    let (status, body, _) = c
        .send(
            reqwest::Method::POST,
            "/identity/v3/projects",
            Some(&system),
            Some(json!({"project": {"name": "acme"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = c
        .send(
            reqwest::Method::POST,
            "/identity/v3/users",
            Some(&system),
            Some(json!({"user": {"name": "alice", "password": "alice-pw"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let alice_id = body["user"]["id"].as_str().unwrap().to_string();
    let (status, _, _) = c
        .send(
            reqwest::Method::PUT,
            &format!("/identity/v3/projects/acme/users/{alice_id}/roles/member"),
            Some(&system),
            None,
        )
        .await;
    assert_eq!(status, 204);

    // Wrong password, unknown user, a project she has no role in: 401, Keystone's body.
    for (user, password, scope) in [
        ("alice", "wrong", project_scope("acme")),
        ("nobody", "x", project_scope("acme")),
        ("alice", "alice-pw", project_scope("admin")),
    ] {
        let (status, token, body) = c
            .token(json!({
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": user, "domain": {"name": "Default"}, "password": password}}},
                "scope": scope,
            }))
            .await;
        assert_eq!((status, token), (401, None), "{user}");
        assert_eq!(body["error"]["message"], UNAUTHORIZED);
    }

    // Alice's project token: a catalog with the bare metal endpoint; her node is her project's.
    let (status, token, body) = c
        .token(json!({
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "alice", "domain": {"name": "Default"}, "password": "alice-pw"}}},
            "scope": project_scope("acme"),
        }))
        .await;
    assert_eq!(status, 201);
    let alice = token.unwrap();
    let t = &body["token"];
    assert_eq!(t["project"]["name"], "acme");
    assert_eq!(
        t["roles"],
        json!([{"id": "member", "name": "member"}, {"id": "reader", "name": "reader"}])
    );
    let catalog = t["catalog"].as_array().unwrap();
    let baremetal = catalog.iter().find(|e| e["type"] == "baremetal").unwrap();
    assert_eq!(baremetal["endpoints"][0]["url"], c.base.as_str());
    assert!(t["expires_at"].as_str().unwrap().ends_with('Z'));
    let (status, body, _) = c
        .send(reqwest::Method::GET, "/v1/nodes", Some(&alice), None)
        .await;
    assert_eq!(
        (status, body["nodes"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _, _) = c
        .send(
            reqwest::Method::POST,
            "/v1/nodes",
            Some(&alice),
            Some(json!({"driver": "fake-hardware"})),
        )
        .await;
    assert_eq!(status, 403, "a member does not create nodes");

    // An application credential acts as Alice in acme, and cannot ask for a scope.
    let (status, body, _) = c
        .send(
            reqwest::Method::POST,
            &format!("/identity/v3/users/{alice_id}/application_credentials"),
            Some(&alice),
            Some(json!({"application_credential": {"name": "ci", "roles": []}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let cred_id = body["application_credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = body["application_credential"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let cred_auth = json!({"methods": ["application_credential"],
        "application_credential": {"id": cred_id, "secret": secret}});
    let (status, token, body) = c.token(json!({"identity": cred_auth})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["token"]["application_credential"]["name"], "ci");
    let ci = token.unwrap();
    let (status, _, _) = c
        .send(reqwest::Method::GET, "/v1/nodes", Some(&ci), None)
        .await;
    assert_eq!(status, 200);
    let (status, _, body) = c
        .token(json!({"identity": cred_auth, "scope": project_scope("acme")}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Application credentials cannot request a scope."
    );

    // Tokens that are not ours, oversized, malformed: 401 and nothing else.
    let mut forged = alice.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [forged, "x".repeat(10_000), "not-a-token".to_string()] {
        let (status, body, _) = c
            .send(reqwest::Method::GET, "/v1/nodes", Some(&bad), None)
            .await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["message"], UNAUTHORIZED);
    }

    // A second ferricd validates this one's tokens through [keystone_authtoken].
    let (status, body, _) = c
        .send(
            reqwest::Method::POST,
            "/identity/v3/users",
            Some(&system),
            Some(json!({"user": {"name": "ironic-svc", "password": "svc-pw"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, _) = c
        .send(
            reqwest::Method::PUT,
            "/identity/v3/projects/admin/users/ironic-svc/roles/service",
            Some(&system),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let dir2 = scratch("identity-remote");
    let remote = Ferric::start_with(
        &dir2,
        None,
        &format!(
            "[auth]\nstrategy = \"keystone\"\n[keystone_authtoken]\nauth_url = \"{}/identity\"\n\
             auth_type = \"password\"\nusername = \"ironic-svc\"\npassword = \"svc-pw\"\n\
             project_name = \"admin\"\nuser_domain_name = \"Default\"\nproject_domain_name = \"Default\"\n\
             memcached_servers = \"ignored:11211\"\n",
            c.base
        ),
        &[],
    )
    .await;
    let c2 = Client {
        http: reqwest::Client::new(),
        base: remote.api.clone(),
    };
    let (status, body, _) = c2
        .send(reqwest::Method::GET, "/v1/nodes", Some(&ci), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = c2
        .send(reqwest::Method::GET, "/v1/nodes", Some("bogus"), None)
        .await;
    assert_eq!(status, 401);

    // Revoked: 401 at once here, and for the other ferricd once it asks again.
    let (status, _, _) = c
        .send(
            reqwest::Method::DELETE,
            "/identity/v3/auth/tokens",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 404, "no X-Subject-Token: nothing to revoke");
    let resp = c
        .http
        .delete(format!("{}/identity/v3/auth/tokens", c.base))
        .header("X-Auth-Token", &alice)
        .header("X-Subject-Token", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let (status, _, _) = c
        .send(reqwest::Method::GET, "/v1/nodes", Some(&alice), None)
        .await;
    assert_eq!(status, 401, "a revoked token");

    // The identity service gone: tokens the other ferricd has not seen get 503.
    let fresh = c
        .password_token("alice", "alice-pw", project_scope("acme"))
        .await;
    drop(ferric);
    let (status, body, _) = c2
        .send(reqwest::Method::GET, "/v1/nodes", Some(&fresh), None)
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["error"]["message"],
        "The Keystone service is temporarily unavailable."
    );
    drop(remote);

    // Tokens expire (this service's live 3 s).
    let ferric = Ferric::start_with(
        &dir,
        database_url,
        "[identity]\ntoken_expiration = 3\n",
        &args,
    )
    .await;
    let c = Client {
        http: reqwest::Client::new(),
        base: ferric.api.clone(),
    };
    let short = c
        .password_token("alice", "alice-pw", project_scope("acme"))
        .await;
    let (status, _, _) = c
        .send(reqwest::Method::GET, "/v1/nodes", Some(&short), None)
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let (status, _, _) = c
        .send(reqwest::Method::GET, "/v1/nodes", Some(&short), None)
        .await;
    assert_eq!(status, 401, "an expired token");

    // No password, token or secret in the logs, even at debug.
    let log = std::fs::read_to_string(&ferric.log).unwrap()
        + &std::fs::read_to_string(dir.join("ferricd.log")).unwrap_or_default();
    for secret in [
        admin_password.as_str(),
        "alice-pw",
        "svc-pw",
        &secret,
        &short,
        &ci,
    ] {
        assert!(!log.contains(secret), "a secret is in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_identity_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_identity_postgres() {
    scenario(Some(postgres_url())).await;
}
