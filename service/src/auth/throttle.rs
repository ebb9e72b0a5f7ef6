//! Password-guessing back-off. After a number of free failures, each further
//! failure doubles the wait before the next attempt is looked at, up to a cap.
//!
//! Counted per account (a login by username and one by email count as one; a
//! name that matches no account is counted by that name, so whether a name
//! exists is not told apart; that two names are one account can be) and per
//! peer address (trusted peers, such as the bridge,
//! which throttles its own clients, are exempt). Logins and the passwords that
//! confirm a change or a deletion all count.
//!
//! An attempt is counted when it starts, not when its hash is done: a client
//! that sends many guesses at once gets no more checked than the free
//! failures allow. [`ThrottleStore::begin`] reserves a slot; the attempt ends
//! with [`ThrottleStore::fail`] or [`ThrottleStore::succeed`].

use super::peer::is_trusted;
use crate::model::{NameKey, UserId};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The throttle key of an account.
pub(crate) fn account_key(id: UserId) -> String {
    format!("user:{id}")
}

/// The throttle key of a name that matches no account, as typed.
pub(crate) fn name_key(identifier: &str) -> String {
    format!("name:{}", NameKey::of(identifier.trim()).as_str())
}

/// Where failure counts live. Every method takes `&self`: an implementation
/// locks (or queries) as it needs.
pub(crate) trait ThrottleStore: Send + Sync {
    /// Reserves an attempt against `key` and `peer`. `Err(seconds)` while
    /// either must wait, or while the attempts already in flight use up what
    /// is allowed. Each `Ok` is ended by one `fail` or `succeed`.
    fn begin(&self, key: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64>;
    /// Ends an attempt that failed. True once `key` is past its free failures.
    fn fail(&self, key: &str, peer: Option<&str>, now: SystemTime) -> bool;
    /// Ends an attempt that succeeded: clears `key`'s failures, not the peer's
    /// (one right password must not reset a guessing run against other accounts).
    fn succeed(&self, key: &str, peer: Option<&str>, now: SystemTime);
    /// Gives back an attempt that was never checked (refused as busy, or
    /// dropped at shutdown), counting nothing.
    fn cancel(&self, key: &str, peer: Option<&str>, now: SystemTime);
    /// Counts an attempt on `key` that another instance checked: a failure,
    /// or a success that clears the key's failures.
    fn observe(&self, key: &str, failed: bool, now: SystemTime);
}

/// A reserved attempt. It ends with [`Attempt::fail`] or [`Attempt::succeed`];
/// dropped without either, because its request never ran, it gives its slot
/// back, so that no path can leave an account blocked by attempts never made.
pub(crate) struct Attempt {
    store: Arc<dyn ThrottleStore>,
    key: String,
    peer: Option<String>,
    open: bool,
}

impl Attempt {
    /// Reserves an attempt against `key` and `peer`; `Err(seconds)` to wait.
    pub(crate) fn begin(
        store: &Arc<dyn ThrottleStore>,
        key: String,
        peer: Option<String>,
        now: SystemTime,
    ) -> Result<Attempt, u64> {
        store.begin(&key, peer.as_deref(), now)?;
        Ok(Attempt {
            store: Arc::clone(store),
            key,
            peer,
            open: true,
        })
    }

    /// The password was wrong. True once the key is past its free failures.
    pub(crate) fn fail(mut self, now: SystemTime) -> bool {
        self.open = false;
        self.store.fail(&self.key, self.peer.as_deref(), now)
    }

    /// The password was right.
    pub(crate) fn succeed(mut self, now: SystemTime) {
        self.open = false;
        self.store.succeed(&self.key, self.peer.as_deref(), now);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.open {
            self.store
                .cancel(&self.key, self.peer.as_deref(), SystemTime::now());
        }
    }
}

/// Failure counts in this process's memory.
pub(crate) struct MemoryThrottle(Mutex<Throttle>);

impl MemoryThrottle {
    /// No failures yet.
    pub(crate) fn new(cfg: ThrottleConfig) -> Self {
        MemoryThrottle(Mutex::new(Throttle::new(cfg)))
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ThrottleStore for MemoryThrottle {
    fn begin(&self, key: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        self.table().begin(key, peer, now)
    }

    fn fail(&self, key: &str, peer: Option<&str>, now: SystemTime) -> bool {
        self.table().fail(key, peer, now)
    }

    fn succeed(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.table().succeed(key, peer, now);
    }

    fn cancel(&self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.table().cancel(key, peer, now);
    }

    fn observe(&self, key: &str, failed: bool, now: SystemTime) {
        self.table().observe(key, failed, now);
    }
}

/// Throttle settings.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failures per account before waits begin.
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
    /// Attempts begun and not yet ended.
    pending: u32,
    blocked_until: SystemTime,
    last_failure: SystemTime,
}

impl Entry {
    fn new(now: SystemTime) -> Self {
        Entry {
            failures: 0,
            pending: 0,
            blocked_until: now,
            last_failure: now,
        }
    }

    /// Failures still remembered at `now`.
    fn failures(&self, now: SystemTime) -> u32 {
        if now.duration_since(self.last_failure).unwrap_or_default() >= FORGET_AFTER {
            0
        } else {
            self.failures
        }
    }

    /// May another attempt begin at `now`?
    fn admits(&self, free: u32, now: SystemTime) -> Result<(), u64> {
        if let Ok(wait) = self.blocked_until.duration_since(now) {
            if !wait.is_zero() {
                return Err(wait.as_secs_f64().ceil() as u64);
            }
        }
        // Past the free failures, one attempt at a time.
        if self.pending == 0 || self.failures(now) + self.pending < free {
            Ok(())
        } else {
            Err(1)
        }
    }

