//! The PostgreSQL backend: sqlx's native driver, positional `$n` arguments.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};

use crate::query::Value;
use crate::table::Columns;
use crate::DbError;

/// A statement with its arguments bound.
pub(crate) fn query<'q>(text: &'q str, args: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    let mut q = sqlx::query(text);
    for v in args {
        q = match v {
            Value::Text(s) => q.bind(s.as_str()),
            Value::Int(i) => q.bind(*i),
            Value::NullText => q.bind(None::<String>),
            Value::NullInt => q.bind(None::<i64>),
        };
    }
    q
}

/// Classifies a driver error from a write.
pub(crate) fn from_write(err: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &err {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return DbError::Duplicate(crate::error::unique_column(
                    db.message(),
                    db.constraint(),
                ));
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => return DbError::Reference,
            _ => {}
        }
    }
    DbError::Postgres(err)
}

impl Columns for PgRow {
    fn text(&self, i: usize) -> Result<Option<String>, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }

    fn int(&self, i: usize) -> Result<Option<i64>, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }
}
