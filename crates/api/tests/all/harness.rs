//! The test harness: a fresh database per test (a new SQLite file, or a new schema in
//! the PostgreSQL named by `FERRIC_TEST_POSTGRES_URL`), the API router over it, and a
//! small request helper. `both_backends!` turns one scenario into a SQLite test and a
//! PostgreSQL test.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

use ferric_api::{service, ApiConfig, AppState};
use ferric_conductor::{Conductor, ConductorConfig, Heartbeats};
use ferric_conductor_api::RingCache;
use ferric_db::Datastore;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{Connection, Executor};
use tower::ServiceExt;
use tower_http::normalize_path::NormalizePath;

#[derive(Clone)]
pub struct TestApp {
    service: NormalizePath<Router>,
    network: Router,
    state: AppState,
    pub db: Datastore,
    pub version: &'static str,
    /// The `Authorization` header every request sends, if any.
    authorization: Option<String>,
}

/// A response as tests look at it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    /// The `faultstring` of an Ironic error body.
    pub fn fault(&self) -> String {
        let inner: Value =
            serde_json::from_str(self.body["error_message"].as_str().unwrap_or("{}"))
                .unwrap_or_default();
        inner["faultstring"]
            .as_str()
            .or(inner["description"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The password of every user [`TestApp::with_users`] makes.
pub const PASSWORD: &str = "pw";

/// The test conductor never heartbeats after registering, and stays alive.
const TEST_HEARTBEATS: Heartbeats = Heartbeats {
    interval: Duration::from_secs(3600),
    timeout: Duration::from_secs(7200),
};

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    async fn new(db: Datastore) -> Self {
        let config = ApiConfig {
            public_endpoint: None,
            max_limit: 1000,
            ..ApiConfig::default()
        };
        let conductor = Conductor::new(
            db.clone(),
            ConductorConfig {
                host: "test-conductor".into(),
                group: String::new(),
                workers: 100,
                heartbeats: TEST_HEARTBEATS,
                ..ferric_conductor::ConductorConfig::default()
            },
        );
        conductor.register().await.unwrap();
        let state = AppState {
            db: db.clone(),
            config,
            conductor: Arc::new(conductor),
            rings: Arc::new(RingCache::new(
                db.clone(),
                Heartbeats {
                    interval: Duration::from_millis(100),
                    ..TEST_HEARTBEATS
                },
            )),
            metrics: Default::default(),
            boot_files: None,
        };
        TestApp {
            service: service(state.clone()),
            network: ferric_api::neutron::service(state.clone()),
            state,
            db,
            version: "1.65",
            authorization: None,
        }
    }

    /// The same app (same database and conductor) behind other API settings.
    pub fn reconfigured(&self, change: impl FnOnce(&mut ApiConfig)) -> TestApp {
        let mut state = self.state.clone();
        change(&mut state.config);
        TestApp {
            service: service(state.clone()),
            network: ferric_api::neutron::service(state.clone()),
            state,
            ..self.clone()
        }
    }

    /// The same app behind http_basic with an htpasswd file: `admin` (unrestricted)
    /// and each `(user, grant)` (`project=…:roles=…` or `system=all:roles=…`), all
    /// with the password [`PASSWORD`].
    pub fn with_users(&self, users: &[(&str, &str)]) -> TestApp {
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        let mut text = format!("admin:{hash}\n");
        for (user, grant) in users.iter().filter(|(_, g)| !g.is_empty()) {
            text.push_str(&format!("{user}:{hash}:{grant}\n"));
        }
        let dir = std::env::temp_dir().join("ferric-api-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("htpasswd-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, text).unwrap();
        let file = ferric_api::auth::UserFile::open(&path).unwrap();
        self.reconfigured(|c| {
            c.auth = ferric_api::auth::AuthStrategy::HttpBasic(Arc::new(file));
        })
    }

    /// The app as `user` (password `password`) sees it, with HTTP basic auth.
    pub fn as_user(&self, user: &str, password: &str) -> TestApp {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        TestApp {
            authorization: Some(format!("Basic {token}")),
            ..self.clone()
        }
    }

    /// The app as a client that sends no credentials sees it.
    pub fn anonymous(&self) -> TestApp {
        TestApp {
            authorization: None,
            ..self.clone()
        }
    }

    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join("ferric-api-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", unique_name("t")));
        let db = Datastore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        Self::new(db).await
    }

    pub async fn postgres() -> Self {
        let url = std::env::var("FERRIC_TEST_POSTGRES_URL").expect(
            "FERRIC_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite needs a server \
             (lab/run-tests.sh starts one)",
        );
        let schema = unique_name("t");
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL reachable");
        conn.execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let db = Datastore::connect(&format!("{url}{sep}options=-c%20search_path%3D{schema}"))
            .await
            .unwrap();
        Self::new(db).await
    }

    /// Sends a request at the app's default version.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_v(method, path, body, Some(self.version)).await
    }

    /// Sends a request at a chosen version (`None`: no version header).
    pub async fn call_v(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        version: Option<&str>,
    ) -> Reply {
        let mut req = request(method, path, "ferric.test:6385", version, body);
        if let Some(a) = &self.authorization {
            req.headers_mut()
                .insert("authorization", a.parse().unwrap());
        }
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.service.clone().oneshot(req).await.unwrap();
        Self::reply(resp).await
    }

    /// Sends a request to the network (Neutron-shaped) API.
    pub async fn net(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = request(method, path, "ferric.test:9696", None, body);
        if let Some(a) = &self.authorization {
            req.headers_mut()
                .insert("authorization", a.parse().unwrap());
        }
        Self::reply(self.network.clone().oneshot(req).await.unwrap()).await
    }

    async fn reply(resp: axum::response::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let raw = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    /// Enrolls a port with `mac` on the node; its JSON.
    pub async fn port(&self, node_uuid: &str, mac: &str) -> Value {
        let body = serde_json::json!({"node_uuid": node_uuid, "address": mac});
        let r = self.call("POST", "/v1/ports", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body
    }

    /// Asks for a provision verb (`PUT /v1/nodes/{node}/states/provision`).
    pub async fn provision(&self, node: &str, target: &str) -> Reply {
        let body = serde_json::json!({ "target": target });
        self.call(
            "PUT",
            &format!("/v1/nodes/{node}/states/provision"),
            Some(body),
        )
        .await
    }

    /// Waits (10 s at most) until the node is in `want` and unlocked; its JSON.
    pub async fn settle(&self, node: &str, want: &str) -> Value {
        for _ in 0..500 {
            let r = self.call("GET", &format!("/v1/nodes/{node}"), None).await;
            if r.body["provision_state"] == want && r.body["reservation"].is_null() {
                return r.body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{node} never reached {want}");
    }

    /// Creates a node and returns its JSON.
    pub async fn node(&self, body: Value) -> Value {
        let r = self.call("POST", "/v1/nodes", Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
        r.body
    }
}

/// A request with a JSON body (if any) and an Ironic version header (if any).
fn request(
    method: &str,
    path: &str,
    host: &str,
    version: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("host", host);
    if let Some(v) = version {
        req = req.header("x-openstack-ironic-api-version", v);
    }
    match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}

/// Runs one scenario against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $scenario:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::harness::TestApp::sqlite().await;
                ($scenario)(app).await;
            }

            #[tokio::test]
            async fn postgres() {
                let app = $crate::harness::TestApp::postgres().await;
                ($scenario)(app).await;
            }
        }
    };
}
