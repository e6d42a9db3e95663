//! Signing in and out. The login page posts a user name and password (and, with
//! the built-in identity, a project); the dashboard checks them with the API (or
//! trades them for a token with the identity service) and opens a session. Under
//! `noauth` there is no login: the page opens a session by itself, as the API lets
//! everybody in.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{basic, read, with_credentials};
use crate::assets;
use crate::session::{clear_cookie, over_tls, set_cookie, Credentials, Session};
use crate::{refuse, BasicGrants, Dashboard, Login};

/// The login form.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    project: String,
}

/// `GET /dashboard/login`.
pub(crate) async fn page(State(dash): State<Dashboard>) -> Response {
    if matches!(dash.login, Login::Open) {
        return Redirect::to("/dashboard/").into_response();
    }
    login_page(&dash.login, "", StatusCode::OK)
}

/// `POST /dashboard/login`: a session and the dashboard, or the page again with
/// what was wrong.
pub(crate) async fn submit(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return login_page(
            &dash.login,
            "This login form was posted from another site.",
            StatusCode::FORBIDDEN,
        );
    }
    let opened = match &dash.login {
        Login::Open => Ok(Session::new(None, None, vec![], Credentials::None)),
        Login::HttpBasic { grants } => basic_login(&dash, grants, &form).await,
        Login::Keystone { token_path } => keystone_login(&dash, token_path, &form).await,
        Login::ExternalKeystone => Err(EXTERNAL_KEYSTONE.to_string()),
    };
    match opened {
        Ok(session) => {
            tracing::info!(user = ?session.user, project = ?session.project, "dashboard login");
            let id = dash.sessions.open(session);
            let mut response = Redirect::to("/dashboard/").into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, set_cookie(&id, over_tls(&headers)));
            response
        }
        Err(message) => login_page(&dash.login, &message, StatusCode::UNAUTHORIZED),
    }
}

/// `POST /dashboard/logout` (with the CSRF token): closes the session and, with
/// Keystone, revokes its token.
pub(crate) async fn logout(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    let Some(session) = dash.sessions.find(&headers) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    if !session.csrf_sent(&headers) {
        return refuse(StatusCode::FORBIDDEN, "missing or wrong X-CSRF-Token");
    }
    dash.sessions.close(&headers);
    if let (Login::Keystone { token_path }, Credentials::Token(token)) =
        (&dash.login, &session.credentials)
    {
        let request = Request::builder()
            .method(Method::DELETE)
            .uri(token_path.as_str())
            .header("x-subject-token", token.clone())
            .body(Body::empty())
            .expect("a valid request");
        let answer = dash
            .api
            .call(with_credentials(request, &session.credentials))
            .await;
        if !answer.status().is_success() {
            tracing::warn!(status = %answer.status(), "could not revoke a dashboard token");
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(over_tls(&headers)));
    response
}

/// `GET /dashboard/session`: what the page may know of its session (never the
/// credentials).
pub(crate) async fn session(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    let Some(s) = dash.sessions.find(&headers) else {
        return refuse(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let t = dash.timeouts;
    let mut response = Json(json!({
        "user": s.user,
        "project": s.project,
        "roles": s.roles,
        "auth": match dash.login {
            Login::Open => "noauth",
            Login::HttpBasic { .. } => "http_basic",
            Login::Keystone { .. } | Login::ExternalKeystone => "keystone",
        },
        "csrf_token": s.csrf_token,
        "can_act": s.can_act(),
        "timeouts": {
            "deploy_callback": t.deploy_callback.as_secs(),
            "clean_callback": t.clean_callback.as_secs(),
            "inspect_wait": t.inspect_wait.as_secs(),
            "rescue_callback": t.rescue_callback.as_secs(),
            "service_callback": t.service_callback.as_secs(),
        },
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const EXTERNAL_KEYSTONE: &str = "This Ferric checks tokens with an identity service elsewhere; \
     the dashboard can sign in only with http_basic or Ferric's built-in identity.";

/// The user is who the API says: a listing of one node with their credentials.
async fn basic_login(
    dash: &Dashboard,
    grants: &BasicGrants,
    form: &LoginForm,
) -> Result<Session, String> {
    let value = basic(&form.username, &form.password).ok_or_else(|| {
        "The user name or password holds characters HTTP cannot carry.".to_string()
    })?;
    let credentials = Credentials::Basic(value);
    match dash
        .api
        .get_json("/v1/nodes?limit=1&fields=uuid", &credentials)
        .await
    {
        Ok(_) => {
            let (project, roles) = (grants.0)(&form.username);
            Ok(Session::new(
                Some(form.username.clone()),
                project,
                roles,
                credentials,
            ))
        }
        Err(failed) if failed.status == StatusCode::UNAUTHORIZED => {
            Err("The user name or password is wrong.".into())
        }
        Err(failed) => Err(format!(
            "The API refused the login ({}): {}",
            failed.status, failed.body
        )),
    }
}

/// Password in, token out, from the built-in identity service: scoped to the
/// project given, or to the system when none is.
async fn keystone_login(
    dash: &Dashboard,
    token_path: &str,
    form: &LoginForm,
) -> Result<Session, String> {
    let scope = match form.project.trim() {
        "" => json!({"system": {"all": true}}),
        project => json!({"project": {"name": project, "domain": {"id": "default"}}}),
    };
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": form.username, "domain": {"id": "default"}, "password": form.password,
        }}},
        "scope": scope,
    }});
    let request = Request::builder()
        .method(Method::POST)
        .uri(token_path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid request");
    let response = dash.api.call(request).await;
    let token = response.headers().get("x-subject-token").cloned();
    let (status, body) = read(response).await.map_err(|f| f.body)?;
    if status == StatusCode::UNAUTHORIZED {
        return Err(
            "The user name or password is wrong, or the user has no role on that scope.".into(),
        );
    }
    let (Some(token), true) = (token, status.is_success()) else {
        return Err(format!(
            "The identity service refused the login ({status}): {}",
            String::from_utf8_lossy(&body)
        ));
    };
    let issued: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let roles = issued["token"]["roles"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let project = issued["token"]["project"]["name"]
        .as_str()
        .map(str::to_string);
    Ok(Session::new(
        Some(form.username.clone()),
        project,
        roles,
        Credentials::Token(token),
    ))
}

/// A form post from this origin (or from a client that sends no `Origin`).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority == host)
}

/// The login page with a message (escaped) and the fields this login needs.
fn login_page(login: &Login, message: &str, status: StatusCode) -> Response {
    let project = match login {
        Login::Keystone { .. } => assets::LOGIN_PROJECT_FIELD,
        _ => "",
    };
    let message = match (login, message) {
        (Login::ExternalKeystone, "") => EXTERNAL_KEYSTONE,
        (_, m) => m,
    };
    let html = assets::LOGIN_PAGE
        .replace("{{project}}", project)
        .replace("{{message}}", &assets::escape_html(message))
        .replace(
            "{{message_class}}",
            if message.is_empty() {
                "hidden"
            } else {
                "error"
            },
        );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_posts_log_in() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:6385"));
        assert!(same_origin(&h), "no Origin: a non-browser client");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:6385"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
    }
}
