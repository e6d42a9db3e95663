//! How results are printed: `--format table` (boxed tables like the OpenStack
//! client's: a listing's columns, or a record's Field | Value), `json` (pretty,
//! keys sorted) or `yaml`.

use serde_json::Value;

use crate::yaml::to_yaml;

/// The output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// A cell's text: strings as they are, null as empty, the rest as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A boxed table of `headers` over `rows`.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            for line in c.lines() {
                *w = (*w).max(line.chars().count());
            }
        }
    }
    let rule: String = {
        let mut r = String::from("+");
        for w in &widths {
            r.push_str(&"-".repeat(w + 2));
            r.push('+');
        }
        r.push('\n');
        r
    };
    let line = |cells: &[String]| {
        let height = cells
            .iter()
            .map(|c| c.lines().count().max(1))
            .max()
            .unwrap_or(1);
        let mut out = String::new();
        for i in 0..height {
            out.push('|');
            for (w, c) in widths.iter().zip(cells) {
                let text = c.lines().nth(i).unwrap_or_default();
                out.push(' ');
                out.push_str(text);
                out.push_str(&" ".repeat(w - text.chars().count() + 1));
                out.push('|');
            }
            out.push('\n');
        }
        out
    };
    let mut out = rule.clone();
    out.push_str(&line(
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    ));
    out.push_str(&rule);
    for row in rows {
        out.push_str(&line(row));
    }
    if !rows.is_empty() {
        out.push_str(&rule);
    }
    out
}

/// A listing: `columns` are (header, field) pairs picked from each item.
pub fn listing(format: Format, columns: &[(&str, &str)], items: &[Value]) -> String {
    match format {
        Format::Table => {
            let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|it| columns.iter().map(|(_, f)| cell(&it[*f])).collect())
                .collect();
            table(&headers, &rows)
        }
        Format::Json => json_text(&project(columns, items)),
        Format::Yaml => to_yaml(&project(columns, items)),
    }
}

/// The items with only the columns' fields.
fn project(columns: &[(&str, &str)], items: &[Value]) -> Value {
    Value::from(
        items
            .iter()
            .map(|it| {
                Value::Object(
                    columns
                        .iter()
                        .map(|(_, f)| (f.to_string(), it[*f].clone()))
                        .collect(),
                )
            })
            .collect::<Vec<_>>(),
    )
}

/// One record: a Field | Value table, or the whole document.
pub fn record(format: Format, doc: &Value) -> String {
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = doc
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| *k != "links")
                        .map(|(k, v)| vec![k.clone(), cell(v)])
                        .collect()
                })
                .unwrap_or_default();
            table(&["Field", "Value"], &rows)
        }
        Format::Json => json_text(doc),
        Format::Yaml => to_yaml(doc),
    }
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
