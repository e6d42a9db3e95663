//! Secret masking for API responses: any dictionary key that names a credential
//! (passwords, tokens, keys…) has its value replaced by `******`, at any depth;
//! and comparing secrets without leaking where they differ. `masked` serialises an
//! object as masking would leave it, without copying it (what listings of thousands
//! of nodes use).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
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

/// Masks every secret-named key of `obj`, recursing into nested objects and lists
/// (in place, what [`masked`] shows).
pub fn mask_secrets(obj: &mut JsonObject) {
    if let Ok(Value::Object(shown)) = serde_json::to_value(masked(obj, &[])) {
        *obj = shown;
    }
}

/// `obj` with its secrets masked, as a view that serialises without copying `obj`:
/// every secret-named key's value (at any depth, in lists too; an object under such
/// a key is masked within), and each of `keys` that holds something (not null,
/// false or empty).
pub fn masked<'a>(obj: &'a JsonObject, keys: &'a [&'a str]) -> Masked<'a> {
    Masked { obj, keys }
}

/// See [`masked`].
#[derive(Clone, Copy)]
pub struct Masked<'a> {
    obj: &'a JsonObject,
    keys: &'a [&'a str],
}

impl Serialize for Masked<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.obj.len()))?;
        for (key, value) in self.obj {
            let hidden = (!value.is_object() && is_secret_key(key))
                || (self.keys.contains(&key.as_str()) && !is_empty(value));
            if hidden {
                map.serialize_entry(key, MASK)?;
            } else {
                map.serialize_entry(key, &MaskedValue(value))?;
            }
        }
        map.end()
    }
}

/// A value inside a masked object: its own objects and lists masked in turn.
struct MaskedValue<'a>(&'a Value);

impl Serialize for MaskedValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(inner) => masked(inner, &[]).serialize(serializer),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&MaskedValue(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// What a value of `keys` can hold and still be shown: nothing to hide.
fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false)) || value.as_str() == Some("")
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

    #[test]
    fn the_masked_view_masks_secret_keys_and_the_given_ones() {
        let obj = json!({
            "ipmi_password": "s3cret",
            "token": {"inner_secret": "x", "plain": 1},
            "configdrive": "",
            "image_url": "http://user:pw@host/i",
            "image_source": "glance://i",
            "empty_url": null,
            "list": [{"auth_token": "t"}, [{"password": "p"}], "api_key"],
            "access_key": ["a", "b"],
            "nested": {"deeper": {"sys_pswd": 3, "n": false}},
        })
        .as_object()
        .unwrap()
        .clone();
        let keys = ["configdrive", "image_url", "empty_url", "nested"];
        let view = serde_json::to_value(masked(&obj, &keys)).unwrap();
        assert_eq!(
            view,
            json!({
                "ipmi_password": MASK,
                "token": {"inner_secret": MASK, "plain": 1},
                "configdrive": MASK,
                "image_url": MASK,
                "image_source": "glance://i",
                "empty_url": null,
                "list": [{"auth_token": MASK}, [{"password": MASK}], "api_key"],
                "access_key": MASK,
                "nested": MASK,
            })
        );
        assert_eq!(view["configdrive"], MASK);
        assert_eq!(view["image_source"], "glance://i");
    }
}
