//! JSON values written as YAML (block style), for `--format yaml`: mappings and
//! sequences indented two spaces, strings quoted (JSON-style, which YAML reads)
//! whenever plain text could be read as something else.

use serde_json::Value;

/// `value` as a YAML document.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match scalar(value) {
        Some(s) => {
            out.push_str(&s);
            out.push('\n');
        }
        None => block(value, 0, &mut out),
    }
    out
}

/// A value that fits on its key's line: scalars and empty collections.
fn scalar(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => text(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// A string, plain when YAML would read it back as the same string.
fn text(s: &str) -> String {
    let special = s.is_empty()
        || s.trim() != s
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control() || c == '"' || c == '\'')
        || s.starts_with(|c: char| "-?:,[]{}#&*!|>%@`".contains(c))
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        || s.parse::<f64>().is_ok();
    if special {
        Value::from(s).to_string()
    } else {
        s.to_string()
    }
}

fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push_str(&pad);
                out.push_str(&text(k));
                out.push(':');
                match scalar(v) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        block(v, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                out.push_str(&pad);
                out.push_str("- ");
                match scalar(v) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        // The item's first line goes after the dash.
                        let mut nested = String::new();
                        block(v, indent + 2, &mut nested);
                        out.push_str(&nested[indent + 2..]);
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other).unwrap_or_default());
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let v = json!({"name": "n1", "on": true, "n": 3, "empty": {}, "list": [1, "a b", {"k": null}],
            "tricky": ["yes", "1.5", "", "a: b", "#x", "line\nbreak"]});
        assert_eq!(
            to_yaml(&v),
            "empty: {}\nlist:\n  - 1\n  - a b\n  - k: null\n\"n\": 3\nname: n1\n\"on\": true\n\
             tricky:\n  - \"yes\"\n  - \"1.5\"\n  - \"\"\n  - \"a: b\"\n  - \"#x\"\n  - \"line\\nbreak\"\n"
        );
    }
}
