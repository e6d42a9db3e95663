//! How results are printed: `--format table` (boxed tables like the OpenStack
//! client's: a listing's columns, or a record's Field | Value), `json` (pretty,
//! keys sorted) or `yaml`.

use std::sync::OnceLock;

use comfy_table::{ContentArrangement, Table};
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

/// How wide tables may be: the terminal's width (or `COLUMNS` when output is not
/// a terminal), unless `--wide` asked for every column at full width. Set once by
/// `main` before anything prints.
static TABLE_WIDTH: OnceLock<Option<u16>> = OnceLock::new();

/// Sets the table width from the terminal, `COLUMNS`, and `--wide`.
pub fn set_table_width(wide: bool) {
    let width = if wide {
        None
    } else {
        terminal_size::terminal_size()
            .map(|(w, _)| w.0)
            .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
    };
    let _ = TABLE_WIDTH.set(width);
}

/// A boxed table of `headers` over `rows`, its columns wrapped to fit the width.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_at(headers, rows, TABLE_WIDTH.get().copied().flatten())
}

/// A boxed table at most `width` columns wide (wrapping cells), or as wide as
/// its contents.
pub fn table_at(headers: &[&str], rows: &[Vec<String>], width: Option<u16>) -> String {
    let mut t = Table::new();
    t.load_preset(ASCII_BORDERS_AND_HEADER_SEPARATED)
        .set_header(headers.iter().copied());
    match width {
        Some(width) => {
            t.set_width(width)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    for row in rows {
        t.add_row(row.iter().map(String::as_str));
    }
    let mut out = t.to_string();
    if rows.is_empty() {
        // Header rule and bottom rule are the same line: keep one, as the
        // OpenStack client does.
        if let Some(cut) = out.rfind('\n') {
            out.truncate(cut);
        }
    }
    out.push('\n');
    out
}

/// The table style: `+---+` rules around, under the header and at the end.
const ASCII_BORDERS_AND_HEADER_SEPARATED: &str = "||--+-++|    ++++++";

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A node listing as `ferric node list --long` prints it.
    fn listing_rows() -> (Vec<&'static str>, Vec<Vec<String>>) {
        let headers = vec![
            "UUID",
            "Name",
            "Driver",
            "Resource Class",
            "Power State",
            "Provisioning State",
            "Target Provision State",
            "Maintenance",
            "Last Error",
        ];
        let row = |i: u32, state: &str, error: &str| {
            vec![
                format!("6be5aa29-2f06-40fc-b4e6-d98ced0199{i:02}"),
                format!("rack-1-node-{i}"),
                "redfish".into(),
                "baremetal-gold".into(),
                "power on".into(),
                state.into(),
                String::new(),
                "false".into(),
                error.into(),
            ]
        };
        let rows = vec![
            row(1, "active", ""),
            row(2, "deploy failed", "Timeout reached while waiting for callback for node 6be5aa29 in state \"wait call-back\""),
        ];
        (headers, rows)
    }

    #[test]
    fn wide_wraps_nothing() {
        let (headers, rows) = listing_rows();
        let out = table_at(&headers, &rows, None);
        // Three rules, the header and one line a row.
        assert_eq!(out.lines().count(), 3 + 1 + rows.len(), "{out}");
        assert!(out.contains("in state \"wait call-back\" |"), "{out}");
    }

    #[test]
    fn the_boxed_style_is_the_openstack_clients() {
        let out = table_at(
            &["Field", "Value"],
            &[vec!["name".into(), "n1".into()]],
            Some(80),
        );
        assert_eq!(
            out,
            "+-------+-------+\n| Field | Value |\n+-------+-------+\n| name  | n1    |\n+-------+-------+\n"
        );
    }
}
