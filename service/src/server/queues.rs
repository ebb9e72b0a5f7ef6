//! How much work may wait, so that no one client, and no one kind of work,
//! can crowd out the rest:
//! - slow work (PBKDF2, large lists) and writes have queues of their own, so
//!   writes that need no hashing keep moving while the slow queue is full;
//! - each peer address may have only so much slow work waiting (trusted
//!   peers, such as the bridge, which limits its own clients, are exempt).
//!
//! A refused request gets `rate_limited` ("busy") at once.

use crate::auth::peer::is_trusted;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The limits; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct QueueLimits {
    /// Slow steps waiting or running, in all.
    pub slow: usize,
    /// Slow steps waiting or running for one peer address.
    pub slow_per_peer: usize,
    /// Writes waiting for the writer.
    pub writes: usize,
    /// Peers without a per-peer limit.
    pub trusted_peers: Vec<IpAddr>,
}

/// What is queued now.
pub(crate) struct Queues {
    limits: QueueLimits,
    slow: AtomicUsize,
    writes: AtomicUsize,
    slow_by_peer: Mutex<HashMap<String, usize>>,
}

impl Queues {
    /// Empty queues.
    pub(crate) fn new(limits: QueueLimits) -> Self {
        Queues {
            limits,
            slow: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            slow_by_peer: Mutex::new(HashMap::new()),
        }
    }

    fn counted_peer<'a>(&self, peer: Option<&'a str>) -> Option<&'a str> {
        peer.filter(|p| !is_trusted(p, &self.limits.trusted_peers))
    }

    /// Admits a slow step for `peer`; false when the queue or the peer's share
    /// is full. Each admitted step is ended with [`Queues::end_slow`].
    pub(crate) fn begin_slow(&self, peer: Option<&str>) -> bool {
        if self.slow.load(Ordering::SeqCst) >= self.limits.slow {
            return false;
        }
        if let Some(p) = self.counted_peer(peer) {
            let mut by_peer = self.slow_by_peer.lock().unwrap_or_else(|e| e.into_inner());
            let n = by_peer.entry(p.to_owned()).or_insert(0);
            if *n >= self.limits.slow_per_peer {
                return false;
            }
            *n += 1;
        }
        self.slow.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A slow step for `peer` is done.
    pub(crate) fn end_slow(&self, peer: Option<&str>) {
        self.slow.fetch_sub(1, Ordering::SeqCst);
        if let Some(p) = self.counted_peer(peer) {
            let mut by_peer = self.slow_by_peer.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = by_peer.get_mut(p) {
                *n -= 1;
                if *n == 0 {
                    by_peer.remove(p);
                }
            }
        }
    }

    /// Admits a write from a request; false when the write queue is full.
    pub(crate) fn begin_write(&self) -> bool {
        if self.writes.load(Ordering::SeqCst) >= self.limits.writes {
            return false;
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Queues a write that follows admitted work (a slow step's write, a
    /// login's background change): it is not refused.
    pub(crate) fn follow_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// The writer has taken a write.
    pub(crate) fn end_write(&self) {
        self.writes.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues() -> Queues {
        Queues::new(QueueLimits {
            slow: 5,
            slow_per_peer: 2,
            writes: 1,
            trusted_peers: vec!["10.0.0.9".parse().unwrap()],
        })
    }

    #[test]
    fn each_peer_gets_a_share_and_writes_have_their_own_queue() {
        let q = queues();
        assert!(q.begin_slow(Some("10.0.0.1")) && q.begin_slow(Some("10.0.0.1")));
        assert!(!q.begin_slow(Some("10.0.0.1")), "its share is used");
        assert!(q.begin_slow(Some("10.0.0.2")));
        assert!(q.begin_slow(Some("10.0.0.9")) && q.begin_slow(Some("10.0.0.9")));
        assert!(!q.begin_slow(Some("10.0.0.9")), "the whole queue is full");
        assert!(q.begin_write(), "writes wait in a queue of their own");
        assert!(!q.begin_write());
        q.end_slow(Some("10.0.0.1"));
        assert!(q.begin_slow(Some("10.0.0.1")));
        q.end_write();
        assert!(q.begin_write());
    }
}
