//! Checking a condition: its arguments interpolated, its operator applied (with
//! Python's comparison semantics), negated by a leading `!`, and, with a `loop`,
//! once per item, the results combined by `multiple`.

use serde_json::Value;

use super::args::{bind, Args};
use super::context::RuleContext;
use super::interpolate::{Mode, Scope};
use super::net::{parse_addr, IpNet};
use super::ops::Operator;
use super::pyvalue::{py_contains, py_eq, py_lt, py_repr, py_str, type_name};
use super::rule::{Condition, Multiple};
use super::run::{full_match_pattern, Run};

/// Whether `cond` holds for `ctx`.
pub(crate) fn check(cond: &Condition, ctx: &RuleContext, run: &mut Run) -> Result<bool, String> {
    let items = match &cond.loop_items {
        Some(Value::Array(items)) => items,
        Some(map @ Value::Object(_)) => return check_once(cond, ctx, Some(map), run),
        _ => return check_once(cond, ctx, None, run),
    };
    match cond.multiple {
        Multiple::First => match items.first() {
            Some(item) => check_once(cond, ctx, Some(item), run),
            None => Ok(false),
        },
        multiple => {
            // Every item is checked, as Ironic does, so an error anywhere surfaces.
            let mut results = Vec::with_capacity(items.len());
            for item in items {
                results.push(check_once(cond, ctx, Some(item), run)?);
            }
            Ok(match multiple {
                Multiple::All => results.iter().all(|r| *r),
                Multiple::Last => results.last().copied().unwrap_or(false),
                _ => results.iter().any(|r| *r),
            })
        }
    }
}

fn check_once(
    cond: &Condition,
    ctx: &RuleContext,
    item: Option<&Value>,
    run: &mut Run,
) -> Result<bool, String> {
    let op = cond.op.operator;
    let sig = op.signature();
    let bound = bind(&cond.args, &sig, false)?;
    let scope = Scope {
        node: &ctx.node,
        inventory: &ctx.inventory,
        plugin_data: &ctx.plugin_data,
        item,
        mask: run.mask,
    };
    let mode = Mode {
        in_loop: item.is_some(),
        missing_is_null: op == Operator::IsEmpty,
    };
    let args = Args::interpolate(bound, &sig, &scope, mode, &mut run.unformatted);
    let result = evaluate(op, &args, item.is_some(), run)?;
    Ok(result != cond.op.negated)
}

fn evaluate(op: Operator, args: &Args<'_>, in_loop: bool, run: &mut Run) -> Result<bool, String> {
    match op {
        Operator::Eq | Operator::Lt | Operator::Gt => {
            // Inside loops Ironic compares as strings, since items interpolate to text.
            compare(
                op,
                args.req("values"),
                in_loop || args.flag("force_strings"),
            )
        }
        Operator::IsEmpty => Ok(matches!(
            py_str(args.req("value")).as_str(),
            "" | "None" | "[]" | "{}"
        )),
        Operator::InNet => {
            let subnet = match args.req("subnet") {
                Value::String(s) => IpNet::parse(s),
                other => Err(format!("expected a network, got {}", type_name(other))),
            }
            .map_err(|e| format!("invalid value: {e}"))?;
            let address = match args.req("address") {
                Value::String(s) => parse_addr(s)?,
                other => {
                    return Err(format!(
                        "invalid value: expected an IP address, got {}",
                        type_name(other)
                    ))
                }
            };
            Ok(subnet.contains(address))
        }
        Operator::Matches | Operator::Contains => {
            let regex = args.string("regex")?;
            let value = py_str(args.req("value"));
            if op == Operator::Matches {
                if regex.is_empty() {
                    return Err("argument 'regex' must not be empty".into());
                }
                Ok(run.regex(&full_match_pattern(regex))?.is_match(&value))
            } else {
                Ok(run.regex(regex)?.is_match(&value))
            }
        }
        Operator::OneOf => {
            let empty = Value::Array(Vec::new());
            let values = args.get("values").unwrap_or(&empty);
            let value = args.req("value");
            Ok(py_contains(values, value)?
                || values.as_array().is_some_and(|items| {
                    items.iter().any(|i| {
                        let (x, y) = numbers_alike(i, value);
                        py_eq(&x, &y)
                    })
                }))
        }
        Operator::IsNone => Ok(args.req("value").is_null()),
        Operator::IsTrue => Ok(match args.req("value") {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => matches!(s.to_lowercase().as_str(), "yes" | "true"),
            _ => false,
        }),
        Operator::IsFalse => Ok(match args.req("value") {
            Value::Bool(b) => !*b,
            Value::Number(n) => n.as_f64().is_none_or(|f| f == 0.0),
            Value::String(s) => matches!(s.to_lowercase().as_str(), "no" | "false"),
            Value::Null => true,
            _ => false,
        }),
    }
}

/// A number beside a string that spells one compares as two numbers. Ferric keeps
/// an argument that is one whole reference (`{inventory[cpu][count]}`) as the JSON
/// value it names, where Ironic makes it a string; so a rule written for Ironic
/// (`eq ["{inventory[cpu][count]}", "4"]`) still holds, and `gt` against a number
/// works instead of raising Python's TypeError.
fn numbers_alike(a: &Value, b: &Value) -> (Value, Value) {
    let spelled = |v: &Value| match v {
        Value::String(s) => s.trim().parse::<i64>().map(Value::from).ok().or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
        }),
        _ => None,
    };
    match (a, b) {
        (Value::Number(_), Value::String(_)) => match spelled(b) {
            Some(n) => (a.clone(), n),
            None => (a.clone(), b.clone()),
        },
        (Value::String(_), Value::Number(_)) => match spelled(a) {
            Some(n) => (n, b.clone()),
            None => (a.clone(), b.clone()),
        },
        _ => (a.clone(), b.clone()),
    }
}

/// `eq`, `lt`, `gt`: every adjacent pair of `values` compares as asked.
fn compare(op: Operator, values: &Value, force_strings: bool) -> Result<bool, String> {
    let Value::Array(values) = values else {
        return Err(format!(
            "Failed to check condition: '{}' on values: {}: Expected list for 'values', got: {}",
            op.name(),
            py_repr(values),
            type_name(values)
        ));
    };
    let strings;
    let values = if force_strings {
        strings = values
            .iter()
            .map(|v| Value::String(py_str(v)))
            .collect::<Vec<_>>();
        &strings
    } else {
        values
    };
    for pair in values.windows(2) {
        let (a, b) = numbers_alike(&pair[0], &pair[1]);
        let (a, b) = (&a, &b);
        let holds = match op {
            Operator::Lt => py_lt(a, b)?,
            Operator::Gt => py_lt(b, a).map_err(|_| {
                format!(
                    "'>' not supported between instances of '{}' and '{}'",
                    type_name(a),
                    type_name(b)
                )
            })?,
            _ => py_eq(a, b),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}
