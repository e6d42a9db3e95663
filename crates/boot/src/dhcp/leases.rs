//! The address pool: which MAC holds which address until when. An address offered
//! or acknowledged to a MAC stays that MAC's; expired leases are reused; a declined
//! address is kept out of use for a while. Both directions are indexed, so checking
//! an address costs the same with ten thousand leases as with one.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub expires: Instant,
    /// False while only offered.
    pub bound: bool,
}

/// The pool and its leases.
#[derive(Debug)]
pub struct Leases {
    first: u32,
    last: u32,
    by_mac: HashMap<[u8; 6], Lease>,
    /// Who holds each address (the inverse of `by_mac`).
    by_ip: HashMap<Ipv4Addr, [u8; 6]>,
    /// Where the search for a free address starts.
    cursor: u32,
    /// Addresses kept for particular MACs (their fixed addresses), never handed
    /// to anyone else.
    reserved: Option<Arc<HashMap<Ipv4Addr, [u8; 6]>>>,
    declined: HashMap<Ipv4Addr, Instant>,
}

/// How long an offer is held before the address may go to someone else.
pub const OFFER_HOLD: Duration = Duration::from_secs(60);
const DECLINE_HOLD: Duration = Duration::from_secs(600);

impl Leases {
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> Self {
        Self {
            first: u32::from(first),
            last: u32::from(last),
            by_mac: HashMap::new(),
            by_ip: HashMap::new(),
            cursor: u32::from(first),
            reserved: None,
            declined: HashMap::new(),
        }
    }

    pub fn in_pool(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }

    /// Sets the addresses kept for particular MACs.
    pub fn set_reserved(&mut self, reserved: Option<Arc<HashMap<Ipv4Addr, [u8; 6]>>>) {
        self.reserved = reserved;
    }

    fn taken(&self, ip: Ipv4Addr, by_other_than: &[u8; 6], now: Instant) -> bool {
        let held = self.by_ip.get(&ip).is_some_and(|m| {
            m != by_other_than && self.by_mac.get(m).is_some_and(|l| l.expires > now)
        });
        let kept = self
            .reserved
            .as_ref()
            .and_then(|r| r.get(&ip))
            .is_some_and(|m| m != by_other_than);
        held || kept || self.declined.get(&ip).is_some_and(|until| *until > now)
    }

    /// The next free address after the last one handed out (wrapping), so a rack
    /// booting at once does not rescan the taken start of the pool for every client.
    fn free_address(&mut self, mac: &[u8; 6], now: Instant) -> Option<Ipv4Addr> {
        let start = self.cursor.clamp(self.first, self.last);
        let found = (start..=self.last)
            .chain(self.first..start)
            .map(Ipv4Addr::from)
            .find(|ip| !self.taken(*ip, mac, now))?;
        self.cursor = u32::from(found).saturating_add(1);
        Some(found)
    }

    /// Records `lease` as `mac`'s, keeping the address index in step.
    fn set(&mut self, mac: [u8; 6], lease: Lease) {
        if let Some(old) = self.by_mac.insert(mac, lease) {
            if old.ip != lease.ip && self.by_ip.get(&old.ip) == Some(&mac) {
                self.by_ip.remove(&old.ip);
            }
        }
        self.by_ip.insert(lease.ip, mac);
    }

    fn remove(&mut self, mac: [u8; 6]) {
        if let Some(old) = self.by_mac.remove(&mac) {
            if self.by_ip.get(&old.ip) == Some(&mac) {
                self.by_ip.remove(&old.ip);
            }
        }
    }

    /// The address to offer `mac`: its current one, the one it asks for if free,
    /// else the first free address. `None` when the pool is exhausted.
    pub fn offer(
        &mut self,
        mac: [u8; 6],
        wanted: Option<Ipv4Addr>,
        now: Instant,
    ) -> Option<Ipv4Addr> {
        let ip = match self.by_mac.get(&mac) {
            Some(l) if self.in_pool(l.ip) && !self.taken(l.ip, &mac, now) => l.ip,
            _ => {
                let wanted = wanted.filter(|w| self.in_pool(*w) && !self.taken(*w, &mac, now));
                match wanted {
                    Some(w) => w,
                    None => self.free_address(&mac, now)?,
                }
            }
        };
        let bound = self.by_mac.get(&mac).is_some_and(|l| l.bound && l.ip == ip);
        let expires = self
            .by_mac
            .get(&mac)
            .filter(|_| bound)
            .map_or(now + OFFER_HOLD, |l| l.expires.max(now + OFFER_HOLD));
        self.set(mac, Lease { ip, expires, bound });
        Some(ip)
    }

