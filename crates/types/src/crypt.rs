//! SHA-256-crypt (`$5$salt$hash`, 5 000 rounds), the password hash a rescue ramdisk
//! is given: the conductor hashes the operator's rescue password so the agent never
//! needs it in clear, and the agent hashes a clear one an older conductor sends.
//! Follows Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification.

use sha2::{Digest, Sha256};

const ROUNDS: usize = 5000;
const MAX_SALT: usize = 16;
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `$5$<salt>$<hash>` for `password`; the salt is cut to 16 characters.
pub fn sha256_crypt(password: &str, salt: &str) -> String {
    let p = password.as_bytes();
    let s = &salt.as_bytes()[..salt.len().min(MAX_SALT)];
    let b = Sha256::new()
        .chain_update(p)
        .chain_update(s)
        .chain_update(p)
        .finalize();
    let mut a = Sha256::new().chain_update(p).chain_update(s);
    a.update(repeat_to(&b, p.len()));
    let mut n = p.len();
    while n > 0 {
        if n & 1 == 1 {
            a.update(b);
        } else {
            a.update(p);
        }
        n >>= 1;
    }
    let a = a.finalize();
    let mut dp = Sha256::new();
    for _ in 0..p.len() {
        dp.update(p);
    }
    let p_seq = repeat_to(&dp.finalize(), p.len());
    let mut ds = Sha256::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(s);
    }
    let s_seq = repeat_to(&ds.finalize(), s.len());
    let mut c = a;
    for i in 0..ROUNDS {
        let mut h = Sha256::new();
        if i % 2 == 1 {
            h.update(&p_seq);
        } else {
            h.update(c);
        }
        if i % 3 != 0 {
            h.update(&s_seq);
        }
        if i % 7 != 0 {
            h.update(&p_seq);
        }
        if i % 2 == 1 {
            h.update(c);
        } else {
            h.update(&p_seq);
        }
        c = h.finalize();
    }
    let mut out = format!("$5${}$", String::from_utf8_lossy(s));
    const ORDER: [(usize, usize, usize); 10] = [
        (0, 10, 20),
        (21, 1, 11),
        (12, 22, 2),
        (3, 13, 23),
        (24, 4, 14),
        (15, 25, 5),
        (6, 16, 26),
        (27, 7, 17),
        (18, 28, 8),
        (9, 19, 29),
    ];
    for (x, y, z) in ORDER {
        encode(&mut out, c[x], c[y], c[z], 4);
    }
    encode(&mut out, 0, c[31], c[30], 3);
    out
}

/// A hash of `password` with a fresh random salt.
pub fn sha256_crypt_random_salt(password: &str) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let salt: String = bytes
        .iter()
        .map(|b| char::from(ITOA64[usize::from(b & 0x3f)]))
        .collect();
    sha256_crypt(password, &salt)
}

/// `digest` repeated (and cut) to `len` bytes.
fn repeat_to(digest: &[u8], len: usize) -> Vec<u8> {
    digest.iter().copied().cycle().take(len).collect()
}

fn encode(out: &mut String, b2: u8, b1: u8, b0: u8, chars: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..chars {
        out.push(char::from(ITOA64[(w & 0x3f) as usize]));
        w >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specification_and_openssl() {
        // `openssl passwd -5 -salt …` gives the same strings.
        assert_eq!(
            sha256_crypt("Hello world!", "saltstring"),
            "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
        assert_eq!(
            sha256_crypt("x", "abc"),
            "$5$abc$sCOGUciM.GdmYMCUvmUcgu03oRH87O0clF96.9mwWGB"
        );
        assert_eq!(
            sha256_crypt("pw", "toolongsaltstringxx"),
            "$5$toolongsaltstrin$Y3vz9Yc/Xx.o6DLddrkbpSLCVwMU7/nP4IbKEArcEi9"
        );
    }

    #[test]
    fn random_salts_differ() {
        let a = sha256_crypt_random_salt("secret");
        let b = sha256_crypt_random_salt("secret");
        assert!(a.starts_with("$5$") && a.len() == 3 + 16 + 1 + 43);
        assert_ne!(a, b);
    }
}
