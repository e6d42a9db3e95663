//! UTC timestamps with microsecond precision, rendered the way Ironic renders them:
//! ISO 8601 with an explicit `+00:00` offset. The fixed-width text form sorts the same
//! as the instants it names, so it is also how the database stores them.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An instant, as microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(i64);

/// Why a string is not a timestamp in Ferric's stored form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {0:?}")]
pub struct InvalidTimestamp(pub String);

impl Timestamp {
    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(d.as_micros() as i64)
    }

    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Now, or just after `previous` if that is not in the past: the next
    /// `updated_at` of a row, so a conditional update always moves it.
    pub fn after(previous: Option<Timestamp>) -> Self {
        let now = Timestamp::now();
        match previous {
            Some(p) if p >= now => Timestamp(p.0 + 1),
            _ => now,
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }
}

impl TryFrom<String> for Timestamp {
    type Error = InvalidTimestamp;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bad = || InvalidTimestamp(s.clone());
        let b = s.as_bytes();
        if b.len() != 32 || &s[26..] != "+00:00" || b[4] != b'-' || b[10] != b'T' || b[19] != b'.' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| bad());
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
        let days = days_from_civil(y, mo as u32, d as u32);
        Ok(Self(
            ((days * 86_400 + h * 3600 + mi * 60 + se) * 1_000_000) + us,
        ))
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000+00:00");
        // 2016-08-18T22:28:48.643434Z
        assert_eq!(
            Timestamp(1_471_559_328_643_434).to_string(),
            "2016-08-18T22:28:48.643434+00:00"
        );
    }

    #[test]
    fn round_trips_through_text() {
        for micros in [
            0,
            1,
            951_782_400_000_000,
            1_471_559_328_643_434,
            4_102_444_799_999_999,
        ] {
            let t = Timestamp(micros);
            assert_eq!(Timestamp::try_from(t.to_string()).unwrap(), t);
        }
        assert!(Timestamp::try_from("2016-08-18".to_string()).is_err());
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp(1_000_000_000_000_000).to_string();
        let b = Timestamp(1_000_000_000_000_001).to_string();
        assert!(a < b);
    }
}
