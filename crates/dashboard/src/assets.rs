//! The dashboard's page, scripts and styles, compiled into the binary (nothing to
//! install), and the headers every dashboard answer carries: a content security
//! policy that allows this origin's own files only, no framing, no sniffing.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::session::{over_tls, set_cookie, Credentials, Session};
use crate::{Dashboard, Login};

/// The login page; `{{message}}`, `{{message_class}}` and `{{project}}` are filled in.
pub(crate) const LOGIN_PAGE: &str = include_str!("../assets/login.html");

/// The project field of the login page, for the built-in identity.
pub(crate) const LOGIN_PROJECT_FIELD: &str = r#"<label for="project">Project <span class="hint">(empty: system scope)</span></label>
      <input id="project" name="project" autocomplete="off">"#;

const INDEX: &str = include_str!("../assets/index.html");

/// Files under `/dashboard/static/`: name, media type, content.
const FILES: &[(&str, &str, &str)] = &[
    ("app.css", CSS, include_str!("../assets/app.css")),
    ("app.js", JS, include_str!("../assets/app.js")),
    ("api.js", JS, include_str!("../assets/api.js")),
    ("live.js", JS, include_str!("../assets/live.js")),
    ("dom.js", JS, include_str!("../assets/dom.js")),
    ("fleet.js", JS, include_str!("../assets/fleet.js")),
    ("node.js", JS, include_str!("../assets/node.js")),
    ("timeline.js", JS, include_str!("../assets/timeline.js")),
    ("actions.js", JS, include_str!("../assets/actions.js")),
    ("enroll.js", JS, include_str!("../assets/enroll.js")),
    ("conductors.js", JS, include_str!("../assets/conductors.js")),
    ("networks.js", JS, include_str!("../assets/networks.js")),
    ("about.js", JS, include_str!("../assets/about.js")),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// `GET /dashboard/`: the page for a signed-in user (under `noauth`, a session is
/// opened on the spot); the login page for anybody else.
pub(crate) async fn index(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    let mut cookie = None;
    if dash.sessions.find(&headers).is_none() {
        if !matches!(dash.login, Login::Open) {
            return Redirect::to("/dashboard/login").into_response();
        }
        let id = dash
            .sessions
            .open(Session::new(None, None, vec![], Credentials::None));
        cookie = Some(set_cookie(&id, over_tls(&headers)));
    }
    let mut response = html(INDEX);
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    response
}

/// `GET /dashboard/static/{file}`.
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, media_type, content)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *content,
        )
            .into_response(),
        None => not_found().await,
    }
}

pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such dashboard page").into_response()
}

/// The headers every dashboard answer carries.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn html(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Text made safe to put inside HTML.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn every_file_is_there() {
        for (name, media_type, content) in FILES {
            assert!(!content.is_empty(), "{name} is empty");
            assert!(media_type.starts_with("text/"));
        }
        assert!(LOGIN_PAGE.contains("{{message}}") && LOGIN_PAGE.contains("{{project}}"));
    }
}
