//! Ferric's network service logic, apart from storage and HTTP: checking networks,
//! subnets and VIF ports an operator or tenant asks for, and IP address management
//! (which address a port gets). The records themselves live in `ferric_types::net`,
//! their rows in `ferric-db`, their Neutron-shaped API in `ferric-api`.

pub mod ipam;
pub mod validate;
