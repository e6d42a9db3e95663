//! The CLI's output, as snapshots: a node listing and a node record in each format
//! (`tests/snapshots/*`). `UPDATE_SNAPSHOTS=1 cargo test -p ferric-cli --test output`
//! rewrites them after an intended change; review the diff.

use ferric_cli::output::{listing, record, Format};
use serde_json::{json, Value};

const COLUMNS: &[(&str, &str)] = &[
    ("UUID", "uuid"),
    ("Name", "name"),
    ("Power State", "power_state"),
    ("Provisioning State", "provision_state"),
    ("Maintenance", "maintenance"),
    ("Last Error", "last_error"),
];

fn nodes() -> Vec<Value> {
    vec![
        json!({"uuid": "0d1c2b3a-0000-4000-8000-000000000001", "name": "sim-00000", "power_state": "power on",
               "provision_state": "active", "maintenance": false, "last_error": null}),
        json!({"uuid": "0d1c2b3a-0000-4000-8000-000000000002", "name": "sim-00001", "power_state": "power off",
               "provision_state": "deploy failed", "maintenance": false,
               "last_error": "Timeout reached while waiting for callback for node 0d1c2b3a-0000-4000-8000-000000000002 in state \"wait call-back\" (30 s)"}),
        json!({"uuid": "0d1c2b3a-0000-4000-8000-000000000003", "name": null, "power_state": null,
               "provision_state": "enroll", "maintenance": true, "last_error": null}),
    ]
}

fn node() -> Value {
    json!({"uuid": "0d1c2b3a-0000-4000-8000-000000000001", "name": "sim-00000", "driver": "redfish",
           "driver_info": {"redfish_address": "http://127.0.0.1:8000", "redfish_password": "******"},
           "properties": {"cpus": 2, "memory_mb": 4096}, "provision_state": "active", "traits": ["CUSTOM_GPU"],
           "links": [{"href": "http://x/v1/nodes/0d1c", "rel": "self"}], "extra": {}})
}

fn check(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(got, want, "{name} differs from its snapshot");
}

#[test]
fn node_list_table() {
    check(
        "node-list.table",
        &listing(Format::Table, COLUMNS, &nodes()),
    );
}

#[test]
fn node_list_json() {
    let out = listing(Format::Json, COLUMNS, &nodes());
    let parsed: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(parsed.as_array().unwrap().len(), 3);
    check("node-list.json", &out);
}

#[test]
fn node_list_yaml() {
    check("node-list.yaml", &listing(Format::Yaml, COLUMNS, &nodes()));
}

#[test]
fn node_show_table() {
    check("node-show.table", &record(Format::Table, &node()));
}

#[test]
fn node_show_json() {
    let out = record(Format::Json, &node());
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), node());
    check("node-show.json", &out);
}

#[test]
fn empty_listing_is_just_the_header() {
    check("empty-list.table", &listing(Format::Table, COLUMNS, &[]));
}

/// The listing's rows as `listing` would print them, for a table of a set width.
fn node_rows() -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = COLUMNS.iter().map(|(h, _)| *h).collect();
    let rows = nodes()
        .iter()
        .map(|n| {
            COLUMNS
                .iter()
                .map(|(_, f)| ferric_cli::output::cell(&n[*f]))
                .collect()
        })
        .collect();
    (headers, rows)
}

#[test]
fn node_list_at_80_and_200_columns() {
    let (headers, rows) = node_rows();
    for width in [80u16, 200] {
        let out = ferric_cli::output::table_at(&headers, &rows, Some(width));
        for line in out.lines() {
            assert!(line.chars().count() <= width as usize, "{line}");
        }
        check(&format!("node-list-{width}.table"), &out);
    }
}
