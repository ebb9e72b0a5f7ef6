//! The listener: one connection per instance that waits for the others'
//! notifications. `users_log` says another instance committed a batch, and
//! the writer is asked to follow; `users_throttle` carries a failure count
//! ([`Relayed`], sealed under the store's key, so the database never sees
//! a name). The same connection sends this instance's counts.
//!
//! Anyone who may connect to the database may also send a notice, or send a
//! captured one again: a count is taken only if it opens under the store's
//! key, was sealed less than [`FRESH`] ago (the instances' clocks must agree
//! that well), and has not been taken before. When the
//! connection fails, it connects again with a capped back-off, and asks the
//! writer to follow whatever it missed meanwhile.

use super::store::{connect, ListenTarget};
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
/// How often a quiet connection is checked.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// How old a relayed count may be.
const FRESH: Duration = Duration::from_secs(10);
/// The most counts remembered against replay; past it, older ones go first.
const SEEN_MAX: usize = 100_000;
/// The longest pause between attempts to connect.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the listener works with.
pub struct Listener {
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
    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("listener".into())
            .spawn(move || self.run())
            .map(drop)
    }

    fn run(self) {
        let mut backoff = Duration::from_millis(50);
        let mut down_since: Option<Instant> = None;
        loop {
            match self.listen() {
                Ok(mut client) => {
                    if let Some(since) = down_since.take() {
                        tracing::info!(after = ?since.elapsed(), "following the other instances again");
                    }
                    backoff = Duration::from_millis(50);
                    // Whatever was committed while no one listened.
                    self.follow.hearing(true);
                    self.follow.request();
                    if let Err(e) = self.serve(&mut client) {
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
    fn serve(&self, client: &mut Client) -> Result<(), String> {
        let me: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(|e| e.to_string())?
            .get(0);
        let mut checked = Instant::now();
        let mut seen = Seen::default();
        loop {
            while let Ok(r) = self.outbox.try_recv() {
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
                    // needs no catching up.
                    let seq = n.payload().parse::<i64>().unwrap_or(i64::MAX);
                    if seq > self.target.applied.load(Ordering::SeqCst) {
                        self.follow.request();
                    }
                }
                Ok(Some(n)) => self.observe(n.payload(), &mut seen),
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
        match relayed {
            Some(r) if seen.first_time(sealed) => {
                self.throttle.observe(&r.key, r.failed, SystemTime::now())
            }
            Some(_) => tracing::warn!("a failure count sent again was ignored"),
            None => tracing::warn!(
                "a failure count that is stale or does not open under the store's key was ignored"
            ),
        }
    }
}

/// Counts taken in the last [`FRESH`] (twice that, to be safe), by their
/// sealed form.
#[derive(Default)]
struct Seen {
    at: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl Seen {
    /// True the first time `sealed` is seen.
    fn first_time(&mut self, sealed: &str) -> bool {
        let now = Instant::now();
        while let Some((t, _)) = self.order.front() {
            if now.duration_since(*t) <= FRESH * 2 && self.order.len() < SEEN_MAX {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.at.remove(&old);
            }
        }
        if !self.at.insert(sealed.to_owned()) {
            return false;
        }
        self.order.push_back((now, sealed.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_taken_once() {
        let mut seen = Seen::default();
        assert!(seen.first_time("gAAAAA-one"));
        assert!(!seen.first_time("gAAAAA-one"));
        assert!(seen.first_time("gAAAAA-two"));
    }
}
