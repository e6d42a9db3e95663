//! Ferric's network service logic, apart from HTTP: checking networks, subnets and
//! VIF ports an operator or tenant asks for, IP address management (which address a
//! port gets), the switch drivers, and the flips that move a node's switch ports
//! between its service and tenant networks (or, with an external Neutron, the
//! port requests that have Neutron move them). The records themselves live in
//! `ferric_types::net`, their rows in `ferric-db`, their Neutron-shaped API in
//! `ferric-api`.

pub mod external;
pub mod service;
pub mod switch;

/// Address management and the checks of networks, subnets and ports are pure
/// rules, in `ferric-types` so the API applies them without this crate.
pub use ferric_types::{ipam, net_validate as validate};
