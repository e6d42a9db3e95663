//! The SQLite writer: one connection, on a thread of its own, runs every write.
//! The writes queued while a commit was under way go into the next transaction
//! together (group commit): a WAL commit costs about as much for one row as for
//! sixty-four, so concurrent creates, updates and deletes share it. Each write keeps
//! its own outcome (a refused insert fails alone; several statements of one write
//! are all or nothing), and its caller hears back only once the transaction holding
//! it committed.

use std::sync::{mpsc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::query::Sql;
use crate::sqlite::{from_sqlite, prepare};
use crate::DbError;

/// Writes committed in one transaction at most.
const MAX_BATCH: usize = 64;

/// The queue to the writer thread; closed when the pool closes or is dropped.
pub(crate) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
}

/// One write: its statements and where its outcome goes.
struct Job {
    stmts: Vec<Sql>,
    reply: oneshot::Sender<Result<Vec<u64>, DbError>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection) -> Result<Writer, DbError> {
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, jobs))
            .map_err(|e| DbError::Config(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer {
            queue: Mutex::new(Some(queue)),
        })
    }

    /// Runs `stmts` as one write, all or nothing; returns the rows each affected. A
    /// statement may require rows (`Sql::must_affect`), failing the write with
    /// `NotFound` when it affects none.
    pub async fn write(&self, stmts: Vec<Sql>) -> Result<Vec<u64>, DbError> {
        let (reply, outcome) = oneshot::channel();
        let queued = match self.queue.lock().expect("writer queue").as_ref() {
            Some(queue) => queue.send(Job { stmts, reply }).is_ok(),
            None => false,
        };
        if !queued {
            return Err(DbError::Config("the database is closed".into()));
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(DbError::Sqlite("the SQLite writer stopped".into())))
    }

    /// No new writes are taken; the thread ends once the queued ones are done.
    pub fn close(&self) {
        self.queue.lock().expect("writer queue").take();
    }
}

fn run(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|job| (job.stmts, job.reply)).unzip();
        for (reply, outcome) in replies.into_iter().zip(commit(&conn, &writes)) {
            let _ = reply.send(outcome);
        }
    }
}

/// Runs the batch in one transaction; the outcome of each write.
fn commit(conn: &Connection, batch: &[Vec<Sql>]) -> Vec<Result<Vec<u64>, DbError>> {
    let failed = |e: &str| Err(DbError::Sqlite(e.to_string()));
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = from_sqlite(e).to_string();
        return batch.iter().map(|_| failed(&e)).collect();
    }
    let mut outcomes: Vec<Result<Vec<u64>, DbError>> = Vec::with_capacity(batch.len());
    for stmts in batch {
        let outcome = apply(conn, stmts);
        if outcome.is_err() && conn.is_autocommit() {
            // Some failures (disk full, I/O) roll the whole transaction back: the
            // writes before this one are gone too. The rest go on in a new one.
            let lost = "rolled back with a write that failed beside it";
            for earlier in outcomes.iter_mut().filter(|o| o.is_ok()) {
                *earlier = failed(lost);
            }
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                let e = from_sqlite(e).to_string();
                outcomes.push(outcome);
                outcomes.resize_with(batch.len(), || failed(&e));
                return outcomes;
            }
        }
        outcomes.push(outcome);
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let e = from_sqlite(e).to_string();
        let _ = conn.execute_batch("ROLLBACK");
        for outcome in outcomes.iter_mut().filter(|o| o.is_ok()) {
            *outcome = failed(&e);
        }
    }
    outcomes
}

/// One write's statements; several are all or nothing (a savepoint).
fn apply(conn: &Connection, stmts: &[Sql]) -> Result<Vec<u64>, DbError> {
    let several = stmts.len() > 1;
    if several {
        conn.execute_batch("SAVEPOINT write").map_err(from_sqlite)?;
    }
    let outcome: Result<Vec<u64>, DbError> = stmts
        .iter()
        .map(|sql| {
            let n = prepare(conn, sql)?.raw_execute().map_err(from_sqlite)? as u64;
            if sql.must_affect && n == 0 {
                return Err(DbError::NotFound);
            }
            Ok(n)
        })
        .collect();
    if several && !conn.is_autocommit() {
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK TO write");
        }
        let _ = conn.execute_batch("RELEASE write");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Value;

    fn sql(text: &str, arg: i64, must_affect: bool) -> Sql {
        let mut sql = Sql {
            must_affect,
            ..Sql::default()
        };
        sql.push(text).arg(Value::Int(arg));
        sql
    }

    fn count(conn: &Connection, id: i64) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_committed_together_keep_their_own_outcomes() {
        let dir = std::env::temp_dir().join(format!("ferric-writer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        let writer = std::sync::Arc::new(Writer::start(Connection::open(&path).unwrap()).unwrap());
        let mut writes = Vec::new();
        for id in 0..200 {
            let w = writer.clone();
            writes.push(tokio::spawn(async move {
                let mut insert = sql("INSERT INTO t (id) VALUES (", id % 100, false);
                insert.push(")");
                w.write(vec![insert]).await
            }));
        }
        let mut done = 0;
        let mut duplicates = 0;
        for w in writes {
            match w.await.unwrap() {
                Ok(counts) => {
                    assert_eq!(counts, [1]);
                    done += 1;
                }
                Err(DbError::Duplicate(_)) => duplicates += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!((done, duplicates), (100, 100));

        // Several statements are all or nothing: the second affects no row.
        let mut first = sql("INSERT INTO t (id) VALUES (", 500, false);
        first.push(")");
        let both = vec![first, sql("DELETE FROM t WHERE id = ", 999, true)];
        assert!(matches!(writer.write(both).await, Err(DbError::NotFound)));
        assert_eq!(count(&conn, 500), 0);
        let mut alone = sql("INSERT INTO t (id) VALUES (", 501, false);
        alone.push(")");
        assert_eq!(writer.write(vec![alone]).await.unwrap(), [1]);
        assert_eq!(count(&conn, 501), 1);

        writer.close();
        assert!(matches!(
            writer.write(Vec::new()).await,
            Err(DbError::Config(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