    /// Binds `ip` to `mac` for `time` when it is that MAC's to take.
    pub fn bind(&mut self, mac: [u8; 6], ip: Ipv4Addr, time: Duration, now: Instant) -> bool {
        if !self.in_pool(ip) || self.taken(ip, &mac, now) {
            return false;
        }
        if self
            .by_mac
            .get(&mac)
            .is_some_and(|l| l.ip != ip && l.bound && l.expires > now)
        {
            return false;
        }
        self.set(
            mac,
            Lease {
                ip,
                expires: now + time,
                bound: true,
            },
        );
        true
    }

    /// Holds `ip` for `mac` until `expires` whatever the pool (a fixed address);
    /// false when another MAC holds it.
    pub fn pin(
        &mut self,
        mac: [u8; 6],
        ip: Ipv4Addr,
        expires: Instant,
        bound: bool,
        now: Instant,
    ) -> bool {
        if self.taken(ip, &mac, now) {
            return false;
        }
        let (bound, expires) = match self.by_mac.get(&mac) {
            Some(l) if l.ip == ip && l.bound && !bound => (true, l.expires.max(expires)),
            _ => (bound, expires),
        };
        self.set(mac, Lease { ip, expires, bound });
        true
    }

    /// Puts back a lease bound before a restart (ignored when outside the pool).
    pub fn restore(&mut self, mac: [u8; 6], ip: Ipv4Addr, expires: Instant) {
        if self.in_pool(ip) {
            self.set(
                mac,
                Lease {
                    ip,
                    expires,
                    bound: true,
                },
            );
        }
    }

    pub fn release(&mut self, mac: [u8; 6]) {
        self.remove(mac);
    }

    /// A client found `ip` in use: it is held back for a while — only when it is
    /// that client's address, so nobody can fence off the pool with forged declines.
    pub fn decline(&mut self, mac: [u8; 6], ip: Ipv4Addr, now: Instant) {
        if self.by_mac.get(&mac).is_none_or(|l| l.ip != ip) {
            return;
        }
        self.remove(mac);
        self.declined.retain(|_, until| *until > now);
        self.declined.insert(ip, now + DECLINE_HOLD);
    }

    pub fn get(&self, mac: &[u8; 6]) -> Option<Lease> {
        self.by_mac.get(mac).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_bind_and_reuse() {
        let now = Instant::now();
        let mut l = Leases::new(Ipv4Addr::new(10, 0, 0, 10), Ipv4Addr::new(10, 0, 0, 11));
        let (a, b, c) = ([1; 6], [2; 6], [3; 6]);
        assert_eq!(l.offer(a, None, now), Some(Ipv4Addr::new(10, 0, 0, 10)));
        assert_eq!(
            l.offer(a, None, now),
            Some(Ipv4Addr::new(10, 0, 0, 10)),
            "stable"
        );
        assert_eq!(
            l.offer(b, Some(Ipv4Addr::new(10, 0, 0, 10)), now),
            Some(Ipv4Addr::new(10, 0, 0, 11))
        );
        assert_eq!(l.offer(c, None, now), None, "pool exhausted");
        assert!(l.bind(
            a,
            Ipv4Addr::new(10, 0, 0, 10),
            Duration::from_secs(100),
            now
        ));
        assert!(!l.bind(
            c,
            Ipv4Addr::new(10, 0, 0, 10),
            Duration::from_secs(100),
            now
        ));
        // Offers lapse; bound leases last their time.
        let later = now + Duration::from_secs(61);
        assert_eq!(l.offer(c, None, later), Some(Ipv4Addr::new(10, 0, 0, 11)));
        l.release(a);
        assert!(l.bind(
            b,
            Ipv4Addr::new(10, 0, 0, 10),
            Duration::from_secs(100),
            later
        ));
        l.set_reserved(Some(Arc::new(HashMap::from([(
            Ipv4Addr::new(10, 0, 0, 10),
            c,
        )]))));
        assert!(
            !l.bind(
                b,
                Ipv4Addr::new(10, 0, 0, 10),
                Duration::from_secs(100),
                later + Duration::from_secs(200)
            ),
            "an address kept for another MAC"
        );
        l.set_reserved(None);
        l.decline(c, Ipv4Addr::new(10, 0, 0, 11), later);
        assert_eq!(
            l.offer(c, None, later),
            None,
            "a declined address is held back"
        );
    }
}
