//! Paths into JSON maps for the attribute and plugin-data actions. Attribute paths
//! (node and port) are `/`-separated when they contain a `/` (leading and trailing
//! ones ignored: `/driver_info/ipmi_address`) and `.`-separated otherwise
//! (`driver_info.ipmi_address`); their first part must name an existing field, and
//! only dictionaries are walked. Plugin-data paths are always `.`-separated and may
//! create every level.

use serde_json::Value;

use super::pyvalue::{py_eq, py_truthy, type_name};
use crate::JsonObject;

/// Splits an attribute path (Ironic's `normalize_path`).
pub(crate) fn attr_path(path: &str) -> Vec<&str> {
    if path.contains('/') {
        path.trim_matches('/').split('/').collect()
    } else {
        path.split('.').collect()
    }
}

/// Splits a plugin-data path.
pub(crate) fn plugin_data_path(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

fn not_a_dict(part: &str, v: &Value) -> String {
    format!("'{part}' is a {}, not a dictionary", type_name(v))
}

/// The dictionary at `parts` under `root`, creating missing levels as `{}`.
fn dict_at<'m>(root: &'m mut JsonObject, parts: &[&str]) -> Result<&'m mut JsonObject, String> {
    let mut cur = root;
    for part in parts {
        let next = cur
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(JsonObject::new()));
        cur = match next {
            Value::Object(map) => map,
            other => return Err(not_a_dict(part, other)),
        };
    }
    Ok(cur)
}

fn check_field(root: &JsonObject, parts: &[&str], kind: &str) -> Result<(), String> {
    match parts.first() {
        Some(field) if root.contains_key(*field) => Ok(()),
        Some(field) => Err(format!("{kind} has no attribute '{field}'")),
        None => Err("empty path".into()),
    }
}

/// Sets the attribute at `parts` of a node or port (`kind` names it in errors).
pub(crate) fn set_attr(
    root: &mut JsonObject,
    parts: &[&str],
    value: Value,
    kind: &str,
) -> Result<(), String> {
    check_field(root, parts, kind)?;
    set_plugin_data(root, parts, value)
}

/// Appends `value` to the list at `parts` of a node or port; with `unique`, only
/// when no equal value is there. Missing nested levels are created.
pub(crate) fn extend_attr(
    root: &mut JsonObject,
    parts: &[&str],
    value: Value,
    unique: bool,
    kind: &str,
) -> Result<(), String> {
    check_field(root, parts, kind)?;
    let (last, parents) = parts.split_last().ok_or("empty path")?;
    let parent = dict_at(root, parents)?;
    let list = parent
        .entry(last.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    match list {
        Value::Array(items) => {
            if !unique || !items.iter().any(|i| py_eq(i, &value)) {
                items.push(value);
            }
            Ok(())
        }
        other => Err(format!(
            "Cannot extend non-list attribute (it is a {})",
            type_name(other)
        )),
    }
}

/// Removes the attribute at `parts` of a node or port. A top-level field is reset
/// to empty (`{}`, `[]` or null); a missing nested key is not an error (returns
/// false).
pub(crate) fn del_attr(root: &mut JsonObject, parts: &[&str], kind: &str) -> Result<bool, String> {
    check_field(root, parts, kind)?;
    let (last, parents) = parts.split_last().ok_or("empty path")?;
    let Some((field, middle)) = parents.split_first() else {
        if let Some(v) = root.get_mut(*last) {
            *v = match v {
                Value::Object(_) => Value::Object(JsonObject::new()),
                Value::Array(_) => Value::Array(Vec::new()),
                _ => Value::Null,
            };
        }
        return Ok(true);
    };
    let mut cur = match root.get_mut(*field) {
        Some(Value::Object(map)) => map,
        Some(other) => return Err(not_a_dict(field, other)),
        None => return Ok(false),
    };
    for part in middle {
        cur = match cur.get_mut(*part) {
            Some(Value::Object(map)) => map,
            Some(other) => return Err(not_a_dict(part, other)),
            None => return Ok(false),
        };
    }
    Ok(cur.remove(*last).is_some())
}

/// Sets the plugin data at `parts`, creating levels.
pub(crate) fn set_plugin_data(
    root: &mut JsonObject,
    parts: &[&str],
    value: Value,
) -> Result<(), String> {
    let (last, parents) = parts.split_last().ok_or("empty path")?;
    dict_at(root, parents)?.insert(last.to_string(), value);
    Ok(())
}

/// Appends to the plugin-data list at `parts`. A missing or empty (falsy) value
/// becomes a new list; any other non-list is an error.
pub(crate) fn extend_plugin_data(
    root: &mut JsonObject,
    parts: &[&str],
    value: Value,
    unique: bool,
) -> Result<(), String> {
    let mut items = match get(root, parts) {
        Some(Value::Array(items)) => items.clone(),
        Some(v) if py_truthy(v) => {
            return Err(format!("cannot extend a {}", type_name(v)));
        }
        _ => Vec::new(),
    };
    if !unique || !items.iter().any(|i| py_eq(i, &value)) {
        items.push(value);
    }
    set_plugin_data(root, parts, Value::Array(items))
}

fn get<'m>(root: &'m JsonObject, parts: &[&str]) -> Option<&'m Value> {
    let (first, rest) = parts.split_first()?;
    let mut cur = root.get(*first)?;
    for part in rest {
        cur = cur.as_object()?.get(*part)?;
    }
    Some(cur)
}

