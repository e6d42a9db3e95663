//! Node traits: custom traits (`CUSTOM_[A-Z0-9_]+`) and the standard traits of the
//! os-traits catalogue (names listed in `standard_traits.txt`).

/// The most traits a node may carry.
pub const MAX_TRAITS_PER_NODE: usize = 50;

/// The standard trait names, one per line.
const STANDARD_TRAITS: &str = include_str!("standard_traits.txt");

/// The error text for an invalid trait name.
pub fn invalid_trait_message(trait_name: &str) -> String {
    format!(
        "Schema error for trait: '{trait_name}' is not valid under any of the given schemas. \
         Possible root cause: '{trait_name}' does not match '^CUSTOM_[A-Z0-9_]+$' and is not \
         a standard trait"
    )
}

/// True when `name` is a valid trait name.
pub fn is_valid_trait(name: &str) -> bool {
    let charset_ok = name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if name.is_empty() || name.len() > 255 || !charset_ok {
        return false;
    }
    match name.strip_prefix("CUSTOM_") {
        Some(rest) => !rest.is_empty(),
        None => STANDARD_TRAITS.lines().any(|t| t == name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trait_names() {
        assert!(is_valid_trait("CUSTOM_GOLD"));
        assert!(is_valid_trait("HW_CPU_X86_AVX2"));
        assert!(!is_valid_trait("CUSTOM_"));
        assert!(!is_valid_trait("custom_gold"));
        assert!(!is_valid_trait("bad-trait"));
        assert!(!is_valid_trait("GOLD"));
        assert!(!is_valid_trait("HW_NOT_A_REAL_TRAIT"));
        assert!(!is_valid_trait(""));
    }
}
