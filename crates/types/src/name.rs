//! Logical names of nodes, port groups and other resources: up to 255 characters of
//! RFC 3986 "unreserved" characters, never shaped like a UUID, never a reserved word
//! of the node URL space.

use crate::ids::is_uuid_like;

/// Words that cannot name a node because they are path segments of `/v1/nodes/…`.
const RESERVED_NODE_NAMES: &[&str] = &[
    "detail",
    "validate",
    "states",
    "vendor_passthru",
    "management",
    "maintenance",
];

/// True when `name` is a valid logical name (API 1.10+ rules).
pub fn is_valid_logical_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        && !is_uuid_like(name)
}

/// True when `name` is a valid node name: a logical name that is not a reserved word.
pub fn is_valid_node_name(name: &str) -> bool {
    is_valid_logical_name(name) && !RESERVED_NODE_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_node_name("node-0.rack_1~a"));
        assert!(!is_valid_node_name("a b"));
        assert!(!is_valid_node_name(""));
        assert!(!is_valid_node_name("detail"));
        assert!(!is_valid_node_name("1be26c0b-03f2-4d2e-ae87-c02d7f33c123"));
        assert!(!is_valid_node_name(&"x".repeat(256)));
        assert!(is_valid_logical_name("maintenance"));
    }
}
