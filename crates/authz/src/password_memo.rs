//! Password checks, remembered and bounded. bcrypt costs a quarter of a second by
//! design; a client sending the same password with every request (HTTP basic) or
//! logging in again and again must not cost that each time, so results are
//! remembered — a digest of (user, stored hash, password) and whether it matched,
//! never the password; a changed hash is a different key, so nothing stale is
//! believed. And a flood of wrong passwords must not take every core from the rest
//! of the service: at most half the cores (at least one) run bcrypt at once, the
//! other checks wait their turn.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// How many results are remembered; the memo starts afresh when full.
const SIZE: usize = 256;

#[derive(Debug)]
pub struct PasswordMemo {
    known: Mutex<HashMap<[u8; 32], bool>>,
    /// Permits to run bcrypt.
    running: Semaphore,
}

impl Default for PasswordMemo {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            known: Mutex::default(),
            running: Semaphore::new((cores / 2).max(1)),
        }
    }
}

/// The memo's key for one check.
fn memo_key(user: &str, hash: &str, password: &str) -> [u8; 32] {
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
    /// Whether `password` matches `user`'s bcrypt `hash` (any other hash: no).
    pub async fn verify(&self, user: &str, hash: &str, password: &str) -> bool {
        let key = memo_key(user, hash, password);
        if let Some(known) = self.get(&key) {
            return known;
        }
        let Ok(_permit) = self.running.acquire().await else {
            return false;
        };
        // Another check of the same password may have finished while this one waited.
        if let Some(known) = self.get(&key) {
            return known;
        }
        let (hash, password) = (hash.to_string(), password.to_string());
        let ok =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        self.put(key, ok);
        ok
    }

    fn get(&self, key: &[u8; 32]) -> Option<bool> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
    }

    fn put(&self, key: [u8; 32], ok: bool) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= SIZE {
            known.clear();
        }
        known.insert(key, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_are_remembered_and_only_bcrypt_matches() {
        let memo = PasswordMemo::default();
        let hash = bcrypt::hash("pw", 4).unwrap();
        assert!(memo.verify("u", &hash, "pw").await);
        assert!(!memo.verify("u", &hash, "other").await);
        assert_eq!(memo.get(&memo_key("u", &hash, "pw")), Some(true));
        assert!(!memo.verify("u", "$apr1$x$y", "pw").await);
    }
}
