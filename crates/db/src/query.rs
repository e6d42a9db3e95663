//! Query building shared by every resource: bound values, filter conditions, keyset
//! pagination (the marker is the last row's UUID; the page continues after its
//! `(sort column, id)` pair), and the generic insert / get / list / conditional-update /
//! delete statements over a [`Table`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::exec::Scalar;
use crate::table::{Kind, Table};
use crate::{Datastore, DbError, UpdateOutcome};

/// A value bound into a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    NullText,
    NullInt,
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(i64::from(b))
    }
}

/// A filter condition on a column. Column names come from code, never from input.
#[derive(Debug, Clone)]
pub enum Cond {
    Eq(&'static str, Value),
    In(&'static str, Vec<Value>),
    IsNull(&'static str),
    NotNull(&'static str),
    /// Case-insensitive substring match.
    Contains(&'static str, String),
    /// The JSON array of strings in the column holds this string.
    JsonArrayHas(&'static str, String),
    Or(Vec<Cond>),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// One page of a list: filters, order, where to start and how many.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub conds: Vec<Cond>,
    /// A column of the table, or `id` (insertion order). Validated by the caller.
    pub sort_key: Option<&'static str>,
    pub sort_dir: SortDir,
    /// UUID of the last row of the previous page.
    pub marker: Option<String>,
    pub limit: Option<i64>,
}

/// SQL text under construction with its positional arguments.
#[derive(Default)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Value>,
    /// In a transaction: affecting no row fails the whole transaction (`NotFound`).
    pub must_affect: bool,
}

impl Sql {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub fn arg(&mut self, v: Value) -> &mut Self {
        self.args.push(v);
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    pub fn cond(&mut self, c: &Cond) -> &mut Self {
        match c {
            Cond::Eq(col, v) => {
                self.push(col).push(" = ").arg(v.clone());
            }
            Cond::In(col, vs) if vs.is_empty() => {
                let _ = col;
                self.push("1 = 0");
            }
            Cond::In(col, vs) => {
                self.push(col).push(" IN (");
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.arg(v.clone());
                }
                self.push(")");
            }
            Cond::IsNull(col) => {
                self.push(col).push(" IS NULL");
            }
            Cond::NotNull(col) => {
                self.push(col).push(" IS NOT NULL");
            }
            Cond::Contains(col, needle) => {
                let escaped = like_escape(&needle.to_lowercase());
                self.push("LOWER(")
                    .push(col)
                    .push(") LIKE ")
                    .arg(Value::Text(format!("%{escaped}%")))
                    .push(" ESCAPE '\\'");
            }
            Cond::JsonArrayHas(col, item) => {
                // The array is stored as JSON text, so an element is its quoted
                // form between delimiters; quoting keeps one element from
                // matching inside another.
                let quoted = serde_json::to_string(item).unwrap_or_default();
                let escaped = like_escape(&quoted);
                self.push(col)
                    .push(" LIKE ")
                    .arg(Value::Text(format!("%{escaped}%")))
                    .push(" ESCAPE '\\'");
            }
            Cond::Or(cs) => {
                self.push("(");
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        self.push(" OR ");
                    }
                    self.cond(c);
                }
                self.push(")");
            }
        }
        self
    }

    /// Appends ` WHERE c1 AND c2 …` (nothing when there are no conditions).
    pub fn where_all(&mut self, conds: &[Cond]) -> &mut Self {
        for (i, c) in conds.iter().enumerate() {
            self.push(if i == 0 { " WHERE " } else { " AND " });
            self.push("(").cond(c).push(")");
        }
        self
    }
}

/// `INSERT INTO table (…) VALUES (…)` for one item.
pub(crate) fn insert_statement<T: Serialize>(table: &Table, item: &T) -> Result<Sql, DbError> {
    let mut sql = Sql::default();
    sql.push("INSERT INTO ")
        .push(table.name)
        .push(" (")
        .push(&table.column_list())
        .push(") VALUES (");
    for (i, v) in table.encode(item)?.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.arg(v);
    }
    sql.push(")");
    Ok(sql)
}

impl Datastore {
    pub(crate) async fn insert_row<T: Serialize>(
        &self,
        table: &Table,
        item: &T,
    ) -> Result<(), DbError> {
        self.execute(insert_statement(table, item)?).await?;
        Ok(())
    }

    /// The one row where `column = value`.
    pub(crate) async fn get_row<T: DeserializeOwned + Send + 'static>(
        &self,
        table: &'static Table,
        column: &'static str,
        value: &str,
    ) -> Result<T, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT ")
            .push(&table.column_list())
            .push(" FROM ")
            .push(table.name);
        sql.where_all(&[Cond::Eq(column, value.into())]);
        self.fetch(table, sql)
            .await?
            .into_iter()
            .next()
            .ok_or(DbError::NotFound)
    }

