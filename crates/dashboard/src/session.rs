//! Signed-in sessions: kept in memory on the server, named in the browser by a random
//! cookie that scripts cannot read (`HttpOnly`), that other sites cannot make the
//! browser send (`SameSite=Strict`), and that travels only over TLS when the
//! dashboard is served over TLS (`Secure`). Each session holds the credentials the
//! API is called with and the CSRF token every state-changing request must echo.
//! A restart signs everybody out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The cookie naming the session.
pub(crate) const COOKIE: &str = "ferric_session";

/// How long a session lasts (a token that stops working ends it sooner).
const LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// More open sessions than this: the oldest is signed out.
const MAX_SESSIONS: usize = 10_000;

/// More sessions of one user than this: that user's oldest is signed out (so one
/// user logging in again and again cannot push everybody else out).
const MAX_SESSIONS_PER_USER: usize = 20;

/// Live feeds one session may hold open at once (a few tabs).
const MAX_FEEDS_PER_SESSION: usize = 4;

/// How the API is called for a session's user.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `noauth`: nothing to send.
    None,
    /// An `Authorization: Basic …` header value.
    Basic(HeaderValue),
    /// A Keystone token (`X-Auth-Token`).
    Token(HeaderValue),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::None => "None",
            Credentials::Basic(_) => "Basic(******)",
            Credentials::Token(_) => "Token(******)",
        })
    }
}

/// Who is signed in, and how to act for them. (No `Debug`: it holds secrets.)
#[derive(Clone)]
pub(crate) struct Session {
    pub user: Option<String>,
    pub project: Option<String>,
    pub roles: Vec<String>,
    pub credentials: Credentials,
    pub csrf_token: String,
    pub expires: Instant,
}

impl Session {
    pub fn new(
        user: Option<String>,
        project: Option<String>,
        roles: Vec<String>,
        credentials: Credentials,
    ) -> Self {
        Self {
            user,
            project,
            roles,
            credentials,
            csrf_token: random_token(),
            expires: Instant::now() + LIFETIME,
        }
    }

    /// Whether the user may change anything: not a reader only. (The API decides
    /// each request; this only decides which buttons to show.)
    pub fn can_act(&self) -> bool {
        self.roles.is_empty()
            || self
                .roles
                .iter()
                .any(|r| matches!(r.as_str(), "admin" | "manager" | "member"))
    }

    /// Whether the request carries this session's CSRF token (`X-CSRF-Token`).
    pub fn csrf_sent(&self, headers: &HeaderMap) -> bool {
        self.csrf_matches(
            headers
                .get("x-csrf-token")
                .map_or(&[][..], |v| v.as_bytes()),
        )
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    fn csrf_matches(&self, token: &[u8]) -> bool {
        self.csrf_token.as_bytes().ct_eq(token).into()
    }
}

/// The open sessions of this process, and how many live feeds each holds.
#[derive(Default)]
pub(crate) struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
    feeds: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open live feed of a session; dropping it closes the count.
pub(crate) struct FeedSlot {
    feeds: Arc<Mutex<HashMap<String, usize>>>,
    id: String,
}

impl Drop for FeedSlot {
    fn drop(&mut self) {
        let mut feeds = self.feeds.lock().expect("feed counts poisoned");
        if let Some(n) = feeds.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                feeds.remove(&self.id);
            }
        }
    }
}

impl SessionStore {
    /// Opens a session; returns its id (the cookie's value).
    pub(crate) fn open(&self, session: Session) -> String {
        let id = random_token();
        let mut sessions = self.sessions.lock().expect("session store poisoned");
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        let same_user = |s: &Session| s.user.is_some() && s.user == session.user;
        if sessions.values().filter(|s| same_user(s)).count() >= MAX_SESSIONS_PER_USER {
            remove_oldest(&mut sessions, same_user);
        }
        if sessions.len() >= MAX_SESSIONS {
            remove_oldest(&mut sessions, |_| true);
        }
        sessions.insert(id.clone(), session);
        id
    }

    /// A live feed slot for the request's session, if it has one left.
    pub(crate) fn open_feed(&self, headers: &HeaderMap) -> Option<FeedSlot> {
        let id = cookie_value(headers)?.to_string();
        let mut feeds = self.feeds.lock().expect("feed counts poisoned");
        let n = feeds.entry(id.clone()).or_default();
        if *n >= MAX_FEEDS_PER_SESSION {
            return None;
        }
        *n += 1;
        Some(FeedSlot {
            feeds: self.feeds.clone(),
            id,
        })
    }

