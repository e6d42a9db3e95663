//! The datastore's error type. Callers see what went wrong in domain terms; SQL text
//! and driver details stay in the log.

/// Why a datastore call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
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
    /// Any other database failure.
    #[error("database error: {0}")]
    Other(#[from] sqlx::Error),
}

impl DbError {
    /// Classifies a driver error from a write.
    pub(crate) fn from_write(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return DbError::Duplicate(unique_column(db.message(), db.constraint()));
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => return DbError::Reference,
                _ => {}
            }
        }
        DbError::Other(err)
    }
}

/// Finds the column a unique violation is about: PostgreSQL names the constraint
/// (`uniq_<table>_<column>`), SQLite names `<table>.<column>` in its message.
fn unique_column(message: &str, constraint: Option<&str>) -> String {
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
