//! JSON patch as Ironic takes it (RFC 6902 restricted to `add`, `replace` and
//! `remove`, paths of word characters and dashes), applied to a resource's JSON form.
//! Which root fields may be patched is the caller's list; the caller re-validates the
//! touched fields afterwards.

use ferric_types::Microversion;
use serde_json::{Map, Value};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// One validated patch operation.
#[derive(Debug, Clone)]
pub struct PatchOp {
    op: Op,
    path: Vec<String>,
    raw_path: String,
    value: Option<Value>,
}

impl PatchOp {
    /// The resource field the operation touches.
    pub fn root(&self) -> &str {
        &self.path[0]
    }

    /// The value an `add` or `replace` sets.
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// True for a `remove` of the whole field.
    pub fn is_root_remove(&self) -> bool {
        self.op == Op::Remove && self.path.len() == 1
    }

    fn describe(&self) -> String {
        let op = match self.op {
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Remove => "remove",
        };
        format!("{{'op': '{op}', 'path': '{}'}}", self.raw_path)
    }
}

/// True for paths matching Ironic's `^(/[\w-]+)+$`; from API 1.98 a segment may
/// also carry RFC 6901 escapes (`~0` for `~`, `~1` for `/`).
fn valid_path(path: &str, escapes: bool) -> bool {
    path.starts_with('/')
        && path[1..].split('/').all(|seg| {
            let mut chars = seg.chars().peekable();
            let mut ok = !seg.is_empty();
            while let Some(c) = chars.next() {
                ok &= c.is_alphanumeric()
                    || c == '_'
                    || c == '-'
                    || (escapes && c == '~' && matches!(chars.next(), Some('0' | '1')));
            }
            ok
        })
}

/// A path segment with its RFC 6901 escapes decoded.
fn decode_segment(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Parses and checks a patch body against the patchable fields of the resource
/// (`(field, minor version that made it patchable)`).
pub fn parse(
    body: Value,
    patchable: &[(&str, u16)],
    version: Microversion,
) -> Result<Vec<PatchOp>, ApiError> {
    let Value::Array(items) = body else {
        return Err(ApiError::bad_request(
            "Schema error for patch: the body is not of type 'array'",
        ));
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut obj) = item else {
            return Err(ApiError::bad_request(format!(
                "Schema error for patch: {item} is not of type 'object'"
            )));
        };
        if let Some(extra) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "op" | "path" | "value"))
        {
            return Err(ApiError::bad_request(format!(
                "Schema error for patch: Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        let op = match obj.get("op") {
            None => {
                return Err(ApiError::bad_request(
                    "Schema error for patch: 'op' is a required property",
                ))
            }
            Some(Value::String(s)) if s == "add" => Op::Add,
            Some(Value::String(s)) if s == "replace" => Op::Replace,
            Some(Value::String(s)) if s == "remove" => Op::Remove,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Schema error for patch: {other} is not one of ['add', 'replace', 'remove']"
                )))
            }
        };
        let raw_path = match obj.get("path") {
            None => {
                return Err(ApiError::bad_request(
                    "Schema error for patch: 'path' is a required property",
                ))
            }
            Some(Value::String(p)) if valid_path(p, version.at_least(98)) => p.clone(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Schema error for patch: {other} does not match '^(/[\\\\w-]+)+$'"
                )))
            }
        };
        let path: Vec<String> = raw_path[1..].split('/').map(decode_segment).collect();
        let parsed = PatchOp {
            op,
            value: obj.remove("value"),
            path,
            raw_path,
        };
        if parsed.op != Op::Remove && parsed.value.is_none() {
            return Err(ApiError::bad_request(format!(
                "Couldn't apply patch '{}'. Reason: The operation does not contain a 'value' member",
                parsed.describe()
            )));
        }
        match patchable.iter().find(|(f, _)| *f == parsed.root()) {
            None => {
                let mut names: Vec<&str> = patchable
                    .iter()
                    .filter(|(_, v)| version.at_least(*v))
                    .map(|(f, _)| *f)
                    .collect();
                names.sort_unstable();
                return Err(ApiError::bad_request(format!(
                    "Cannot patch {}. Only the following can be updated: {}",
                    parsed.raw_path,
                    names.join(", ")
                )));
            }
            Some((_, since)) if !version.at_least(*since) => {
                return Err(ApiError::not_acceptable("Request not acceptable."));
            }
            Some(_) => {}
        }
        ops.push(parsed);
    }
    Ok(ops)
}

