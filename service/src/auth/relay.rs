//! [`RelayedThrottle`]: failure counts shared by the instances of a shared
//! store. Each failure and success counted here is also handed out
//! ([`Relayed`]) for the store to tell the other instances; theirs come back
//! through [`ThrottleStore::observe`]. Only the account's count travels:
//! each instance counts its own peers, and its own attempts in flight.
//!
//! Keys are counted here, and travel, as the SHA-256 of the key: every
//! notice has the same length, whether it names an account or a name that
//! matches none.

use super::throttle::{MemoryThrottle, ThrottleConfig, ThrottleStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::SystemTime;

/// An attempt counted here, for the other instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Relayed {
    /// The throttle key (an account, or a name that matches none).
    pub key: String,
    /// A failure, or a success.
    pub failed: bool,
    /// Random, so that each count is taken once (see the listener).
    pub nonce: String,
}

/// See the module documentation.
pub(crate) struct RelayedThrottle {
    local: MemoryThrottle,
    out: Mutex<Sender<Relayed>>,
}

impl RelayedThrottle {
    /// Counts as [`MemoryThrottle`] does, and sends each outcome to `out`.
    pub(crate) fn new(cfg: ThrottleConfig, out: Sender<Relayed>) -> Self {
        RelayedThrottle {
            local: MemoryThrottle::new(cfg),
            out: Mutex::new(out),
        }
    }

    fn relay(&self, key: String, failed: bool) {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.send(Relayed { key, failed, nonce });
    }
}

/// The key as it is counted and relayed.
fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl ThrottleStore for RelayedThrottle {
    fn begin(&self, key: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        self.local.begin(&digest(key), peer, now)
    }

    fn fail(&self, key: &str, peer: Option<&str>, now: SystemTime) -> bool {
        let key = digest(key);
        let backing_off = self.local.fail(&key, peer, now);
        self.relay(key, true);
        backing_off
    }

    fn succeed(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        let key = digest(key);
        self.local.succeed(&key, peer, now);
        self.relay(key, false);
    }

    fn cancel(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.local.cancel(&digest(key), peer, now);
    }

    /// `key` is a relayed one: a digest already.
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
    fn failures_and_successes_on_one_instance_count_on_the_other() {
        let (to_b, from_a) = std::sync::mpsc::channel();
        let (to_a, _) = std::sync::mpsc::channel();
        let (a, b) = (
            RelayedThrottle::new(cfg(), to_b),
            RelayedThrottle::new(cfg(), to_a),
        );
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        // What a relays, b observes, as the listener does.
        let deliver = || {
            for r in from_a.try_iter() {
                assert_eq!(r.key.len(), 64, "a digest, whatever the key");
                b.observe(&r.key, r.failed, now);
            }
        };
        for _ in 0..3 {
            a.begin("user:x", Some("10.0.0.1"), now).unwrap();
            a.fail("user:x", Some("10.0.0.1"), now);
        }
        deliver();
        assert!(
            b.begin("user:x", Some("10.0.0.2"), now).is_err(),
            "three failures on a, past the two free ones, hold back b"
        );
        assert!(b.begin("user:y", Some("10.0.0.2"), now).is_ok());
        // A success on a clears the account on b too: two failures, a
        // success, one more failure leave b with one, not three.
        for outcome in [false, false, true, false] {
            a.begin("user:z", Some("10.0.0.1"), now).unwrap();
            if outcome {
                a.succeed("user:z", Some("10.0.0.1"), now);
            } else {
                a.fail("user:z", Some("10.0.0.1"), now);
            }
        }
        deliver();
        assert!(b.begin("user:z", Some("10.0.0.2"), now).is_ok());
    }
}