    /// Counts a failure at `now`; past `free` failures each one doubles the
    /// wait from `base` up to `max`. True once past `free`.
    fn count_failure(
        &mut self,
        free: u32,
        (base, max): (Duration, Duration),
        now: SystemTime,
    ) -> bool {
        self.failures = self.failures(now) + 1;
        self.last_failure = now;
        if self.failures > free {
            let doublings = (self.failures - free - 1).min(30);
            self.blocked_until = now + base.saturating_mul(1 << doublings).min(max);
        }
        self.failures > free
    }

    fn forgettable(&self, now: SystemTime) -> bool {
        self.pending == 0 && self.failures(now) == 0 && self.blocked_until <= now
    }

    /// When the entry will have nothing left to say, if nothing happens to it.
    fn forget_at(&self) -> SystemTime {
        (self.last_failure + FORGET_AFTER).max(self.blocked_until)
    }
}

/// Entries by key, and when to look at each again to forget it. Old entries
/// are forgotten a few at a time, as work goes by, never by walking the table
/// under the lock.
#[derive(Default)]
struct Counts {
    entries: HashMap<String, Entry>,
    /// (when, key), oldest first: pushed whenever an entry changes, so an
    /// entry may have several; only its latest finds it forgettable.
    expiry: VecDeque<(SystemTime, String)>,
}

/// Entries looked at, at most, per operation.
const EXPIRE_PER_CALL: usize = 8;

impl Counts {
    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Applies `f` to `key`'s entry (made if missing), then queues its
    /// expiry; first forgets a few entries whose time has come.
    fn update<R>(&mut self, key: &str, now: SystemTime, f: impl FnOnce(&mut Entry) -> R) -> R {
        self.expire_some(now);
        let e = self
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| Entry::new(now));
        let r = f(e);
        let at = e.forget_at();
        self.expiry.push_back((at, key.to_owned()));
        r
    }

    fn expire_some(&mut self, now: SystemTime) {
        for _ in 0..EXPIRE_PER_CALL {
            match self.expiry.front() {
                Some((at, _)) if *at <= now => {}
                _ => return,
            }
            let Some((_, key)) = self.expiry.pop_front() else {
                return;
            };
            if self.entries.get(&key).is_some_and(|e| e.forgettable(now)) {
                self.entries.remove(&key);
            }
        }
    }

    fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Failure counts; see the module documentation.
struct Throttle {
    cfg: ThrottleConfig,
    keys: Counts,
    peers: Counts,
}

/// Failures this old are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

impl Throttle {
    fn new(cfg: ThrottleConfig) -> Self {
        Throttle {
            cfg,
            keys: Counts::default(),
            peers: Counts::default(),
        }
    }

    fn peer_key(&self, peer: Option<&str>) -> Option<String> {
        let peer = peer?;
        (!is_trusted(peer, &self.cfg.trusted_peers)).then(|| peer.to_owned())
    }

    fn begin(&mut self, key: &str, peer: Option<&str>, now: SystemTime) -> Result<(), u64> {
        let peer = self.peer_key(peer);
        if let Some(e) = self.keys.get(key) {
            e.admits(self.cfg.free_failures, now)?;
        }
        if let Some(e) = peer.as_ref().and_then(|p| self.peers.get(p)) {
            e.admits(self.cfg.peer_free_failures, now)?;
        }
        self.keys.update(key, now, |e| e.pending += 1);
        if let Some(p) = peer {
            self.peers.update(&p, now, |e| e.pending += 1);
        }
        Ok(())
    }

    fn fail(&mut self, key: &str, peer: Option<&str>, now: SystemTime) -> bool {
        let delays = (self.cfg.base_delay, self.cfg.max_delay);
        let (free, peer_free) = (self.cfg.free_failures, self.cfg.peer_free_failures);
        let backing_off = self.keys.update(key, now, |e| {
            e.pending = e.pending.saturating_sub(1);
            e.count_failure(free, delays, now)
        });
        if let Some(p) = self.peer_key(peer) {
            self.peers.update(&p, now, |e| {
                e.pending = e.pending.saturating_sub(1);
                e.count_failure(peer_free, delays, now)
            });
        }
        backing_off
    }

    /// An attempt another instance checked: it held no slot here, and its
    /// peer is that instance's to count.
    fn observe(&mut self, key: &str, failed: bool, now: SystemTime) {
        let delays = (self.cfg.base_delay, self.cfg.max_delay);
        let free = self.cfg.free_failures;
        self.keys.update(key, now, |e| {
            if failed {
                e.count_failure(free, delays, now);
            } else {
                e.failures = 0;
                e.blocked_until = e.last_failure;
            }
        });
    }

    fn cancel(&mut self, key: &str, peer: Option<&str>, now: SystemTime) {
        self.keys
            .update(key, now, |e| e.pending = e.pending.saturating_sub(1));
        if let Some(p) = self.peer_key(peer) {
            self.peers
                .update(&p, now, |e| e.pending = e.pending.saturating_sub(1));
        }
    }

    fn succeed(&mut self, key: &str, peer: Option<&str>, now: SystemTime) {
        let done = self.keys.update(key, now, |e| {
            e.pending = e.pending.saturating_sub(1);
            e.failures = 0;
            e.blocked_until = e.last_failure;
            e.pending == 0
        });
        if done {
            self.keys.remove(key);
        }
        if let Some(p) = self.peer_key(peer) {
            self.peers
                .update(&p, now, |e| e.pending = e.pending.saturating_sub(1));
        }
    }
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
