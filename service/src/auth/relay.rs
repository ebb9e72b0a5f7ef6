//! [`RelayedThrottle`]: failure counts shared by the instances of a shared
//! store. Each failure and success counted here is also handed out
//! ([`Relayed`]) for the store to tell the other instances; theirs come back
//! through [`ThrottleStore::observe`]. Only the account's count travels:
//! each instance counts its own peers.

use super::throttle::{MemoryThrottle, ThrottleConfig, ThrottleStore};
use serde::{Deserialize, Serialize};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::SystemTime;

/// An attempt counted here, for the other instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relayed {
    /// The throttle key (an account, or a name that matches none).
    pub key: String,
    /// A failure, or a success.
    pub failed: bool,
}

/// See the module documentation.
pub struct RelayedThrottle {
    local: MemoryThrottle,
    out: Mutex<Sender<Relayed>>,
}

impl RelayedThrottle {
    /// Counts as [`MemoryThrottle`] does, and sends each outcome to `out`.
    pub fn new(cfg: ThrottleConfig, out: Sender<Relayed>) -> Self {
        RelayedThrottle {
            local: MemoryThrottle::new(cfg),
            out: Mutex::new(out),
        }
    }

    fn relay(&self, key: &str, failed: bool) {
        let out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.send(Relayed {
            key: key.to_owned(),
            failed,
        });
    }
}

impl ThrottleStore for RelayedThrottle {
    fn begin(&self, key: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        self.local.begin(key, peer, now)
    }

    fn fail(&self, key: &str, peer: Option<&str>, now: SystemTime) -> bool {
        self.relay(key, true);
        self.local.fail(key, peer, now)
    }

    fn succeed(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.relay(key, false);
        self.local.succeed(key, peer, now);
    }

    fn cancel(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.local.cancel(key, peer, now);
    }

    fn observe(&self, key: &str, failed: bool, now: SystemTime) {
        self.local.observe(key, failed, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn cfg() -> ThrottleConfig {
        ThrottleConfig {
            free_failures: 2,
            peer_free_failures: 100,
            base_delay: Duration::from_secs(4),
            max_delay: Duration::from_secs(60),
            trusted_peers: vec![],
        }
    }

    #[test]
    fn failures_on_one_instance_hold_back_the_other() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (a, b) = (
            RelayedThrottle::new(cfg(), tx.clone()),
            RelayedThrottle::new(cfg(), tx),
        );
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        for _ in 0..3 {
            a.begin("user:x", Some("10.0.0.1"), now).unwrap();
            a.fail("user:x", Some("10.0.0.1"), now);
        }
        // What a relays, b observes.
        for r in rx.try_iter() {
            b.observe(&r.key, r.failed, now);
        }
        assert!(
            b.begin("user:x", Some("10.0.0.2"), now).is_err(),
            "three failures on a, past the two free ones, hold back b"
        );
        assert!(b.begin("user:y", Some("10.0.0.2"), now).is_ok());
        // A success on a clears the account on b too.
        a.observe("user:x", false, now);
        b.observe("user:x", false, now);
        assert!(b.begin("user:x", Some("10.0.0.2"), now).is_ok());
    }
}
