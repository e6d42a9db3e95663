//! The datastore's error type. Callers see what went wrong in domain terms; SQL text
//! and driver details stay in the log.

/// Why a datastore call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// Another holder has the row's lock; names the holder.
    #[error("locked by {0}")]
    Locked(String),
    /// A unique constraint refused the write; names the column.
    #[error("duplicate value for {0}")]
    Duplicate(String),
    /// A reference to another row does not hold (it was deleted concurrently, say).
    #[error("a referenced object does not exist or is still referenced")]
    Reference,
    /// Stored data could not be decoded (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database could not be opened or configured.
    #[error("{0}")]
    Config(String),
    /// Any other PostgreSQL failure.
    #[error("database error: {0}")]
    Postgres(sqlx::Error),
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(String),
}

impl DbError {
    /// Whether the database was out of reach (a restart, a failover, a cut
    /// network) rather than anything being wrong with the request: the same
    /// call may succeed once it is back.
    pub fn is_unreachable(&self) -> bool {
        match self {
            DbError::Postgres(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut => true,
                // Connection exceptions (08xxx), and the server shutting down or
                // starting up (57P01–57P03).
                sqlx::Error::Database(d) => d
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Finds the column a unique violation is about: PostgreSQL names the constraint
/// (`uniq_<table>_<column>`), SQLite names `<table>.<column>` in its message.
pub(crate) fn unique_column(message: &str, constraint: Option<&str>) -> String {
    if let Some(c) = constraint {
        if let Some(rest) = c.strip_prefix("uniq_") {
            if let Some((_, col)) = rest.split_once("__") {
                return col.to_string();
            }
        }
        return c.to_string();
    }
    message
        .rsplit_once(": ")
        .map(|(_, cols)| cols)
        .and_then(|cols| cols.split(", ").next())
        .and_then(|c| c.split_once('.'))
        .map(|(_, col)| col.to_string())
        .unwrap_or_else(|| message.to_string())
}

#[cfg(test)]
mod tests {
    use super::unique_column;

    #[test]
    fn names_the_column_on_both_backends() {
        assert_eq!(
            unique_column("UNIQUE constraint failed: nodes.name", None),
            "name"
        );
        assert_eq!(
            unique_column("duplicate key", Some("uniq_ports__address")),
            "address"
        );
    }
}
