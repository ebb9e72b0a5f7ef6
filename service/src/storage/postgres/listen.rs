//! The listener: one connection per instance that waits for the others'
//! notifications. `users_log` says another instance committed a batch, and
//! the writer is asked to follow; `users_throttle` carries a failure count
//! ([`Relayed`], sealed under the store's key, so the database never sees
//! a name). The same connection sends this instance's counts.
//!
//! Anyone who may connect to the database may also send a notice, or send a
//! captured one again: a count is taken only if it opens under the store's
//! key, was sealed less than [`FRESH`] ago (the instances' clocks must agree
//! that well), and carries a nonce not taken before, its own included. When the
//! connection fails, it connects again with a capped back-off, and asks the
//! writer to follow whatever it missed meanwhile.

use super::connect::connect;
use super::store::ListenTarget;
use crate::auth::relay::Relayed;
use crate::auth::throttle::ThrottleStore;
use crate::follow::Follow;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How long one wait for a notification lasts: counts to send wait at most this.
const WAIT: Duration = Duration::from_millis(20);
/// How often a quiet connection is checked, and how long the check may take.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// How old a relayed count may be.
const FRESH: Duration = Duration::from_secs(10);
/// The most counts remembered against replay; past it, older ones go first.
const SEEN_MAX: usize = 100_000;
/// The longest pause between attempts to connect.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the listener works with.
pub(crate) struct Listener {
    /// The store's address and key, and how far the writer has applied it.
    pub target: ListenTarget,
    /// Asked to catch up when there may be something new, and told whether
    /// the others can be heard.
    pub follow: Arc<Follow>,
    /// Where the others' counts go.
    pub throttle: Arc<dyn ThrottleStore>,
    /// This instance's counts.
    pub outbox: Receiver<Relayed>,
}

impl Listener {
    /// Starts the listener's thread; it runs as long as the process.
    pub(crate) fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("listener".into())
            .spawn(move || self.run())
            .map(drop)
    }

    fn run(self) {
        let mut backoff = Duration::from_millis(50);
        let mut down_since: Option<Instant> = None;
        // Kept across connections: a notice taken before a reconnect is
        // not taken again after it.
        let mut seen = Seen::default();
        loop {
            match self.listen() {
                Ok(mut client) => {
                    if let Some(since) = down_since.take() {
                        tracing::info!(after = ?since.elapsed(), "following the other instances again");
                    }
                    backoff = Duration::from_millis(50);
                    if let Err(e) = self.serve(&mut client, &mut seen) {
                        tracing::warn!(error = %e, "lost the connection that follows the other instances");
                        self.follow.hearing(false);
                        down_since = Some(Instant::now());
                    }
                }
                Err(e) => {
                    self.follow.hearing(false);
                    if down_since.is_none() {
                        tracing::warn!(error = %e, "cannot follow the other instances; retrying");
                        down_since = Some(Instant::now());
                    }
                    // Counts made while no one can be told are not kept.
                    while self.outbox.try_recv().is_ok() {}
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    fn listen(&self) -> Result<Client, String> {
        let mut client = connect(&self.target.url).map_err(|e| e.to_string())?;
        client
            .batch_execute("LISTEN users_log; LISTEN users_throttle")
            .map_err(|e| e.to_string())?;
        Ok(client)
    }

    /// Relays counts and notifications until the connection fails.
    fn serve(&self, client: &mut Client, seen: &mut Seen) -> Result<(), String> {
        let me: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(|e| e.to_string())?
            .get(0);
        // In step again once whatever was committed while no one listened
        // has been applied.
        let mut missed = Some(self.follow.request());
        let mut checked = Instant::now();
        loop {
            if missed.is_some_and(|ticket| self.follow.covered(ticket)) {
                self.follow.hearing(true);
                missed = None;
            }
            while let Ok(r) = self.outbox.try_recv() {
                // Its own counts are never taken from someone sending them back.
                seen.first_time(&r.nonce);
                let json = serde_json::to_vec(&r).map_err(|e| e.to_string())?;
                let sealed = self.target.cipher.encrypt(&json);
                client
                    .execute("SELECT pg_notify('users_throttle', $1)", &[&sealed])
                    .map_err(|e| e.to_string())?;
            }
            let note = client.notifications().timeout_iter(WAIT).next();
            match note {
                Ok(None) => {
                    if checked.elapsed() >= CHECK_EVERY {
                        if client.is_valid(CHECK_EVERY).is_err() {
                            return Err("the connection stopped answering".into());
                        }
                        checked = Instant::now();
                    }
                }
                Err(e) => return Err(e.to_string()),
                Ok(Some(n)) if n.process_id() == me => {}
                Ok(Some(n)) if n.channel() == "users_log" => {
                    // A batch the writer has applied (its own, most often)
                    // needs no catching up; a notice that is not a number
                    // is not one of ours.
                    let applied = self.target.applied.load(Ordering::SeqCst);
                    if n.payload().parse::<i64>().is_ok_and(|seq| seq > applied) {
                        self.follow.request();
                    }
                }
                Ok(Some(n)) => self.observe(n.payload(), seen),
            }
        }
    }

    fn observe(&self, sealed: &str, seen: &mut Seen) {
        let relayed = self
            .target
            .cipher
            .decrypt_with_ttl(sealed, FRESH.as_secs())
            .ok()
            .and_then(|plain| serde_json::from_slice::<Relayed>(&plain).ok());
        // By what it holds, not its text: a token's text can be varied
        // without changing what it opens to.
        match relayed {
            Some(r) if seen.first_time(&r.nonce) => {
                self.throttle.observe(&r.key, r.failed, SystemTime::now())
            }
            _ => seen.ignored(),
        }
    }
}

/// Counts taken in the last [`FRESH`] (twice that, to be safe), by their
/// nonces; and notices ignored, reported at most once a minute.
#[derive(Default)]
struct Seen {
    at: HashSet<String>,
    order: VecDeque<(Instant, String)>,
    ignored: u64,
    reported: Option<Instant>,
}

impl Seen {
    /// True the first time `nonce` is seen.
    fn first_time(&mut self, nonce: &str) -> bool {
        let now = Instant::now();
        while let Some((t, _)) = self.order.front() {
            if now.duration_since(*t) <= FRESH * 2 && self.order.len() < SEEN_MAX {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.at.remove(&old);
            }
        }
        if !self.at.insert(nonce.to_owned()) {
            return false;
        }
        self.order.push_back((now, nonce.to_owned()));
        true
    }

    /// A notice sent again, stale, or not sealed under the store's key.
    fn ignored(&mut self) {
        self.ignored += 1;
        if self
            .reported
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
        {
            tracing::warn!(
                ignored = self.ignored,
                "failure counts sent again, stale, or not sealed under the store's key were ignored"
            );
            self.reported = Some(Instant::now());
            self.ignored = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_taken_once() {
        let mut seen = Seen::default();
        assert!(seen.first_time("nonce-one"));
        assert!(!seen.first_time("nonce-one"));
        assert!(seen.first_time("nonce-two"));
    }
}
