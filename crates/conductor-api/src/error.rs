//! Why a call to a conductor failed, as it travels between processes: a kind that
//! decides the API's HTTP status, and the sentence for the client.

use serde::{Deserialize, Serialize};

/// What went wrong, by the answer the API gives for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The node (or another object) does not exist (404).
    NotFound,
    /// Another conductor or operation holds the node (409).
    Locked,
    /// The request does not fit the node's state (400).
    InvalidState,
    /// The request's arguments are wrong, or the node's settings are (400).
    Invalid,
    /// The hardware cannot do it (400).
    Unsupported,
    /// It clashes with what is there (409).
    Conflict,
    /// Every worker is busy, or no conductor serves the node's group (503).
    Unavailable,
    /// The conductor could not be reached, or refused the call before running
    /// anything (it is leaving, or cut off from its database): 503, and the router
    /// tries the next owner.
    Unreachable,
    /// The hardware refused or failed (500).
    Hardware,
    /// A failure of Ferric itself, such as the database (500).
    Internal,
}

/// A refused or failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct CallError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CallError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::NotFound => 404,
            ErrorKind::Locked | ErrorKind::Conflict => 409,
            ErrorKind::InvalidState | ErrorKind::Invalid | ErrorKind::Unsupported => 400,
            ErrorKind::Unavailable | ErrorKind::Unreachable => 503,
            ErrorKind::Hardware | ErrorKind::Internal => 500,
        }
    }
}

impl From<ferric_db::DbError> for CallError {
    fn from(e: ferric_db::DbError) -> Self {
        use ferric_db::DbError;
        match e {
            DbError::NotFound => CallError::new(
                ErrorKind::NotFound,
                "The requested resource could not be found.",
            ),
            DbError::Locked(holder) => CallError::new(
                ErrorKind::Locked,
                format!("The resource is locked by host {holder}, please retry after the current operation is completed."),
            ),
            DbError::Duplicate(col) => CallError::new(
                ErrorKind::Conflict,
                format!("A resource with this {col} already exists."),
            ),
            DbError::Reference => CallError::new(
                ErrorKind::Conflict,
                "The request refers to an object that no longer exists or is still in use; retry.",
            ),
            other => {
                tracing::error!(error = %other, "database failure");
                CallError::new(ErrorKind::Internal, "The database failed; see the conductor's log.")
            }
        }
    }
}
