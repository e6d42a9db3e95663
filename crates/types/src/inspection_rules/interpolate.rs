//! Argument interpolation as Ironic does it: strings are Python format templates
//! over `node` (fields by attribute: `{node.driver}`), `inventory` and `plugin_data`
//! (by key: `{inventory[cpu][count]}`) and, inside loops, `item`; dicts and lists are
//! interpolated recursively. A failed template stays as written (a warning is
//! recorded), except that a missing key reads as null for `is-empty`. Inside loops a
//! string is formatted twice, so a loop item may itself hold a template.
//!
//! One Ferric extension: an argument that is exactly one field (`"{inventory[cpu]}"`,
//! no text around it, no conversion) keeps the JSON type of what it names, where
//! Python would make it a string.
//!
//! Credentials in the inventory and plugin data read as `***` when masking is on.

use std::borrow::Cow;

use serde_json::Value;

use super::pyfmt::{self, Accessor, Field, FormatError, Piece};
use super::pyvalue::{py_ascii, py_repr, py_str, type_name};
use crate::JsonObject;

/// Keys whose values are masked (Ironic's `SENSITIVE_FIELDS`).
pub(crate) const SENSITIVE_KEYS: [&str; 3] = ["password", "auth_token", "bmc_password"];

/// What a masked value reads as.
pub(crate) const MASKED: &str = "***";

/// The names a template may use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'c> {
    pub node: &'c JsonObject,
    pub inventory: &'c JsonObject,
    pub plugin_data: &'c JsonObject,
    pub item: Option<&'c Value>,
    pub mask: bool,
}

/// How to interpolate.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mode {
    /// Inside a loop: strings are formatted twice.
    pub in_loop: bool,
    /// For `is-empty`: a missing key makes the value null.
    pub missing_is_null: bool,
}

/// A template that could not be formatted and was left as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unformatted {
    pub template: String,
    pub error: FormatError,
}

/// Interpolates `value`; borrowed when nothing changed.
pub(crate) fn interpolate<'v>(
    value: &'v Value,
    scope: &Scope<'_>,
    mode: Mode,
    failures: &mut Vec<Unformatted>,
) -> Cow<'v, Value> {
    if !has_template(value) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(interpolate_owned(value, scope, mode, failures))
}

/// True when `value` holds a string that formatting could change.
pub(crate) fn has_template(value: &Value) -> bool {
    match value {
        Value::String(s) => !pyfmt::is_plain(s),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| !pyfmt::is_plain(k) || has_template(v)),
        _ => false,
    }
}

