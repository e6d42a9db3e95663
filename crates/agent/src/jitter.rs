//! Random jitter for retry and heartbeat intervals (a small xorshift generator: the
//! spread only has to keep a rack of agents from calling in lockstep).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static STATE: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}

/// A uniform random factor in `[lo, hi)`.
pub fn uniform(lo: f64, hi: f64) -> f64 {
    let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
    lo + (hi - lo) * unit
}

/// `base` scaled by a random factor in `[lo, hi)`.
pub fn scaled(base: Duration, lo: f64, hi: f64) -> Duration {
    base.mul_f64(uniform(lo, hi))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stays_in_range() {
        for _ in 0..1000 {
            let u = super::uniform(0.3, 0.6);
            assert!((0.3..0.6).contains(&u));
        }
    }
}