/// Removes the plugin data at `parts`; a dictionary left empty by it is removed from
/// its parent too. False when nothing was there.
pub(crate) fn unset_plugin_data(root: &mut JsonObject, parts: &[&str]) -> bool {
    match parts {
        [] => false,
        [last] => root.remove(*last).is_some(),
        [first, rest @ ..] => {
            let Some(Value::Object(child)) = root.get_mut(*first) else {
                return false;
            };
            if !unset_plugin_data(child, rest) {
                return false;
            }
            if rest.len() == 1 && child.is_empty() {
                root.remove(*first);
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn attribute_paths_take_slashes_or_dots() {
        assert_eq!(
            attr_path("/driver_info/ipmi_address"),
            ["driver_info", "ipmi_address"]
        );
        assert_eq!(
            attr_path("driver_info.next.nested"),
            ["driver_info", "next", "nested"]
        );
        assert_eq!(attr_path("/driver"), ["driver"]);
        assert_eq!(attr_path("a.b/c"), ["a.b", "c"]);
        assert_eq!(plugin_data_path("a/b.c"), ["a/b", "c"]);
    }

    #[test]
    fn set_walks_and_creates_dictionaries() {
        let mut node = obj(json!({"driver": "ipmi", "driver_info": {}}));
        set_attr(
            &mut node,
            &["driver_info", "next", "deeper"],
            json!(1),
            "node",
        )
        .unwrap();
        assert_eq!(node["driver_info"], json!({"next": {"deeper": 1}}));
        set_attr(&mut node, &["driver"], json!("redfish"), "node").unwrap();
        assert_eq!(node["driver"], "redfish");
        assert!(set_attr(&mut node, &["driver", "x"], json!(1), "node").is_err());
        assert!(set_attr(&mut node, &["nope"], json!(1), "node").is_err());
    }

    #[test]
    fn extend_appends_to_lists() {
        let mut node = obj(json!({"traits": ["A"], "extra": {}, "driver": "x"}));
        extend_attr(&mut node, &["traits"], json!("B"), false, "node").unwrap();
        extend_attr(&mut node, &["traits"], json!("B"), true, "node").unwrap();
        assert_eq!(node["traits"], json!(["A", "B"]));
        extend_attr(&mut node, &["extra", "tags"], json!(1), false, "node").unwrap();
        assert_eq!(node["extra"], json!({"tags": [1]}));
        assert!(extend_attr(&mut node, &["driver"], json!(1), false, "node").is_err());
    }

    #[test]
    fn delete_resets_fields_and_tolerates_missing_keys() {
        let mut node = obj(json!({"extra": {"a": {"b": 1}}, "name": "n", "traits": ["X"]}));
        assert_eq!(del_attr(&mut node, &["extra", "a", "b"], "node"), Ok(true));
        assert_eq!(
            del_attr(&mut node, &["extra", "zz", "b"], "node"),
            Ok(false)
        );
        assert_eq!(node["extra"], json!({"a": {}}));
        del_attr(&mut node, &["name"], "node").unwrap();
        del_attr(&mut node, &["traits"], "node").unwrap();
        assert_eq!(node["name"], Value::Null);
        assert_eq!(node["traits"], json!([]));
        assert!(del_attr(&mut node, &["name", "x"], "node").is_err());
        assert!(del_attr(&mut node, &["nope"], "node").is_err());
    }

    #[test]
    fn plugin_data_paths() {
        let mut pd = obj(json!({"keep": 1, "a": {"b": {"c": 1}}, "s": "text", "z": ""}));
        set_plugin_data(&mut pd, &["x", "y"], json!(2)).unwrap();
        assert_eq!(pd["x"], json!({"y": 2}));
        assert!(set_plugin_data(&mut pd, &["s", "y"], json!(2)).is_err());
        extend_plugin_data(&mut pd, &["l"], json!(1), false).unwrap();
        extend_plugin_data(&mut pd, &["l"], json!(1), true).unwrap();
        extend_plugin_data(&mut pd, &["z"], json!(1), false).unwrap();
        assert_eq!(pd["l"], json!([1]));
        assert_eq!(pd["z"], json!([1]));
        assert!(extend_plugin_data(&mut pd, &["s"], json!(1), false).is_err());
        assert!(unset_plugin_data(&mut pd, &["a", "b", "c"]));
        assert_eq!(pd["a"], json!({}));
        assert!(!unset_plugin_data(&mut pd, &["a", "q"]));
        assert!(unset_plugin_data(&mut pd, &["keep"]));
        assert!(!pd.contains_key("keep"));
    }
}
