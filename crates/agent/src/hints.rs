//! Root device hints (`properties.root_device` / `instance_info.root_device`): pick
//! the disk an image is written to. Keys and operators are those Ironic documents:
//! numeric `==` `!=` `<` `<=` `>` `>=` `=` (at least), string `s==` `s!=` `s<`
//! `s<=` `s>` `s>=`, and `<in>`, `<or>`, `<all-in>`, `<range-in>`.

use serde_json::{Map, Value};

use crate::disks::Disk;

const KEYS: &[&str] = &[
    "name",
    "size",
    "model",
    "vendor",
    "serial",
    "wwn",
    "wwn_with_extension",
    "wwn_vendor_extension",
    "rotational",
    "hctl",
    "by_path",
    "tran",
];

const MIN_ROOT_SIZE: u64 = 4 << 30;

/// Chooses the disk: the first matching every hint, or without hints the smallest
/// disk of at least 4 GiB (any disk in test mode, where the disk is a small file).
pub fn choose<'a>(
    disks: &'a [Disk],
    hints: Option<&Map<String, Value>>,
    test_mode: bool,
) -> Result<&'a Disk, String> {
    let Some(hints) = hints.filter(|h| !h.is_empty()) else {
        return disks
            .iter()
            .find(|d| test_mode || d.size >= MIN_ROOT_SIZE)
            .ok_or_else(|| "no disk of at least 4 GiB was found".to_string());
    };
    if let Some(bad) = hints.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "root device hint {bad} is not one of {}",
            KEYS.join(", ")
        ));
    }
    for d in disks {
        let mut all = true;
        for (k, v) in hints {
            if !matches(d, k, v)? {
                all = false;
                break;
            }
        }
        if all {
            return Ok(d);
        }
    }
    Err(format!(
        "no disk matches the root device hints {}",
        Value::Object(hints.clone())
    ))
}

fn field(d: &Disk, key: &str) -> Option<String> {
    match key {
        "name" => Some(d.path.display().to_string()),
        "model" => d.model.clone(),
        "vendor" => d.vendor.clone(),
        "serial" => d.serial.clone(),
        "wwn" | "wwn_with_extension" => d.wwn.clone(),
        "hctl" => d.hctl.clone(),
        "by_path" => d.by_path.clone(),
        "tran" => d.tran.clone(),
        _ => None,
    }
}

