//! List queries as Neutron reads them: any attribute as a filter (repeated values
//! mean "any of"; `fixed_ips=ip_address=…` / `subnet_id=…` look inside the list),
//! `fields` to pick attributes. Applied to the rendered objects.

use serde_json::{Map, Value};

/// Parameters that are not filters.
const NOT_FILTERS: &[&str] = &[
    "fields",
    "limit",
    "marker",
    "page_reverse",
    "sort_key",
    "sort_dir",
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn matches(item: &Value, key: &str, wanted: &[&str]) -> bool {
    if key == "fixed_ips" {
        let ips = item.get("fixed_ips").and_then(Value::as_array);
        return wanted.iter().any(|w| {
            let Some((k, v)) = w.split_once('=') else {
                return false;
            };
            ips.is_some_and(|ips| {
                ips.iter()
                    .any(|ip| ip.get(k).map(text).as_deref() == Some(v))
            })
        });
    }
    let Some(value) = item.get(key) else {
        return false;
    };
    let have = text(value);
    wanted
        .iter()
        .any(|w| *w == have || (value.is_boolean() && w.eq_ignore_ascii_case(&have)))
}

/// Keeps the items matching every filter of `query`, with only the asked fields.
pub fn apply(items: Vec<Value>, query: &[(String, String)]) -> Vec<Value> {
    let mut filters: Vec<(&str, Vec<&str>)> = Vec::new();
    for (k, v) in query {
        if NOT_FILTERS.contains(&k.as_str()) {
            continue;
        }
        match filters.iter_mut().find(|(key, _)| key == k) {
            Some((_, vals)) => vals.push(v),
            None => filters.push((k, vec![v])),
        }
    }
    let fields: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str())
        .collect();
    items
        .into_iter()
        .filter(|item| filters.iter().all(|(k, w)| matches(item, k, w)))
        .map(|item| select(item, &fields))
        .collect()
}

/// Only `fields` of `item` (all when none are asked).
pub fn select(item: Value, fields: &[&str]) -> Value {
    if fields.is_empty() {
        return item;
    }
    let Value::Object(map) = item else {
        return item;
    };
    Value::Object(
        map.into_iter()
            .filter(|(k, _)| fields.contains(&k.as_str()))
            .collect::<Map<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_and_fields() {
        let items = vec![
            json!({"id": "a", "name": "x", "shared": true, "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}]}),
            json!({"id": "b", "name": "y", "shared": false, "fixed_ips": []}),
        ];
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(apply(items.clone(), &q(&[("name", "y")])).len(), 1);
        assert_eq!(
            apply(items.clone(), &q(&[("name", "y"), ("name", "x")])).len(),
            2
        );
        assert_eq!(
            apply(items.clone(), &q(&[("shared", "True")]))[0]["id"],
            "a"
        );
        assert_eq!(
            apply(items.clone(), &q(&[("fixed_ips", "ip_address=10.0.0.5")]))[0]["id"],
            "a"
        );
        let picked = apply(items, &q(&[("fields", "id"), ("id", "b")]));
        assert_eq!(picked, vec![json!({"id": "b"})]);
    }
}
