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
