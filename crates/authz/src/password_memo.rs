//! Remembered password checks. bcrypt costs a quarter of a second by design; a
//! client sending the same password with every request (HTTP basic) or logging in
//! again and again must not cost that each time. What is remembered is a digest of
//! (user, stored hash, password) and whether it matched, never the password; a
//! changed hash is a different key, so nothing stale is believed.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// How many results are remembered; the memo starts afresh when full.
const SIZE: usize = 256;

#[derive(Debug, Default)]
pub struct PasswordMemo {
    known: Mutex<HashMap<[u8; 32], bool>>,
}

/// The memo's key for one check.
pub fn memo_key(user: &str, hash: &str, password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(user)
        .chain_update([0])
        .chain_update(hash)
        .chain_update([0])
        .chain_update(password)
        .finalize()
        .into()
}

impl PasswordMemo {
    /// A remembered result.
    pub fn get(&self, key: &[u8; 32]) -> Option<bool> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
    }

    /// Remembers a result.
    pub fn put(&self, key: [u8; 32], ok: bool) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= SIZE {
            known.clear();
        }
        known.insert(key, ok);
    }
}
