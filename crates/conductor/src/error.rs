//! Why a conductor refused or failed a request.

use ferric_db::DbError;
use ferric_drivers::DriverError;

#[derive(Debug, thiserror::Error)]
pub enum ConductorError {
    #[error("Node {0} could not be found.")]
    NodeNotFound(String),
    #[error("Node {node} is locked by host {holder}, please retry after the current operation is completed.")]
    Locked { node: String, holder: String },
    /// The verb is not valid in the node's state (400).
    #[error("{0}")]
    InvalidState(String),
    /// The request's arguments are wrong (400).
    #[error("{0}")]
    Invalid(String),
    /// The request clashes with what is there (409).
    #[error("{0}")]
    Conflict(String),
    /// Every worker is busy (503).
    #[error("No free conductor workers available to run the request; retry later.")]
    Busy,
    /// The conductor takes no new work: it is stopping, or cut off from its
    /// database (503).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Driver(#[from] DriverError),
    #[error("{0}")]
    Db(#[from] DbError),
}
