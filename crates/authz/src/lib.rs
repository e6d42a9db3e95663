//! Authorization for every API Ferric serves: who is asking ([`Principal`]), what
//! each action requires (Ironic's policy rules by name, as oslo.policy check
//! strings), and an operator's `policy.yaml` overriding any of them.
//!
//! The crate knows nothing of HTTP or the database: the API builds a principal from
//! the authenticated request, names the rule of the action and passes the target
//! object's owner fields; [`Policy::allows`] answers yes or no.

mod check;
mod defaults;
mod password_memo;
mod policy;
mod principal;
mod token;

pub use check::{Check, ParseError};
pub use password_memo::PasswordMemo;
pub use policy::{Policy, PolicyError, Target};
pub use principal::{expand_roles, Caller, Principal, Scope};
pub use token::{DeferredValidator, TokenCheck, TokenError, TokenValidator};
