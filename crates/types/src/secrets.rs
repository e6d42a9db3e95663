//! Secret masking for API responses: any dictionary key that names a credential
//! (passwords, tokens, keys…) has its value replaced by `******`, at any depth;
//! and comparing secrets without leaking where they differ.

use serde_json::Value;

use crate::JsonObject;

/// What a masked value reads as.
pub const MASK: &str = "******";

/// Key fragments that mark a value as secret, matched case-insensitively as substrings
/// of the key: the set oslo.utils uses for Ironic's masking, plus API-key spellings.
const SECRET_KEY_FRAGMENTS: &[&str] = &[
    "adminpass",
    "admin_pass",
    "password",
    "admin_password",
    "auth_token",
    "new_pass",
    "auth_password",
    "secret_uuid",
    "secret",
    "sys_pswd",
    "token",
    "configdrive",
    "chappassword",
    "encrypted_key",
    "private_key",
    "fernetkey",
    "sslkey",
    "passphrase",
    "cephclusterfsid",
    "octaviaheartbeatkey",
    "rabbitcookie",
    "cephmanilaclientkey",
    "pacemakerremoteauthkey",
    "designaterndckey",
    "cephadminkey",
    "heatauthencryptionkey",
    "cephclientkey",
    "keystonecredential",
    "barbicansimplecryptokek",
    "cephrgwkey",
    "swifthashsuffix",
    "migrationsshkey",
    "cephmdskey",
    "cephmonkey",
    "chapsecret",
    "access_key",
    "apikey",
    "api_key",
];

/// Whether two secrets (agent tokens) are equal, in time that does not depend on
/// where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True when the key names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEY_FRAGMENTS.iter().any(|frag| key.contains(frag))
}

/// Masks every secret-named key of `obj`, recursing into nested objects.
pub fn mask_secrets(obj: &mut JsonObject) {
    for (key, value) in obj.iter_mut() {
        if let Value::Object(inner) = value {
            mask_secrets(inner);
        } else if is_secret_key(key) {
            *value = Value::String(MASK.to_string());
        } else if let Value::Array(items) = value {
            mask_in_list(items);
        }
    }
}

fn mask_in_list(items: &mut [Value]) {
    for item in items {
        match item {
            Value::Object(inner) => mask_secrets(inner),
            Value::Array(nested) => mask_in_list(nested),
            _ => {}
        }
    }
}

/// Masks the given keys of `obj` (exact names) where they hold a non-empty value.
pub fn mask_keys(obj: &mut JsonObject, keys: &[&str]) {
    for key in keys {
        if let Some(v) = obj.get_mut(*key) {
            let empty = matches!(v, Value::Null | Value::Bool(false)) || v.as_str() == Some("");
            if !empty {
                *v = Value::String(MASK.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_secret_keys_at_any_depth() {
        let mut obj = json!({
            "ipmi_password": "s3cret",
            "ipmi_username": "admin",
            "redfish_Password": "x",
            "nested": {"agent_token": "t", "address": "10.0.0.1"},
        })
        .as_object()
        .unwrap()
        .clone();
        mask_secrets(&mut obj);
        assert_eq!(
            Value::Object(obj),
            json!({
                "ipmi_password": MASK,
                "ipmi_username": "admin",
                "redfish_Password": MASK,
                "nested": {"agent_token": MASK, "address": "10.0.0.1"},
            })
        );
    }
}
