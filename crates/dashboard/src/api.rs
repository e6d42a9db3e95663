//! Calls into the API service of this process, as a signed-in user: what the login,
//! the proxy and the live feed share.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::session::Credentials;
use crate::ApiService;

/// The largest API answer the dashboard reads whole on the server side (a page of
/// 1 000 sparse nodes is a few hundred KiB).
const MAX_READ_BYTES: usize = 16 << 20;

/// The API service, cheap to clone.
#[derive(Clone)]
pub(crate) struct Api {
    service: ApiService,
}

/// A call that did not give the JSON asked for.
#[derive(Debug)]
pub(crate) struct CallFailed {
    pub status: StatusCode,
    pub body: String,
}

impl Api {
    pub fn new(service: ApiService) -> Self {
        Self { service }
    }

    /// Hands a request to the API and returns its answer.
    pub async fn call(&self, request: Request<Body>) -> Response<Body> {
        match self.service.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// `GET path` as the session's user, at the newest microversion; the JSON body
    /// of a 200.
    pub async fn get_json(
        &self,
        path: &str,
        credentials: &Credentials,
    ) -> Result<Value, CallFailed> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::ACCEPT, "application/json")
            .header("x-openstack-ironic-api-version", "latest")
            .body(Body::empty())
            .expect("a valid request");
        let response = self.call(with_credentials(request, credentials)).await;
        let (status, body) = read(response).await?;
        if status != StatusCode::OK {
            return Err(CallFailed {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| CallFailed {
            status,
            body: format!("not JSON: {e}"),
        })
    }
}

/// The request with the user's credentials in place of any the browser sent.
pub(crate) fn with_credentials(
    mut request: Request<Body>,
    credentials: &Credentials,
) -> Request<Body> {
    let headers = request.headers_mut();
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-auth-token");
    headers.remove(header::COOKIE);
    match credentials {
        Credentials::None => {}
        Credentials::Basic(value) => {
            headers.insert(header::AUTHORIZATION, value.clone());
        }
        Credentials::Token(value) => {
            headers.insert("x-auth-token", value.clone());
        }
    }
    request
}

/// An answer's status and body, read up to [`MAX_READ_BYTES`].
pub(crate) async fn read(response: Response<Body>) -> Result<(StatusCode, Vec<u8>), CallFailed> {
    let status = response.status();
    let limited = http_body_util::Limited::new(response.into_body(), MAX_READ_BYTES);
    match limited.collect().await {
        Ok(collected) => Ok((status, collected.to_bytes().to_vec())),
        Err(e) => Err(CallFailed {
            status: StatusCode::BAD_GATEWAY,
            body: format!("cannot read the API's answer: {e}"),
        }),
    }
}

/// A header value for a `Basic` login.
pub(crate) fn basic(user: &str, password: &str) -> Option<HeaderValue> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    HeaderValue::from_str(&format!("Basic {encoded}")).ok()
}