fn interpolate_owned(
    value: &Value,
    scope: &Scope<'_>,
    mode: Mode,
    failures: &mut Vec<Unformatted>,
) -> Value {
    match value {
        Value::String(s) => {
            let once = format_template(s, scope, mode, failures);
            match once {
                Some(Value::String(again)) if mode.in_loop => {
                    format_template(&again, scope, mode, failures).unwrap_or(Value::String(again))
                }
                Some(v) => v,
                // A failed template would fail the same way a second time.
                None => value.clone(),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    // List elements that are strings are formatted once, even in loops.
                    Value::String(s) => {
                        format_template(s, scope, mode, failures).unwrap_or_else(|| item.clone())
                    }
                    other => interpolate_owned(other, scope, mode, failures),
                })
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match format_template(k, scope, Mode::default(), failures) {
                        Some(Value::String(s)) => s,
                        Some(Value::Null) | None => k.clone(),
                        Some(other) => py_str(&other),
                    };
                    (key, interpolate_owned(v, scope, mode, failures))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Formats one template; `None` when it is left as written (nothing to format, or it
/// failed and the failure was recorded).
fn format_template(
    template: &str,
    scope: &Scope<'_>,
    mode: Mode,
    failures: &mut Vec<Unformatted>,
) -> Option<Value> {
    if pyfmt::is_plain(template) {
        return None;
    }
    let result = pyfmt::parse(template).and_then(|pieces| render(&pieces, scope));
    match result {
        Ok(v) => Some(v),
        Err(FormatError::Key(_)) if mode.missing_is_null => Some(Value::Null),
        Err(error) => {
            failures.push(Unformatted {
                template: template.to_string(),
                error,
            });
            None
        }
    }
}

fn render(pieces: &[Piece<'_>], scope: &Scope<'_>) -> Result<Value, FormatError> {
    if let [Piece::Field(f)] = pieces {
        if f.conversion.is_none() && f.spec.is_empty() {
            return resolve(f, scope);
        }
    }
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(f) => {
                let v = resolve(f, scope)?;
                let text = match f.conversion {
                    None | Some('s') => py_str(&v),
                    Some('r') => py_repr(&v),
                    Some('a') => py_ascii(&v),
                    Some(c) => {
                        return Err(FormatError::Value(format!(
                            "Unknown conversion specifier {c}"
                        )))
                    }
                };
                if !f.spec.is_empty() {
                    return Err(FormatError::Value(format!(
                        "format specification ':{}' is not supported",
                        f.spec
                    )));
                }
                out.push_str(&text);
            }
        }
    }
    Ok(Value::String(out))
}

/// Where a lookup has got to.
enum Cursor<'c> {
    Node(&'c JsonObject),
    Map(&'c JsonObject, bool),
    Val(&'c Value, bool),
    Owned(Value),
}

fn resolve(field: &Field<'_>, scope: &Scope<'_>) -> Result<Value, FormatError> {
    let mut cur = match field.root {
        "node" => Cursor::Node(scope.node),
        "inventory" => Cursor::Map(scope.inventory, scope.mask),
        "plugin_data" => Cursor::Map(scope.plugin_data, scope.mask),
        "item" if scope.item.is_some() => match scope.item {
            Some(item) => Cursor::Val(item, false),
            None => Cursor::Owned(Value::Null),
        },
        root if root.is_empty() || root.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(FormatError::Index(format!(
                "Replacement index {} out of range for positional args tuple",
                if root.is_empty() { "0" } else { root }
            )))
        }
        root => return Err(FormatError::Key(format!("'{root}'"))),
    };
    for acc in &field.path {
        cur = match cur {
            Cursor::Node(node) => match acc {
                Accessor::Attr(a) => match node.get(*a) {
                    Some(v) => Cursor::Val(v, false),
                    None => {
                        return Err(FormatError::Attribute(format!(
                            "'Node' object has no attribute '{a}'"
                        )))
                    }
                },
                Accessor::Item(_) => {
                    return Err(FormatError::Type(
                        "'Node' object is not subscriptable".into(),
                    ))
                }
            },
            Cursor::Map(map, masked) => step_map(map, masked, acc)?,
            Cursor::Val(v, masked) => step(v, masked, acc)?,
            Cursor::Owned(v) => match step(&v, false, acc)? {
                Cursor::Val(inner, _) => Cursor::Owned(inner.clone()),
                Cursor::Map(m, _) => Cursor::Owned(Value::Object(m.clone())),
                Cursor::Owned(o) => Cursor::Owned(o),
                Cursor::Node(n) => Cursor::Owned(Value::Object(n.clone())),
            },
        };
    }
    Ok(match cur {
        Cursor::Node(node) => Value::Object(node.clone()),
        Cursor::Map(map, masked) => mask_if(Value::Object(map.clone()), masked),
        Cursor::Val(v, masked) => mask_if(v.clone(), masked),
        Cursor::Owned(v) => v,
    })
}

fn step_map<'c>(
    map: &'c JsonObject,
    masked: bool,
    acc: &Accessor<'_>,
) -> Result<Cursor<'c>, FormatError> {
    match acc {
        Accessor::Item(k) => match map.get(*k) {
            Some(_) if masked && SENSITIVE_KEYS.contains(k) => {
                Ok(Cursor::Owned(Value::String(MASKED.into())))
            }
            Some(v) => Ok(Cursor::Val(v, masked)),
            None => Err(FormatError::Key(format!("'{k}'"))),
        },
        Accessor::Attr(a) => Err(FormatError::Attribute(format!(
            "'dict' object has no attribute '{a}'"
        ))),
    }
}

fn step<'c>(v: &'c Value, masked: bool, acc: &Accessor<'_>) -> Result<Cursor<'c>, FormatError> {
    let key = match acc {
        Accessor::Attr(a) => {
            return Err(FormatError::Attribute(format!(
                "'{}' object has no attribute '{a}'",
                type_name(v)
            )))
        }
        Accessor::Item(k) => *k,
    };
    let index = || -> Option<usize> {
        if key.bytes().all(|b| b.is_ascii_digit()) {
            Some(key.parse().unwrap_or(usize::MAX))
        } else {
            None
        }
    };
    match v {
        Value::Object(map) => step_map(map, masked, acc),
        Value::Array(items) => match index() {
            Some(i) => items
                .get(i)
                .map(|item| Cursor::Val(item, masked))
                .ok_or_else(|| FormatError::Index("list index out of range".into())),
            None => Err(FormatError::Type(
                "list indices must be integers or slices, not str".into(),
            )),
        },
        Value::String(s) => match index() {
            Some(i) => s
                .chars()
                .nth(i)
                .map(|c| Cursor::Owned(Value::String(c.to_string())))
                .ok_or_else(|| FormatError::Index("string index out of range".into())),
            None => Err(FormatError::Type(
                "string indices must be integers, not 'str'".into(),
            )),
        },
        other => Err(FormatError::Type(format!(
            "'{}' object is not subscriptable",
            type_name(other)
        ))),
    }
}

fn mask_if(v: Value, masked: bool) -> Value {
    if masked {
        mask(v)
    } else {
        v
    }
}

/// Replaces the values of credential keys, at any depth.
pub(crate) fn mask(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if SENSITIVE_KEYS.contains(&k.as_str()) {
                        Value::String(MASKED.into())
                    } else {
                        mask(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(mask).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Data {
        node: JsonObject,
        inventory: JsonObject,
        plugin_data: JsonObject,
    }

    fn data() -> Data {
        let obj = |v: Value| match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        Data {
            node: obj(json!({"driver": "fake-hardware", "properties": {"cpus": 4}, "name": null})),
            inventory: obj(json!({
                "cpu": {"count": 4, "architecture": "x86_64"},
                "interfaces": [{"name": "eth0", "mac_address": "2a:03:9c:53:4e:46"}],
                "bmc_address": "192.168.1.100",
                "bmc_password": "secret",
                "empty": []
            })),
            plugin_data: obj(json!({"plugin": "data", "password": "plugin_secret"})),
        }
    }

    fn run(
        value: Value,
        item: Option<&Value>,
        mode: Mode,
        mask: bool,
    ) -> (Value, Vec<Unformatted>) {
        let d = data();
        let scope = Scope {
            node: &d.node,
            inventory: &d.inventory,
            plugin_data: &d.plugin_data,
            item,
            mask,
        };
        let mut failures = Vec::new();
        let out = interpolate(&value, &scope, mode, &mut failures).into_owned();
        (out, failures)
    }

    fn fmt(t: &str) -> Value {
        run(json!(t), None, Mode::default(), true).0
    }

    #[test]
    fn fields_resolve_like_ironic() {
        assert_eq!(fmt("{inventory[cpu][architecture]}"), json!("x86_64"));
        assert_eq!(
            fmt("{inventory[interfaces][0][mac_address]}"),
            json!("2a:03:9c:53:4e:46")
        );
        assert_eq!(fmt("{plugin_data[plugin]}"), json!("data"));
        assert_eq!(fmt("{node.driver}"), json!("fake-hardware"));
        assert_eq!(fmt("{node.properties[cpus]}"), json!(4));
        assert_eq!(fmt("CPU: {inventory[cpu][count]}!"), json!("CPU: 4!"));
        assert_eq!(fmt("{inventory[cpu][count]!s}"), json!("4"));
        assert_eq!(fmt("{inventory[cpu][architecture]!r}"), json!("'x86_64'"));
        assert_eq!(fmt("{{literal}} {node.name}"), json!("{literal} None"));
        assert_eq!(fmt("no template"), json!("no template"));
    }

    #[test]
    fn a_whole_reference_keeps_its_type() {
        assert_eq!(
            fmt("{inventory[cpu]}"),
            json!({"count": 4, "architecture": "x86_64"})
        );
        assert_eq!(fmt("{inventory[empty]}"), json!([]));
        assert_eq!(fmt("{node.name}"), Value::Null);
    }

    #[test]
    fn failures_leave_the_template() {
        for t in [
            "{inventory[missing][key]}",
            "{inventory.cpu}",
            "{node[driver]}",
            "{node.nope}",
            "{inventory[interfaces][5]}",
            "{inventory[interfaces][x]}",
            "{}",
            "{unknown}",
            "{inventory[cpu]:>5}",
            "oops }",
        ] {
            let (out, failures) = run(json!(t), None, Mode::default(), true);
            assert_eq!(out, json!(t), "{t}");
            assert_eq!(failures.len(), 1, "{t}");
        }
        let (_, f) = run(json!("{inventory[nope]}"), None, Mode::default(), true);
        assert_eq!(f[0].error.class(), "KeyError");
    }

    #[test]
    fn missing_keys_are_null_for_is_empty() {
        let mode = Mode {
            missing_is_null: true,
            ..Mode::default()
        };
        assert_eq!(
            run(json!("{inventory[i.do.not.exist]}"), None, mode, true).0,
            Value::Null
        );
        // Only KeyError: an index out of range still leaves the template.
        let t = json!("{inventory[interfaces][9]}");
        assert_eq!(run(t.clone(), None, mode, true).0, t);
    }

    #[test]
    fn credentials_are_masked_unless_told_not_to() {
        assert_eq!(fmt("{inventory[bmc_password]}"), json!("***"));
        assert_eq!(
            fmt("{plugin_data}"),
            json!({"plugin": "data", "password": "***"})
        );
        assert_eq!(
            fmt("{plugin_data!s}"),
            json!("{'password': '***', 'plugin': 'data'}")
        );
        let (out, _) = run(
            json!("{inventory[bmc_password]}"),
            None,
            Mode::default(),
            false,
        );
        assert_eq!(out, json!("secret"));
    }

    #[test]
    fn containers_are_interpolated_recursively() {
        let item = json!({"key": "value", "nested": {"deep": "nested_value"}});
        let mode = Mode {
            in_loop: true,
            ..Mode::default()
        };
        let value = json!({
            "normal_key": "normal_value",
            "{item[key]}": "{inventory[cpu][architecture]}",
            "nested": {"item_key": "{item[key]}", "list": ["{item[nested][deep]}", 7]}
        });
        let (out, failures) = run(value, Some(&item), mode, true);
        assert!(failures.is_empty());
        assert_eq!(
            out,
            json!({
                "normal_key": "normal_value",
                "value": "x86_64",
                "nested": {"item_key": "value", "list": ["nested_value", 7]}
            })
        );
    }

    #[test]
    fn loops_format_twice() {
        let item = json!({"path": "driver_info/ipmi_address", "value": "{inventory[bmc_address]}"});
        let mode = Mode {
            in_loop: true,
            ..Mode::default()
        };
        assert_eq!(
            run(json!("{item[value]}"), Some(&item), mode, true).0,
            json!("192.168.1.100")
        );
        // Formatted once, the item's own template stays.
        let (out, f) = run(json!("{item[value]}"), Some(&item), Mode::default(), true);
        assert_eq!(out, json!("{inventory[bmc_address]}"));
        assert!(f.is_empty());
        let (out, f) = run(json!("{item[value]}"), None, Mode::default(), true);
        assert_eq!(out, json!("{item[value]}"));
        assert_eq!(f.len(), 1);
    }
}
