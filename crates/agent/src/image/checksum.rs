//! Image checksums: which digest an `image_info` asks for (`os_hash_algo` +
//! `os_hash_value`, or the legacy `checksum` whose length names the algorithm), the
//! checksum files some of them point at, and the hasher fed as the image streams by.

use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

/// A supported digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Md5,
    Sha256,
    Sha512,
}

impl Algo {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "md5" => Some(Algo::Md5),
            "sha256" => Some(Algo::Sha256),
            "sha512" => Some(Algo::Sha512),
            _ => None,
        }
    }

    /// The algorithm a hex digest of this length comes from.
    pub fn by_length(len: usize) -> Option<Self> {
        match len {
            32 => Some(Algo::Md5),
            64 => Some(Algo::Sha256),
            128 => Some(Algo::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
}

/// The digest an image must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub algo: Algo,
    pub hex: String,
}

/// A running digest.
pub enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algo: Algo) -> Self {
        match algo {
            Algo::Md5 => Hasher::Md5(Md5::new()),
            Algo::Sha256 => Hasher::Sha256(Sha256::new()),
            Algo::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Finds the digest of `file_name` in a checksum file: a bare digest, or lines of
/// `<hash> <name>`, `<hash> *<name>` or `ALGO (<name>) = <hash>` (`#` lines skipped).
pub fn from_checksum_file(text: &str, file_name: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if let [only] = lines[..] {
        if !only.contains(char::is_whitespace) {
            return Some(only.to_ascii_lowercase());
        }
    }
    for line in lines {
        if let Some((head, hash)) = line.split_once(") = ") {
            if head.split_once(" (").map(|(_, n)| n) == Some(file_name) {
                return Some(hash.trim().to_ascii_lowercase());
            }
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(hash), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        if name.trim_start_matches('*') == file_name {
            return Some(hash.to_ascii_lowercase());
        }
    }
    None
}

/// Checks that `hex` is a digest `algo` could produce.
pub fn check_hex(algo: Algo, hex: &str) -> Result<(), String> {
    let want = match algo {
        Algo::Md5 => 32,
        Algo::Sha256 => 64,
        Algo::Sha512 => 128,
    };
    if hex.len() != want || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{hex:?} is not a {} digest ({want} hex digits)",
            algo.name()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let mut h = Hasher::new(Algo::Sha256);
        h.update(b"abc");
        assert_eq!(
            h.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Hasher::new(Algo::Md5);
        h.update(b"abc");
        assert_eq!(h.hex(), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn checksum_files() {
        assert_eq!(from_checksum_file("ABCD\n", "x").as_deref(), Some("abcd"));
        let sums = "# comment\naaaa  other.img\nbbbb *disk.img\n";
        assert_eq!(
            from_checksum_file(sums, "disk.img").as_deref(),
            Some("bbbb")
        );
        let bsd = "SHA256 (disk.img) = CCCC\n";
        assert_eq!(from_checksum_file(bsd, "disk.img").as_deref(), Some("cccc"));
        assert_eq!(from_checksum_file(sums, "missing.img"), None);
    }
}
