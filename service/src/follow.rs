//! [`Follow`]: asking the writer to catch up with what other instances
//! committed to a shared store, and waiting until it has.
//!
//! A request that names a session or an account this instance does not know
//! may name one another instance made a moment ago: before it is refused,
//! the writer reads what the others committed since it last looked (see
//! `server::parked`). Each request is a ticket; the writer
//! reports the last ticket its catch-up covers, since one catch-up serves
//! every ticket handed out before it began.
//!
//! It also says whether this instance is in step with the others. While the
//! writer cannot catch up, or the listener cannot hear the others, a session
//! ended elsewhere could still be accepted here: after [`STALE_AFTER`] of
//! that, [`Follow::in_step`] is false and sessions are refused as
//! unavailable, not trusted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long this instance may be out of step before it stops trusting the
/// sessions it holds.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(1);

type Wake = Box<dyn Fn() + Send + Sync>;

/// See the module documentation.
#[derive(Default)]
pub(crate) struct Follow {
    /// Tickets handed out, and the last one a finished catch-up covers.
    tickets: Mutex<(u64, u64)>,
    /// Wakes the writer; none outside `server::run`, or for a store of one.
    wake: Mutex<Option<Wake>>,
    /// Since when the writer's catch-ups fail, if they do.
    failing_since: Mutex<Option<Instant>>,
    /// Since when a ticket has waited for a catch-up, if one does: a writer
    /// stuck (on the lock, a slow connection) fails nothing, but does not
    /// catch up either.
    waiting_since: Mutex<Option<Instant>>,
    /// Since when the listener cannot hear the others, if it cannot.
    deaf_since: Mutex<Option<Instant>>,
    /// Whether a listener was ever started: a store of one has none.
    listening: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets `since` to now if it is not set and `ok` is false; clears it if `ok`.
fn mark(since: &Mutex<Option<Instant>>, ok: bool) {
    let mut s = lock(since);
    match (ok, *s) {
        (true, _) => *s = None,
        (false, None) => *s = Some(Instant::now()),
        (false, Some(_)) => {}
    }
}

fn longer_than(since: &Mutex<Option<Instant>>, limit: Duration) -> bool {
    lock(since).is_some_and(|t| t.elapsed() > limit)
}

impl Follow {
    fn tickets(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        self.tickets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (or, with `None`, clears) how the writer is woken. Until it is
    /// set, [`Follow::request`] asks no one.
    pub(crate) fn set_wake(&self, wake: Option<Wake>) {
        *self.wake.lock().unwrap_or_else(|e| e.into_inner()) = wake;
    }

    /// True while a writer follows a shared store.
    pub(crate) fn enabled(&self) -> bool {
        self.wake
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Asks the writer to catch up; returns the ticket to wait for.
    pub(crate) fn request(&self) -> u64 {
        let ticket = {
            let mut t = self.tickets();
            t.0 += 1;
            t.0
        };
        lock(&self.waiting_since).get_or_insert_with(Instant::now);
        if let Some(wake) = &*self.wake.lock().unwrap_or_else(|e| e.into_inner()) {
            wake();
        }
        ticket
    }

    /// The last ticket handed out, which a catch-up about to start covers.
    pub(crate) fn issued(&self) -> u64 {
        self.tickets().0
    }

    /// Called by the writer once a catch-up that began after `ticket` was
    /// issued has been applied. True if it covers tickets not covered before.
    pub(crate) fn completed(&self, ticket: u64) -> bool {
        self.caught_up(true);
        let mut t = self.tickets();
        let advanced = ticket > t.1;
        if advanced {
            t.1 = ticket;
        }
        // Tickets issued during this catch-up wait for the next one.
        *lock(&self.waiting_since) = (t.0 > t.1).then(Instant::now);
        advanced
    }

    /// True once a catch-up that began after `ticket` was issued has finished.
    pub(crate) fn covered(&self, ticket: u64) -> bool {
        self.tickets().1 >= ticket
    }

    /// The writer reports whether its last catch-up succeeded (a success
    /// also comes with [`Follow::completed`]).
    pub(crate) fn caught_up(&self, ok: bool) {
        mark(&self.failing_since, ok);
    }

    /// The listener reports whether it hears the other instances.
    pub(crate) fn hearing(&self, ok: bool) {
        self.listening.store(true, Ordering::SeqCst);
        mark(&self.deaf_since, ok);
    }

    /// True unless this instance has been out of step with the others for
    /// longer than [`STALE_AFTER`] (see the module documentation). Always
    /// true for a store no one else shares.
    pub(crate) fn in_step(&self) -> bool {
        let failing = longer_than(&self.failing_since, STALE_AFTER)
            || longer_than(&self.waiting_since, STALE_AFTER);
        let deaf =
            self.listening.load(Ordering::SeqCst) && longer_than(&self.deaf_since, STALE_AFTER);
        !(failing || deaf)
    }

    /// How long this instance has been behind the others: since a catch-up
    /// was first asked for and not yet done, since catch-ups began to fail,
    /// or since the listener stopped hearing the others, whichever is
    /// longest; zero when in step.
    pub(crate) fn lag(&self) -> Duration {
        [&self.waiting_since, &self.failing_since, &self.deaf_since]
            .iter()
            .filter_map(|since| lock(since).map(|t| t.elapsed()))
            .max()
            .unwrap_or_default()
    }

    /// [`Follow::in_step`] as the error a request is refused with: a
    /// session ended elsewhere may not have reached this instance, so none
    /// is trusted, and no token is handed out that it would refuse.
    pub(crate) fn check_in_step(&self) -> crate::error::Result<()> {
        match self.in_step() {
            true => Ok(()),
            false => Err(crate::error::ServiceError::StoreUnavailable(
                "out of step with the other instances".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_catch_up_covers_the_tickets_issued_before_it_began() {
        let f = Follow::default();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&woken);
        f.set_wake(Some(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        })));
        let (a, b) = (f.request(), f.request());
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        let covered = f.issued();
        let c = f.request();
        f.completed(covered);
        assert!(f.covered(a) && f.covered(b));
        assert!(
            !f.covered(c),
            "a ticket issued after the catch-up began is not covered by it"
        );
        f.completed(c);
        assert!(f.covered(c));
    }

    #[test]
    fn a_catch_up_that_does_not_come_is_out_of_step_too() {
        let f = Follow::default();
        let t = f.request();
        assert!(f.in_step());
        *lock(&f.waiting_since) = Some(Instant::now() - STALE_AFTER * 2);
        assert!(!f.in_step(), "a writer that never answers");
        f.completed(t);
        assert!(f.in_step());
    }

    #[test]
    fn out_of_step_only_after_a_while() {
        let f = Follow::default();
        assert!(f.in_step());
        f.caught_up(false);
        assert!(f.in_step(), "a moment's failure is not yet out of step");
        *lock(&f.failing_since) = Some(Instant::now() - STALE_AFTER * 2);
        assert!(!f.in_step());
        f.caught_up(true);
        assert!(f.in_step());
        f.hearing(false);
        *lock(&f.deaf_since) = Some(Instant::now() - STALE_AFTER * 2);
        assert!(!f.in_step(), "deaf for a while");
        f.hearing(true);
        assert!(f.in_step());
    }
}
