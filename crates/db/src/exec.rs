//! Running built statements on whichever backend the datastore has: rows decoded into
//! resources, scalar reads, writes, and several writes in one transaction.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use sqlx::{Connection, PgPool};

use crate::query::{Sql, Value};
use crate::sqlite::{from_sqlite, prepare, SqlitePool};
use crate::table::{Columns, Table};
use crate::{postgres, Datastore, DbError};

/// The connection pool of either backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(Arc<SqlitePool>),
    Postgres(PgPool),
}

/// The type of a scalar column read with [`Datastore::fetch_scalars`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Int,
    Text,
}

fn read_scalars(row: &impl Columns, kinds: &[Scalar]) -> Result<Vec<Value>, DbError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| match kind {
            Scalar::Int => row.int(i).map(|v| v.map_or(Value::NullInt, Value::Int)),
            Scalar::Text => row.text(i).map(|v| v.map_or(Value::NullText, Value::Text)),
        })
        .collect::<Result<_, _>>()
        .map_err(DbError::Corrupt)
}

impl Datastore {
    /// The rows of a SELECT of `table.column_list()`, decoded.
    pub(crate) async fn fetch<T>(&self, table: &'static Table, sql: Sql) -> Result<Vec<T>, DbError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        match &self.pool {
            Pool::Sqlite(pool) => {
                pool.run(move |conn| {
                    let mut stmt = prepare(conn, &sql)?;
                    let mut rows = stmt.raw_query();
                    let mut out = Vec::new();
                    while let Some(row) = rows.next().map_err(from_sqlite)? {
                        out.push(table.decode(row)?);
                    }
                    Ok(out)
                })
                .await
            }
            Pool::Postgres(pool) => {
                let rows = postgres::query(&sql.text, &sql.args)
                    .fetch_all(pool)
                    .await
                    .map_err(DbError::Postgres)?;
                rows.iter().map(|r| table.decode(r)).collect()
            }
        }
    }

    /// The first row of a SELECT of scalar columns of the given types.
    pub(crate) async fn fetch_scalars(
        &self,
        sql: Sql,
        kinds: &'static [Scalar],
    ) -> Result<Option<Vec<Value>>, DbError> {
        Ok(self.fetch_scalar_rows(sql, kinds).await?.into_iter().next())
    }

    /// Every row of a SELECT of scalar columns of the given types.
    pub(crate) async fn fetch_scalar_rows(
        &self,
        sql: Sql,
        kinds: &'static [Scalar],
    ) -> Result<Vec<Vec<Value>>, DbError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                pool.run(move |conn| {
                    let mut stmt = prepare(conn, &sql)?;
                    let mut rows = stmt.raw_query();
                    let mut out = Vec::new();
                    while let Some(row) = rows.next().map_err(from_sqlite)? {
                        out.push(read_scalars(row, kinds)?);
                    }
                    Ok(out)
                })
                .await
            }
            Pool::Postgres(pool) => postgres::query(&sql.text, &sql.args)
                .fetch_all(pool)
                .await
                .map_err(DbError::Postgres)?
                .iter()
                .map(|r| read_scalars(r, kinds))
                .collect(),
        }
    }

    /// Executes a write; returns the rows it affected.
    pub(crate) async fn execute(&self, sql: Sql) -> Result<u64, DbError> {
        match &self.pool {
            Pool::Sqlite(pool) => Ok(pool.write(vec![sql]).await?[0]),
            Pool::Postgres(pool) => Ok(postgres::query(&sql.text, &sql.args)
                .execute(pool)
                .await
                .map_err(postgres::from_write)?
                .rows_affected()),
        }
    }

    /// Executes writes in one transaction, all or nothing; returns the rows each
    /// affected. A statement may require rows (`Sql::must_affect`), failing the whole
    /// transaction with `NotFound` when it affects none.
    pub(crate) async fn execute_all(&self, stmts: Vec<Sql>) -> Result<Vec<u64>, DbError> {
        match &self.pool {
            Pool::Sqlite(pool) => pool.write(stmts).await,
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(DbError::Postgres)?;
                let mut tx = conn.begin().await.map_err(DbError::Postgres)?;
                let mut counts = Vec::with_capacity(stmts.len());
                for sql in &stmts {
                    let done = postgres::query(&sql.text, &sql.args)
                        .execute(&mut *tx)
                        .await
                        .map_err(postgres::from_write)?;
                    if sql.must_affect && done.rows_affected() == 0 {
                        return Err(DbError::NotFound);
                    }
                    counts.push(done.rows_affected());
                }
                tx.commit().await.map_err(postgres::from_write)?;
                Ok(counts)
            }
        }
    }
}