    pub(crate) async fn count_rows(&self, table: &Table, conds: &[Cond]) -> Result<i64, DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT COUNT(*) FROM ")
            .push(table.name)
            .where_all(conds);
        match self.fetch_scalars(sql, &[Scalar::Int]).await?.as_deref() {
            Some([Value::Int(n)]) => Ok(*n),
            _ => Err(DbError::Corrupt("COUNT returned no number".into())),
        }
    }

    /// One page of rows, in keyset order.
    pub(crate) async fn list_rows<T: DeserializeOwned + Send + 'static>(
        &self,
        table: &'static Table,
        q: &ListQuery,
    ) -> Result<Vec<T>, DbError> {
        let sort_col = q.sort_key.unwrap_or("id");
        let desc = q.sort_dir == SortDir::Desc;
        let mut sql = Sql::default();
        sql.push("SELECT ")
            .push(&table.column_list())
            .push(" FROM ")
            .push(table.name);
        sql.where_all(&q.conds);
        if let Some(marker) = &q.marker {
            let (marker_id, marker_value) = self.marker_position(table, sort_col, marker).await?;
            sql.push(if q.conds.is_empty() {
                " WHERE ("
            } else {
                " AND ("
            });
            keyset_after(&mut sql, sort_col, marker_id, marker_value, desc);
            sql.push(")");
        }
        let dir = if desc { "DESC" } else { "ASC" };
        if sort_col == "id" {
            sql.push(&format!(" ORDER BY id {dir}"));
        } else {
            sql.push(&format!(
                " ORDER BY CASE WHEN {sort_col} IS NULL THEN 0 ELSE 1 END {dir}, {sort_col} {dir}, id {dir}"
            ));
        }
        if let Some(limit) = q.limit {
            sql.push(" LIMIT ").arg(Value::Int(limit));
        }
        self.fetch(table, sql).await
    }

    /// The internal id and sort value of the marker row.
    async fn marker_position(
        &self,
        table: &Table,
        sort_col: &'static str,
        marker: &str,
    ) -> Result<(i64, Value), DbError> {
        let mut sql = Sql::default();
        sql.push("SELECT id, ")
            .push(sort_col)
            .push(" FROM ")
            .push(table.name);
        sql.where_all(&[Cond::Eq("uuid", marker.into())]);
        let kinds: &'static [Scalar] = match (sort_col, table.kind(sort_col)) {
            ("id", _) | (_, Some(Kind::Bool | Kind::Int)) => &[Scalar::Int, Scalar::Int],
            _ => &[Scalar::Int, Scalar::Text],
        };
        match self.fetch_scalars(sql, kinds).await? {
            None => Err(DbError::NotFound),
            Some(mut values) => match values.remove(0) {
                Value::Int(id) => Ok((id, values.remove(0))),
                _ => Err(DbError::Corrupt(format!(
                    "{} row without an id",
                    table.name
                ))),
            },
        }
    }

    /// Writes every column of `item` (but the lock column `reservation`, which only
    /// [`Datastore::node_reserve`] and [`Datastore::node_release`] change) if the row
    /// still matches `guard`; reports what happened.
    pub(crate) async fn update_row<T: Serialize>(
        &self,
        table: &Table,
        uuid: &str,
        item: &T,
        guard: &[Cond],
    ) -> Result<UpdateOutcome, DbError> {
        self.update_row_and(table, uuid, item, guard, None, "")
            .await
    }

    /// `update_row` with `updated_at` set to `stamp` (when given) instead of the
    /// item's, and more assignments (`, column = …`) in the same statement.
    pub(crate) async fn update_row_and<T: Serialize>(
        &self,
        table: &Table,
        uuid: &str,
        item: &T,
        guard: &[Cond],
        stamp: Option<ferric_types::Timestamp>,
        more: &str,
    ) -> Result<UpdateOutcome, DbError> {
        let mut sql = Sql::default();
        sql.push("UPDATE ").push(table.name).push(" SET ");
        let mut first = true;
        for ((col, _), v) in table.columns.iter().zip(table.encode(item)?) {
            if *col == "reservation" {
                continue;
            }
            if !first {
                sql.push(", ");
            }
            first = false;
            let v = match (*col, stamp) {
                ("updated_at", Some(t)) => Value::Text(t.to_string()),
                _ => v,
            };
            sql.push(col).push(" = ").arg(v);
        }
        sql.push(more);
        sql.push(" WHERE uuid = ").arg(uuid.into());
        for cond in guard {
            sql.push(" AND (").cond(cond).push(")");
        }
        if self.execute(sql).await? == 1 {
            return Ok(UpdateOutcome::Updated);
        }
        self.missed_update(table, uuid).await
    }

    /// Why a guarded update of row `uuid` matched nothing: it changed meanwhile
    /// (`Conflict`), or it is gone.
    pub(crate) async fn missed_update(
        &self,
        table: &Table,
        uuid: &str,
    ) -> Result<UpdateOutcome, DbError> {
        let exists = self
            .count_rows(table, &[Cond::Eq("uuid", uuid.into())])
            .await?
            > 0;
        Ok(if exists {
            UpdateOutcome::Conflict
        } else {
            UpdateOutcome::NotFound
        })
    }

    /// Writes every column of `item` if the row's `updated_at` is still `expected`.
    pub(crate) async fn update_row_if_unchanged<T: Serialize>(
        &self,
        table: &Table,
        uuid: &str,
        item: &T,
        expected_updated_at: Option<&str>,
    ) -> Result<UpdateOutcome, DbError> {
        let guard = match expected_updated_at {
            Some(t) => Cond::Eq("updated_at", t.into()),
            None => Cond::IsNull("updated_at"),
        };
        self.update_row(table, uuid, item, &[guard]).await
    }

    /// Deletes rows matching `conds`; returns how many went.
    pub(crate) async fn delete_rows(&self, table: &Table, conds: &[Cond]) -> Result<u64, DbError> {
        let mut sql = Sql::default();
        sql.push("DELETE FROM ").push(table.name).where_all(conds);
        self.execute(sql).await
    }
}

