//! What a conductor knows of its own standing: when its heartbeat last reached the
//! database, since when it has done so without a gap, and whether it is draining.
//! A conductor whose heartbeat has failed for nearly the heartbeat timeout may
//! already be counted dead by its peers, who would take its nodes: it is *fenced*
//! and starts no new work. It judges peers dead only after its own heartbeats have
//! succeeded for a whole timeout — so after a database outage, when every row
//! looks stale, nobody takes over anybody before the others had a chance to
//! heartbeat again.

use std::sync::Mutex;
use std::time::Instant;

use ferric_conductor_api::Heartbeats;

#[derive(Debug, Default)]
struct Standing {
    /// The last heartbeat that reached the database.
    last_ok: Option<Instant>,
    /// The first heartbeat of the current unbroken run of good ones.
    healthy_since: Option<Instant>,
    /// Draining or stopping: out of the rings, no new work.
    leaving: bool,
}

/// A conductor's own standing.
#[derive(Debug)]
pub(crate) struct Liveness {
    pub settings: Heartbeats,
    standing: Mutex<Standing>,
}

impl Liveness {
    pub fn new(settings: Heartbeats) -> Self {
        Self {
            settings,
            standing: Mutex::new(Standing::default()),
        }
    }

    fn standing(&self) -> std::sync::MutexGuard<'_, Standing> {
        self.standing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records whether a heartbeat reached the database. A good one that comes
    /// more than two intervals after the one before (the database stalled rather
    /// than failed) breaks the run like a failure.
    pub fn heartbeat(&self, ok: bool) {
        let mut s = self.standing();
        if ok {
            let now = Instant::now();
            let gap = s
                .last_ok
                .is_some_and(|at| now.duration_since(at) > self.settings.interval * 2);
            if gap {
                s.healthy_since = None;
            }
            s.last_ok = Some(now);
            s.healthy_since.get_or_insert(now);
        } else {
            s.healthy_since = None;
        }
    }

    /// True when peers may soon count this conductor dead: its last good heartbeat
    /// is older than the timeout less one interval. A conductor that never
    /// registered takes no part in membership and is never fenced.
    pub fn fenced(&self) -> bool {
        let margin = self.settings.timeout.saturating_sub(self.settings.interval);
        self.standing()
            .last_ok
            .is_some_and(|at| at.elapsed() > margin)
    }

    /// True when its heartbeats have reached the database without a gap for a
    /// whole timeout: only then are stale peers really dead to it.
    pub fn sees_clearly(&self) -> bool {
        self.standing()
            .healthy_since
            .is_some_and(|at| at.elapsed() >= self.settings.timeout)
    }

    pub fn leave(&self) {
        self.standing().leaving = true;
    }

    pub fn leaving(&self) -> bool {
        self.standing().leaving
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_conductor_fences_itself_before_peers_may_take_over() {
        let l = Liveness::new(Heartbeats {
            interval: Duration::from_millis(20),
            timeout: Duration::from_millis(120),
        });
        assert!(!l.fenced() && !l.sees_clearly(), "not registered yet");
        l.heartbeat(true);
        assert!(!l.fenced() && !l.sees_clearly());
        std::thread::sleep(Duration::from_millis(130));
        assert!(l.fenced(), "the last good heartbeat is too old");
        l.heartbeat(true);
        assert!(
            !l.fenced() && !l.sees_clearly(),
            "a late heartbeat breaks the run"
        );
        for _ in 0..8 {
            std::thread::sleep(Duration::from_millis(20));
            l.heartbeat(true);
        }
        assert!(!l.fenced() && l.sees_clearly());
        l.heartbeat(false);
        assert!(!l.sees_clearly(), "a failed heartbeat breaks the run");
        assert!(!l.fenced(), "…but the last good one is recent");
        assert!(!l.leaving());
        l.leave();
        assert!(l.leaving());
    }
}
