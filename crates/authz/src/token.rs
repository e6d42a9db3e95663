//! Turning a bearer token (`X-Auth-Token`) into a principal: the trait the API's
//! `keystone` strategy calls, implemented by the built-in identity service (local
//! tokens) and by a client of an external Keystone.

use std::future::Future;
use std::pin::Pin;

use crate::Principal;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Malformed, unknown, expired or revoked: the client must authenticate (401).
    Invalid,
    /// The identity service cannot be asked now (503).
    Unavailable(String),
}

/// A future of a token check.
pub type TokenCheck<'a> = Pin<Box<dyn Future<Output = Result<Principal, TokenError>> + Send + 'a>>;

/// Who a token belongs to.
pub trait TokenValidator: Send + Sync {
    fn validate<'a>(&'a self, token: &'a str) -> TokenCheck<'a>;
}

/// A validator that exists only once the service behind it has started (the
/// built-in identity service needs the database): until then every token is
/// "unavailable" (503), never accepted.
#[derive(Default)]
pub struct DeferredValidator {
    inner: std::sync::OnceLock<std::sync::Arc<dyn TokenValidator>>,
}

impl std::fmt::Debug for DeferredValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferredValidator")
            .field("ready", &self.inner.get().is_some())
            .finish()
    }
}

impl DeferredValidator {
    /// The validator to use from now on (the first one set stays).
    pub fn set(&self, validator: std::sync::Arc<dyn TokenValidator>) {
        let _ = self.inner.set(validator);
    }
}

impl TokenValidator for DeferredValidator {
    fn validate<'a>(&'a self, token: &'a str) -> TokenCheck<'a> {
        match self.inner.get() {
            Some(v) => v.validate(token),
            None => Box::pin(async {
                Err(TokenError::Unavailable(
                    "the identity service has not started".into(),
                ))
            }),
        }
    }
}
