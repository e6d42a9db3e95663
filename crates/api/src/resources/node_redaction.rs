//! What a caller below the `baremetal:node:get:filter_threshold` (system reader) sees
//! of a node: `last_error`, `reservation`, `driver_info` and `driver_internal_info`
//! each replaced by Ironic's redaction text unless the caller passes that field's
//! own rule (owners do, lessees do not). The texts are Ironic's to the letter:
//! clients such as Nova show them to users.

use ferric_types::Node;
use serde_json::{json, Value};

use crate::access::{node_target, Access};
use crate::shaped::{Replacement, Shaped};

/// The fields, and what replaces each.
fn replacement(field: &str) -> Value {
    match field {
        "last_error" => {
            json!("** Value Redacted - Requires baremetal:node:get:last_error permission. **")
        }
        "reservation" => {
            json!("** Redacted - requires baremetal:node:get:reservation permission. **")
        }
        "driver_internal_info" => json!({
            "content": "** Redacted - Requires baremetal:node:get:driver_internal_info permission. **"
        }),
        _ => json!({
            "content": "** Redacted - requires baremetal:node:get:driver_info permission. **"
        }),
    }
}

const FIELDS: [&str; 4] = [
    "last_error",
    "reservation",
    "driver_internal_info",
    "driver_info",
];

/// Redacts what `shaped` shows of `node` for `access`'s caller.
pub fn redact(access: &Access, node: &Node, shaped: &mut Shaped<'_, Node>) {
    if !access.is_restricted() {
        return;
    }
    let target = node_target(node);
    if access.allows("baremetal:node:get:filter_threshold", &target) {
        return;
    }
    for field in FIELDS {
        if !access.allows(&format!("baremetal:node:get:{field}"), &target) {
            shaped.replace(field, Replacement::Value(replacement(field)));
        }
    }
}