    /// The live session the request's cookie names.
    pub(crate) fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers)?;
        let mut sessions = self.sessions.lock().expect("session store poisoned");
        match sessions.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Closes the request's session; returns it if there was one.
    pub(crate) fn close(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers)?;
        self.sessions
            .lock()
            .expect("session store poisoned")
            .remove(id)
    }
}

/// Signs out the session that expires first among those `which` picks.
fn remove_oldest(sessions: &mut HashMap<String, Session>, which: impl Fn(&Session) -> bool) {
    let oldest = sessions
        .iter()
        .filter(|(_, s)| which(s))
        .min_by_key(|(_, s)| s.expires)
        .map(|(k, _)| k.clone());
    if let Some(id) = oldest {
        sessions.remove(&id);
    }
}

/// 32 random bytes from the operating system's generator, URL-safe base64.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session cookie's value in the request, if any.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether the request came over TLS (ferricd marks those it terminates).
pub(crate) fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The `Set-Cookie` value that hands the browser a session.
pub(crate) fn set_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/dashboard; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a base64 id is a valid header value")
}

/// The `Set-Cookie` value that takes it back.
pub(crate) fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_closed() {
        let store = SessionStore::default();
        let id = store.open(Session::new(
            Some("alice".into()),
            None,
            vec![],
            Credentials::None,
        ));
        let headers = with_cookie(&format!("other=1; {COOKIE}={id}"));
        assert_eq!(
            store.find(&headers).map(|s| s.user),
            Some(Some("alice".to_string()))
        );
        assert!(store
            .find(&with_cookie(&format!("{COOKIE}=forged")))
            .is_none());
        assert!(store.close(&headers).is_some());
        assert!(store.find(&headers).is_none());
    }

    #[test]
    fn an_expired_session_is_gone() {
        let store = SessionStore::default();
        let mut session = Session::new(None, None, vec![], Credentials::None);
        session.expires = Instant::now();
        let id = store.open(session);
        assert!(store
            .find(&with_cookie(&format!("{COOKIE}={id}")))
            .is_none());
    }

    #[test]
    fn readers_cannot_act_and_csrf_is_exact() {
        let s = Session::new(None, None, vec!["reader".into()], Credentials::None);
        assert!(!s.can_act());
        let t = s.csrf_token.clone();
        assert!(s.csrf_matches(t.as_bytes()));
        assert!(!s.csrf_matches(&t.as_bytes()[1..]));
        assert!(!s.csrf_matches(b""));
        let m = Session::new(
            None,
            None,
            vec!["member".into(), "reader".into()],
            Credentials::None,
        );
        assert!(m.can_act());
    }

    #[test]
    fn one_user_cannot_push_others_out_and_feeds_are_counted() {
        let store = SessionStore::default();
        let bob = store.open(Session::new(
            Some("bob".into()),
            None,
            vec![],
            Credentials::None,
        ));
        for _ in 0..MAX_SESSIONS_PER_USER + 5 {
            store.open(Session::new(
                Some("eve".into()),
                None,
                vec![],
                Credentials::None,
            ));
        }
        let eves = store
            .sessions
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.user.as_deref() == Some("eve"))
            .count();
        assert_eq!(eves, MAX_SESSIONS_PER_USER);
        let headers = with_cookie(&format!("{COOKIE}={bob}"));
        assert!(store.find(&headers).is_some(), "bob is still signed in");
        let slots: Vec<_> = (0..MAX_FEEDS_PER_SESSION)
            .map(|_| store.open_feed(&headers).expect("a slot"))
            .collect();
        assert!(store.open_feed(&headers).is_none(), "no fifth feed");
        drop(slots);
        assert!(
            store.open_feed(&headers).is_some(),
            "closed feeds free their slots"
        );
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_under_tls() {
        let plain = set_cookie("abc", false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie("abc", true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
        let mut tls = HeaderMap::new();
        tls.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_tls(&tls) && !over_tls(&HeaderMap::new()));
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Credentials::Token(HeaderValue::from_static("secret-token"));
        assert!(!format!("{c:?}").contains("secret"));
    }
}