fn matches(d: &Disk, key: &str, hint: &Value) -> Result<bool, String> {
    match key {
        "size" => {
            let gib = (d.size >> 30) as f64;
            match hint {
                Value::Number(n) => Ok(n.as_f64() == Some(gib)),
                Value::String(s) => numeric(gib, s),
                _ => Err(format!("root device hint size={hint} is not a number")),
            }
        }
        "rotational" => {
            let want = match hint {
                Value::Bool(b) => *b,
                Value::String(s) => {
                    matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
                }
                Value::Number(n) => n.as_i64() == Some(1),
                _ => {
                    return Err(format!(
                        "root device hint rotational={hint} is not a boolean"
                    ))
                }
            };
            Ok(d.rotational == Some(want))
        }
        _ => {
            let Some(have) = field(d, key) else {
                return Ok(false);
            };
            let want = match hint {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let want = if key == "name" && !want.starts_with('/') && !want.contains(' ') {
                format!("/dev/{want}")
            } else {
                want
            };
            stringy(&normalize(&have), &want)
        }
    }
}

/// Lower-cases and percent-encodes a value, as both sides are compared.
fn normalize(s: &str) -> String {
    let mut out = String::new();
    for b in s.to_lowercase().bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn split_op(expr: &str) -> (Option<&str>, &str) {
    let t = expr.trim();
    for op in [
        "<all-in>",
        "<range-in>",
        "<in>",
        "<or>",
        "s==",
        "s!=",
        "s<=",
        "s>=",
        "s<",
        "s>",
        "==",
        "!=",
        "<=",
        ">=",
        "<",
        ">",
        "=",
    ] {
        if let Some(rest) = t.strip_prefix(op) {
            return (Some(op), rest.trim());
        }
    }
    (None, t)
}

fn stringy(have: &str, expr: &str) -> Result<bool, String> {
    let (op, rest) = split_op(expr);
    if op == Some("<or>") {
        return Ok(expr
            .split("<or>")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .any(|alt| stringy(have, alt).unwrap_or(false)));
    }
    let want = normalize(rest);
    Ok(match op {
        None | Some("s==") | Some("==") => have == want,
        Some("s!=") | Some("!=") => have != want,
        Some("s<") => have < want.as_str(),
        Some("s<=") => have <= want.as_str(),
        Some("s>") => have > want.as_str(),
        Some("s>=") => have >= want.as_str(),
        Some("<in>") => have.contains(&want),
        Some("<all-in>") => rest
            .split_whitespace()
            .all(|w| have.contains(&normalize(w))),
        Some(op) => return Err(format!("operator {op} does not apply to text")),
    })
}

fn numeric(have: f64, expr: &str) -> Result<bool, String> {
    let (op, rest) = split_op(expr);
    if op == Some("<or>") {
        return Ok(expr
            .split("<or>")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .any(|alt| numeric(have, alt).unwrap_or(false)));
    }
    if op == Some("<range-in>") {
        let r = rest.trim();
        let (lo_incl, hi_incl) = (r.starts_with('['), r.ends_with(']'));
        let inner = r.trim_matches(|c| "[]()".contains(c));
        let mut parts = inner.split_whitespace().map(str::parse::<f64>);
        let (Some(Ok(lo)), Some(Ok(hi))) = (parts.next(), parts.next()) else {
            return Err(format!("bad range {rest}"));
        };
        let above = if lo_incl { have >= lo } else { have > lo };
        let below = if hi_incl { have <= hi } else { have < hi };
        return Ok(above && below);
    }
    let want: f64 = rest
        .parse()
        .map_err(|_| format!("root device hint size {expr} is not a number"))?;
    Ok(match op {
        None | Some("==") => have == want,
        Some("!=") => have != want,
        Some("<") => have < want,
        Some("<=") => have <= want,
        Some(">") => have > want,
        Some(">=") | Some("=") => have >= want,
        Some(op) => return Err(format!("operator {op} does not apply to numbers")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn disk(name: &str, gib: u64, model: &str, rot: bool) -> Disk {
        Disk {
            path: PathBuf::from(format!("/dev/{name}")),
            size: gib << 30,
            rotational: Some(rot),
            model: Some(model.into()),
            serial: Some(format!("SER-{name}")),
            ..Disk::default()
        }
    }

    fn pick(disks: &[Disk], hints: Value) -> Result<String, String> {
        choose(disks, hints.as_object(), false).map(|d| d.path.display().to_string())
    }

    #[test]
    fn operators() {
        let disks = vec![
            disk("sda", 2, "Tiny", false),
            disk("sdb", 100, "Samsung SSD 860", false),
            disk("sdc", 500, "WDC Gold", true),
        ];
        assert_eq!(pick(&disks, json!({})).unwrap(), "/dev/sdb");
        assert_eq!(pick(&disks, json!({"size": 500})).unwrap(), "/dev/sdc");
        assert_eq!(pick(&disks, json!({"size": ">= 50"})).unwrap(), "/dev/sdb");
        assert_eq!(
            pick(&disks, json!({"size": "<range-in> (100 600]"})).unwrap(),
            "/dev/sdc"
        );
        assert_eq!(
            pick(&disks, json!({"rotational": true})).unwrap(),
            "/dev/sdc"
        );
        assert_eq!(
            pick(&disks, json!({"model": "<in> samsung"})).unwrap(),
            "/dev/sdb"
        );
        assert_eq!(
            pick(&disks, json!({"model": "<all-in> wdc gold"})).unwrap(),
            "/dev/sdc"
        );
        assert_eq!(pick(&disks, json!({"name": "sda"})).unwrap(), "/dev/sda");
        assert_eq!(
            pick(&disks, json!({"serial": "<or> nope <or> ser-sdc"})).unwrap(),
            "/dev/sdc"
        );
        assert_eq!(
            pick(&disks, json!({"model": "s!= tiny", "size": "< 200"})).unwrap(),
            "/dev/sdb"
        );
        assert!(pick(&disks, json!({"size": 7})).is_err());
        assert!(pick(&disks, json!({"colour": "red"})).is_err());
    }
}