/// Applies the operations in order to `doc`. A removed root field becomes `null`.
pub fn apply(doc: &mut Map<String, Value>, ops: &[PatchOp]) -> Result<(), ApiError> {
    for op in ops {
        apply_one(doc, op).map_err(|reason| {
            ApiError::bad_request(format!(
                "Couldn't apply patch '{}'. Reason: {reason}",
                op.describe()
            ))
        })?;
    }
    Ok(())
}

fn apply_one(doc: &mut Map<String, Value>, op: &PatchOp) -> Result<(), String> {
    let (last, parents) = op.path.split_last().expect("paths have a segment");
    if parents.is_empty() {
        // Root fields always exist in the resource's form.
        match op.op {
            Op::Add | Op::Replace => {
                doc.insert(last.clone(), op.value.clone().unwrap_or(Value::Null));
            }
            Op::Remove => {
                doc.insert(last.clone(), Value::Null);
            }
        }
        return Ok(());
    }
    let mut target = doc
        .get_mut(&parents[0])
        .ok_or_else(|| format!("member '{}' not found", parents[0]))?;
    for seg in &parents[1..] {
        target = match target {
            Value::Object(map) => map.get_mut(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("member '{seg}' not found"))?;
    }
    match target {
        Value::Object(map) => match op.op {
            Op::Add => {
                map.insert(last.clone(), op.value.clone().unwrap_or(Value::Null));
            }
            Op::Replace => {
                let slot = map
                    .get_mut(last)
                    .ok_or_else(|| format!("can't replace a non-existent object '{last}'"))?;
                *slot = op.value.clone().unwrap_or(Value::Null);
            }
            Op::Remove => {
                map.remove(last)
                    .ok_or_else(|| format!("can't remove a non-existent object '{last}'"))?;
            }
        },
        Value::Array(items) => {
            let index = if last == "-" && op.op == Op::Add {
                items.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("'{last}' is not a valid list index"))?
            };
            match op.op {
                Op::Add if index <= items.len() => {
                    items.insert(index, op.value.clone().unwrap_or(Value::Null))
                }
                Op::Replace if index < items.len() => {
                    items[index] = op.value.clone().unwrap_or(Value::Null)
                }
                Op::Remove if index < items.len() => {
                    items.remove(index);
                }
                _ => return Err(format!("list index '{last}' is out of range")),
            }
        }
        _ => {
            return Err(format!(
                "member '{}' is not an object or a list",
                parents.last().expect("non-empty")
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[(&str, u16)] = &[("extra", 1), ("name", 5), ("owner", 50)];

    fn run(doc: Value, patch: Value) -> Result<Value, ApiError> {
        let ops = parse(patch, FIELDS, Microversion::v1(65))?;
        let mut map = doc.as_object().unwrap().clone();
        apply(&mut map, &ops)?;
        Ok(Value::Object(map))
    }

    #[test]
    fn nested_add_replace_remove() {
        let doc = json!({"extra": {"a": 1}, "name": "n"});
        let out = run(
            doc,
            json!([
                {"op": "add", "path": "/extra/b", "value": {"c": 2}},
                {"op": "replace", "path": "/extra/a", "value": 3},
                {"op": "add", "path": "/extra/b/d", "value": true},
                {"op": "remove", "path": "/name"},
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"extra": {"a": 3, "b": {"c": 2, "d": true}}, "name": null})
        );
    }

    #[test]
    fn refusals() {
        let doc = json!({"extra": {}, "name": null});
        let status = |p: Value| run(doc.clone(), p).unwrap_err().status.as_u16();
        assert_eq!(status(json!({"op": "add"})), 400);
        assert_eq!(
            status(json!([{"op": "move", "path": "/extra/a", "from": "/extra/b"}])),
            400
        );
        assert_eq!(
            status(json!([{"op": "copy", "path": "/extra/a", "value": 1}])),
            400
        );
        assert_eq!(
            status(json!([{"op": "add", "path": "/extra/a.b", "value": 1}])),
            400
        );
        assert_eq!(
            status(json!([{"op": "add", "path": "extra/a", "value": 1}])),
            400
        );
        assert_eq!(
            status(json!([{"op": "add", "path": "/bogus", "value": 1}])),
            400
        );
        assert_eq!(status(json!([{"op": "add", "path": "/extra/a"}])), 400);
        assert_eq!(
            status(json!([{"op": "remove", "path": "/extra/missing"}])),
            400
        );
        assert_eq!(
            status(json!([{"op": "replace", "path": "/extra/missing", "value": 1}])),
            400
        );
        let ops = parse(
            json!([{"op": "add", "path": "/owner", "value": "x"}]),
            FIELDS,
            Microversion::v1(40),
        );
        assert_eq!(ops.unwrap_err().status.as_u16(), 406);
    }
}
