//! The consistent hash ring: each alive conductor of a conductor group owns many
//! points on a 64-bit ring; a node belongs to the conductor owning the first point at
//! or after the hash of its UUID. Adding or losing a conductor moves only the nodes
//! of the points it gains or loses. The hash is FNV-1a with a 64-bit finalizer, so
//! every process computes the same ring. Walking on from a node's point gives the
//! order its owners take over: the next distinct conductor is the one that owns the
//! node if the first is gone.

use std::collections::HashMap;

use ferric_types::conductor::ConductorRecord;
use ferric_types::Timestamp;

/// Points each conductor gets on the ring.
const REPLICAS: usize = 128;

fn hash(data: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finalizer: spreads FNV's clustered outputs.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// One conductor group's ring.
#[derive(Debug, Clone, Default)]
pub struct HashRing {
    points: Vec<(u64, usize)>,
    hosts: Vec<String>,
}

impl HashRing {
    pub fn new(mut hosts: Vec<String>) -> Self {
        hosts.sort();
        hosts.dedup();
        let mut points: Vec<(u64, usize)> = hosts
            .iter()
            .enumerate()
            .flat_map(|(i, h)| (0..REPLICAS).map(move |r| (hash(&format!("{h}#{r}")), i)))
            .collect();
        points.sort_unstable();
        Self { points, hosts }
    }

    /// The host owning `key`, if the ring has any host.
    pub fn get(&self, key: &str) -> Option<&str> {
        if self.points.is_empty() {
            return None;
        }
        let h = hash(key);
        let i = self.points.partition_point(|(p, _)| *p < h) % self.points.len();
        Some(&self.hosts[self.points[i].1])
    }

    /// Every host, in the order they own `key`: the owner, then the one that owns
    /// it without the owner, and so on.
    pub fn owners(&self, key: &str) -> Vec<&str> {
        if self.points.is_empty() {
            return Vec::new();
        }
        let h = hash(key);
        let start = self.points.partition_point(|(p, _)| *p < h);
        let mut seen = vec![false; self.hosts.len()];
        let mut out = Vec::with_capacity(self.hosts.len());
        for k in 0..self.points.len() {
            let host = self.points[(start + k) % self.points.len()].1;
            if !seen[host] {
                seen[host] = true;
                out.push(self.hosts[host].as_str());
                if out.len() == self.hosts.len() {
                    break;
                }
            }
        }
        out
    }
}

/// The rings of every conductor group, built from the alive conductors, and where
/// each conductor's RPC listener answers.
#[derive(Debug, Clone, Default)]
pub struct Rings {
    by_group: HashMap<String, HashRing>,
    rpc_urls: HashMap<String, Option<String>>,
}

impl Rings {
    pub fn from_conductors(
        conductors: &[ConductorRecord],
        now: Timestamp,
        alive_within_secs: i64,
    ) -> Self {
        let mut hosts: HashMap<String, Vec<String>> = HashMap::new();
        let mut rpc_urls = HashMap::new();
        for c in conductors
            .iter()
            .filter(|c| c.is_alive(now, alive_within_secs))
        {
            hosts
                .entry(c.conductor_group.clone())
                .or_default()
                .push(c.hostname.clone());
            rpc_urls.insert(c.hostname.clone(), c.rpc_url.clone());
        }
        Self {
            by_group: hosts
                .into_iter()
                .map(|(g, h)| (g, HashRing::new(h)))
                .collect(),
            rpc_urls,
        }
    }

    /// The conductor that owns a node of `group`.
    pub fn conductor_for(&self, node_uuid: &str, group: &str) -> Option<&str> {
        self.by_group.get(group).and_then(|r| r.get(node_uuid))
    }

    /// The alive conductors of `group` in the order they own the node.
    pub fn owners(&self, node_uuid: &str, group: &str) -> Vec<&str> {
        self.by_group
            .get(group)
            .map(|r| r.owners(node_uuid))
            .unwrap_or_default()
    }

    /// Every alive conductor.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.rpc_urls.keys().map(String::as_str)
    }

    /// Where an alive conductor's RPC listener answers: `None` when the host is not
    /// alive, `Some(None)` when it has no listener.
    pub fn rpc_url(&self, host: &str) -> Option<Option<&str>> {
        self.rpc_urls.get(host).map(Option::as_deref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
            .collect()
    }

    #[test]
    fn spreads_nodes_evenly() {
        let ring = HashRing::new(vec!["a".into(), "b".into(), "c".into()]);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for k in keys(30_000) {
            *counts.entry(ring.get(&k).unwrap()).or_default() += 1;
        }
        for (host, n) in counts {
            assert!((7_000..=13_000).contains(&n), "{host} got {n} of 30000");
        }
    }

    #[test]
    fn a_new_host_moves_only_its_share() {
        let three = HashRing::new(vec!["a".into(), "b".into(), "c".into()]);
        let four = HashRing::new(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        let all = keys(20_000);
        let moved = all.iter().filter(|k| three.get(k) != four.get(k)).count();
        assert!(moved < 20_000 * 35 / 100, "{moved} moved");
        assert!(all
            .iter()
            .all(|k| four.get(k) == Some("d") || three.get(k) == four.get(k)));
        assert_eq!(HashRing::new(vec![]).get("x"), None);
    }

    #[test]
    fn the_next_owner_is_the_owner_without_the_first() {
        let hosts = ["a", "b", "c", "d"];
        let all = HashRing::new(hosts.iter().map(|h| h.to_string()).collect());
        for k in keys(2_000) {
            let order = all.owners(&k);
            assert_eq!(order.len(), 4);
            assert_eq!(Some(order[0]), all.get(&k));
            let without: Vec<String> = hosts
                .iter()
                .filter(|h| **h != order[0])
                .map(|h| h.to_string())
                .collect();
            assert_eq!(HashRing::new(without).get(&k), Some(order[1]), "{k}");
        }
        assert!(HashRing::new(vec![]).owners("x").is_empty());
    }
}
