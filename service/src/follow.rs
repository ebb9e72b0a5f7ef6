//! [`Follow`]: asking the writer to catch up with what other instances
//! committed to a shared store, and waiting until it has.
//!
//! A request that names a session this instance does not know may have
//! been made with a session another instance started a moment ago: before it
//! is refused, the writer reads what the others committed since it last
//! looked. Each request is a ticket; the writer reports the last ticket its
//! catch-up covers, since one catch-up serves every ticket handed out before
//! it began.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

type Wake = Box<dyn Fn() + Send + Sync>;

/// See the module documentation.
#[derive(Default)]
pub struct Follow {
    /// Tickets handed out, and the last one a finished catch-up covers.
    tickets: Mutex<(u64, u64)>,
    done: Condvar,
    /// Wakes the writer; none outside `server::run`, or for a store of one.
    wake: Mutex<Option<Wake>>,
}

impl Follow {
    fn tickets(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        self.tickets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (or, with `None`, clears) how the writer is woken. Until it is
    /// set, [`Follow::request`] asks no one.
    pub fn set_wake(&self, wake: Option<Wake>) {
        *self.wake.lock().unwrap_or_else(|e| e.into_inner()) = wake;
    }

    /// True while a writer follows a shared store.
    pub fn enabled(&self) -> bool {
        self.wake
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Asks the writer to catch up; returns the ticket to wait for.
    pub fn request(&self) -> u64 {
        let ticket = {
            let mut t = self.tickets();
            t.0 += 1;
            t.0
        };
        if let Some(wake) = &*self.wake.lock().unwrap_or_else(|e| e.into_inner()) {
            wake();
        }
        ticket
    }

    /// The last ticket handed out, which a catch-up about to start covers.
    pub fn issued(&self) -> u64 {
        self.tickets().0
    }

    /// Called by the writer once a catch-up that began after `ticket` was
    /// issued has been applied.
    pub fn completed(&self, ticket: u64) {
        let mut t = self.tickets();
        if ticket > t.1 {
            t.1 = ticket;
            self.done.notify_all();
        }
    }

    /// Waits until `ticket` is covered, for at most `limit`; false if it was not.
    pub fn wait(&self, ticket: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut t = self.tickets();
        while t.1 < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            t = self
                .done
                .wait_timeout(t, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_catch_up_covers_the_tickets_issued_before_it_began() {
        let f = Arc::new(Follow::default());
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
        assert!(f.wait(a, Duration::ZERO) && f.wait(b, Duration::ZERO));
        assert!(
            !f.wait(c, Duration::from_millis(20)),
            "a ticket issued after the catch-up began is not covered by it"
        );
        let waiter = {
            let f = Arc::clone(&f);
            std::thread::spawn(move || f.wait(c, Duration::from_secs(5)))
        };
        f.completed(c);
        assert!(waiter.join().unwrap());
    }
}