/// Appends the keyset condition "strictly after the marker row" for the given order.
/// NULLs sort first ascending and last descending, on both backends.
fn keyset_after(sql: &mut Sql, col: &str, marker_id: i64, marker_value: Value, desc: bool) {
    if col == "id" {
        sql.push(if desc { "id < " } else { "id > " })
            .arg(Value::Int(marker_id));
        return;
    }
    let is_null = matches!(marker_value, Value::NullInt | Value::NullText);
    let (cmp, id_cmp) = if desc { (" < ", " < ") } else { (" > ", " > ") };
    sql.push("(");
    match (desc, is_null) {
        (false, true) => {
            sql.push(col)
                .push(" IS NULL AND id")
                .push(id_cmp)
                .arg(Value::Int(marker_id));
            sql.push(") OR (").push(col).push(" IS NOT NULL");
        }
        (true, true) => {
            sql.push(col)
                .push(" IS NULL AND id")
                .push(id_cmp)
                .arg(Value::Int(marker_id));
        }
        (desc, false) => {
            if desc {
                sql.push(col).push(" IS NULL OR ");
            } else {
                sql.push(col).push(" IS NOT NULL AND (");
            }
            sql.push(col).push(cmp).arg(marker_value.clone());
            sql.push(" OR (").push(col).push(" = ").arg(marker_value);
            sql.push(" AND id")
                .push(id_cmp)
                .arg(Value::Int(marker_id))
                .push(")");
            if !desc {
                sql.push(")");
            }
        }
    }
    sql.push(")");
}

/// Escapes `text` for a `LIKE` pattern whose escape character is a backslash.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
