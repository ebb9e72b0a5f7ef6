//! Login back-off. After a number of free failures, each further failure doubles
//! the wait before the next attempt is looked at, up to a cap. Counted per
//! identifier as typed (whether or not such an account exists, so the throttle
//! reveals nothing) and per peer address (trusted peers, such as the bridge,
//! which throttles its own clients, are exempt).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Where failure counts live. Every method takes `&self`: an implementation
/// locks (or queries) as it needs.
pub trait ThrottleStore: Send + Sync {
    /// `Err(seconds)` while either the identifier or the peer must wait.
    fn check(&self, identifier: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64>;
    /// Counts a failed login.
    fn fail(&self, identifier: &str, peer: Option<&str>, now: SystemTime);
    /// A successful login clears the identifier's count (not the peer's: one
    /// right password must not reset a guessing run against other accounts).
    fn succeed(&self, identifier: &str);
}

/// Failure counts in this process's memory.
pub struct MemoryThrottle(Mutex<Throttle>);

impl MemoryThrottle {
    /// No failures yet.
    pub fn new(cfg: ThrottleConfig) -> Self {
        MemoryThrottle(Mutex::new(Throttle::new(cfg)))
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ThrottleStore for MemoryThrottle {
    fn check(&self, identifier: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        self.table().check(identifier, peer, now)
    }

    fn fail(&self, identifier: &str, peer: Option<&str>, now: SystemTime) {
        self.table().fail(identifier, peer, now);
    }

    fn succeed(&self, identifier: &str) {
        self.table().succeed(identifier);
    }
}

/// Throttle settings.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failures per identifier before waits begin.
    pub free_failures: u32,
    /// Failures per peer before waits begin.
    pub peer_free_failures: u32,
    /// First wait.
    pub base_delay: Duration,
    /// Longest wait.
    pub max_delay: Duration,
    /// Peers never throttled.
    pub trusted_peers: Vec<IpAddr>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    blocked_until: SystemTime,
    last_failure: SystemTime,
}

/// Failure counts; see the module documentation.
struct Throttle {
    cfg: ThrottleConfig,
    ids: HashMap<String, Entry>,
    peers: HashMap<String, Entry>,
}

/// Entries idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Tables are swept when they grow past this many entries.
const SWEEP_AT: usize = 100_000;

impl Throttle {
    fn new(cfg: ThrottleConfig) -> Self {
        Throttle {
            cfg,
            ids: HashMap::new(),
            peers: HashMap::new(),
        }
    }

    fn id_key(identifier: &str) -> String {
        identifier.trim().to_lowercase()
    }

    fn peer_key(&self, peer: Option<&str>) -> Option<String> {
        let peer = peer?;
        let trusted = peer
            .parse::<IpAddr>()
            .is_ok_and(|ip| self.cfg.trusted_peers.contains(&ip));
        (!trusted).then(|| peer.to_owned())
    }

    fn check(&self, identifier: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        let wait = |e: Option<&Entry>| {
            e.and_then(|e| e.blocked_until.duration_since(now).ok())
                .unwrap_or_default()
        };
        let id_wait = wait(self.ids.get(&Self::id_key(identifier)));
        let peer_wait = self
            .peer_key(peer)
            .map(|p| wait(self.peers.get(&p)))
            .unwrap_or_default();
        let w = id_wait.max(peer_wait);
        if w.is_zero() {
            Ok(())
        } else {
            Err(w.as_secs_f64().ceil() as u64)
        }
    }

    fn fail(&mut self, identifier: &str, peer: Option<&str>, now: SystemTime) {
        let (base, max) = (self.cfg.base_delay, self.cfg.max_delay);
        let bump = |map: &mut HashMap<String, Entry>, key: String, free: u32| {
            if map.len() >= SWEEP_AT {
                map.retain(|_, e| {
                    now.duration_since(e.last_failure).unwrap_or_default() < FORGET_AFTER
                });
            }
            let e = map.entry(key).or_insert(Entry {
                failures: 0,
                blocked_until: now,
                last_failure: now,
            });
            if now.duration_since(e.last_failure).unwrap_or_default() >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures += 1;
            e.last_failure = now;
            if e.failures > free {
                let doublings = (e.failures - free - 1).min(30);
                let delay = base.saturating_mul(1 << doublings).min(max);
                e.blocked_until = now + delay;
            }
        };
        bump(
            &mut self.ids,
            Self::id_key(identifier),
            self.cfg.free_failures,
        );
        if let Some(p) = self.peer_key(peer) {
            bump(&mut self.peers, p, self.cfg.peer_free_failures);
        }
    }

    fn succeed(&mut self, identifier: &str) {
        self.ids.remove(&Self::id_key(identifier));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn cfg() -> ThrottleConfig {
        ThrottleConfig {
            free_failures: 3,
            peer_free_failures: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            trusted_peers: vec!["10.0.0.9".parse().unwrap()],
        }
    }

    #[test]
    fn backs_off_exponentially_to_the_cap() {
        let mut t = Throttle::new(cfg());
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        for _ in 0..3 {
            t.fail("Alice", None, now);
            assert!(t.check("alice", None, now).is_ok());
        }
        let mut waits = Vec::new();
        for _ in 0..6 {
            t.fail("alice", None, now);
            waits.push(t.check("ALICE", None, now).unwrap_err());
        }
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
        assert!(t.check("alice", None, now + Duration::from_secs(9)).is_ok());
        t.succeed("alice");
        assert!(t.check("alice", None, now).is_ok());
    }

    #[test]
    fn unknown_identifiers_are_throttled_alike() {
        let mut t = Throttle::new(cfg());
        let now = UNIX_EPOCH;
        for _ in 0..4 {
            t.fail("nobody-at-all", None, now);
        }
        assert_eq!(t.check("nobody-at-all", None, now), Err(1));
    }

    #[test]
    fn per_peer_and_trusted_peers() {
        let mut t = Throttle::new(cfg());
        let now = UNIX_EPOCH;
        for i in 0..11 {
            t.fail(&format!("user{i}"), Some("10.0.0.1"), now);
            t.fail(&format!("user{i}"), Some("10.0.0.9"), now);
        }
        assert!(t.check("fresh", Some("10.0.0.1"), now).is_err());
        assert!(t.check("fresh", Some("10.0.0.9"), now).is_ok());
        assert!(t.check("fresh", Some("10.0.0.2"), now).is_ok());
    }
}
