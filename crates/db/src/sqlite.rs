//! The SQLite backend: a small pool of rusqlite connections (WAL, foreign keys, busy
//! timeout) for reads, each call run on tokio's blocking pool with cached prepared
//! statements, and one more connection that commits the writes (`sqlite_writer`).
//! sqlx's SQLite driver costs ~15 µs per row; rusqlite reads a row in about one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::query::{Sql, Value};
use crate::sqlite_writer::Writer;
use crate::table::Columns;
use crate::DbError;

/// Read connections kept open: two per core, 4 to 16. Readers run in parallel
/// (SQLite serialises the writer anyway); more than the cores can run only hold
/// page caches (512 KiB each) and parsed schemas.
fn pool_size() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (cores * 2).clamp(4, 16)
}

pub(crate) struct SqlitePool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    writer: Writer,
}

impl SqlitePool {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: PathBuf) -> Result<Arc<Self>, DbError> {
        let size = pool_size();
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size {
            conns.push(open_connection(&path)?);
        }
        let writer = Writer::start(open_connection(&path)?)?;
        Ok(Arc::new(SqlitePool {
            path,
            idle: Mutex::new(conns),
            permits: Arc::new(Semaphore::new(size)),
            writer,
        }))
    }

    /// Runs `f` with a connection of the pool, off the async threads.
    pub async fn run<R, F>(self: &Arc<Self>, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbError::Config("the database is closed".into()))?;
        let conn = self.idle.lock().expect("pool lock").pop();
        let pool = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut conn = match conn {
                Some(c) => c,
                None => open_connection(&pool.path)?,
            };
            let r = f(&mut conn);
            pool.idle.lock().expect("pool lock").push(conn);
            r
        })
        .await;
        drop(permit);
        match result {
            Ok(r) => r,
            // A panic lost the connection; the next call opens a fresh one.
            Err(e) => Err(DbError::Config(format!("database task failed: {e}"))),
        }
    }

    /// Runs `stmts` as one write, all or nothing, committed with whatever other
    /// writes were queued beside it; the rows each statement affected.
    pub async fn write(&self, stmts: Vec<Sql>) -> Result<Vec<u64>, DbError> {
        self.writer.write(stmts).await
    }

    /// Closes the pool: no new calls start.
    pub fn close(&self) {
        self.permits.close();
        self.writer.close();
    }
}

fn open_connection(path: &PathBuf) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        DbError::Config(format!(
            "cannot open SQLite database {}: {e}",
            path.display()
        ))
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(from_sqlite)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -512;",
    )
    .map_err(from_sqlite)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// Prepares (from the connection's cache) a built statement with its arguments bound
/// to the `$1…$n` placeholders, which the query builder numbers in order of appearance.
pub(crate) fn prepare<'c>(
    conn: &'c Connection,
    sql: &Sql,
) -> Result<rusqlite::CachedStatement<'c>, DbError> {
    let mut stmt = conn.prepare_cached(&sql.text).map_err(from_sqlite)?;
    for (i, v) in sql.args.iter().enumerate() {
        let r = match v {
            Value::Text(s) => stmt.raw_bind_parameter(i + 1, s.as_str()),
            Value::Int(n) => stmt.raw_bind_parameter(i + 1, n),
            Value::NullText | Value::NullInt => {
                stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)
            }
        };
        r.map_err(from_sqlite)?;
    }
    Ok(stmt)
}

/// Classifies a rusqlite error.
pub(crate) fn from_sqlite(err: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(f, message) = &err {
        const UNIQUE: i32 = 2067;
        const PRIMARY_KEY: i32 = 1555;
        const FOREIGN_KEY: i32 = 787;
        match f.extended_code {
            UNIQUE | PRIMARY_KEY => {
                return DbError::Duplicate(crate::error::unique_column(
                    message.as_deref().unwrap_or(""),
                    None,
                ))
            }
            FOREIGN_KEY => return DbError::Reference,
            _ => {}
        }
    }
    DbError::Sqlite(err.to_string())
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<String>, String> {
        match self.get_ref(i).map_err(|e| e.to_string())? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => String::from_utf8(t.to_vec())
                .map(Some)
                .map_err(|e| e.to_string()),
            ValueRef::Integer(n) => Ok(Some(n.to_string())),
            other => Err(format!("unexpected column type {:?}", other.data_type())),
        }
    }

    fn int(&self, i: usize) -> Result<Option<i64>, String> {
        match self.get_ref(i).map_err(|e| e.to_string())? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            other => Err(format!("unexpected column type {:?}", other.data_type())),
        }
    }
}
