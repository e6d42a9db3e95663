//! API microversions (`1.N`): parsing, ordering, and the range this server supports.

use std::fmt;

/// An API microversion. Only major version 1 exists; `minor` is the `N` of `1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    pub major: u16,
    pub minor: u16,
}

impl Microversion {
    /// The oldest microversion served.
    pub const MIN: Microversion = Microversion::v1(1);
    /// The newest microversion whose features this build implements.
    pub const MAX: Microversion = Microversion::v1(115);

    pub const fn v1(minor: u16) -> Self {
        Self { major: 1, minor }
    }

    /// True when this version is at least `1.minor`.
    pub fn at_least(self, minor: u16) -> bool {
        self >= Self::v1(minor)
    }

    /// Parses `major.minor` (digits only). `latest` is the caller's business.
    pub fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.trim().split_once('.')?;
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(Self {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    /// True when the server serves this version.
    pub fn is_supported(self) -> bool {
        (Self::MIN..=Self::MAX).contains(&self)
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!(Microversion::parse("1.9"), Some(Microversion::v1(9)));
        assert!(Microversion::parse("1.10").unwrap() > Microversion::parse("1.9").unwrap());
        for bad in ["", "1", "1.", ".1", "a.b", "1.2.3", "1.-1", "v1.2"] {
            assert_eq!(Microversion::parse(bad), None, "{bad}");
        }
        assert!(!Microversion::parse("2.1").unwrap().is_supported());
        assert!(Microversion::MAX.is_supported());
    }
}
