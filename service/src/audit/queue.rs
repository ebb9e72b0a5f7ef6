//! Events that go with no change: failed and throttled logins, logouts. A
//! login never waits for them: they wait here, in a bounded buffer, for the
//! writer's next commit, which the writer makes at least once a second
//! while any are waiting. Past the bound, events are counted instead of
//! kept, and the count is recorded as one event. A throttled login costs
//! no hashing, so a client could send thousands a second: one event a
//! minute per account or name, and per client address, stands for them, so
//! that a blocked client trying new names records no more than one trying
//! one name, and pushes out no one else's events.

use super::event::Event;
use crate::clock::unix_secs;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

/// Most events that wait at once.
pub(crate) const MAX_WAITING: usize = 10_000;

/// Throttled logins of one account or name, or from one client address,
/// recorded at most this often.
pub(crate) const THROTTLED_EVERY: u64 = 60;

/// The waiting events.
#[derive(Default)]
pub(crate) struct AuditQueue {
    waiting: Mutex<Vec<Event>>,
    dropped: AtomicU64,
    /// When each throttle key last had an event, in Unix seconds.
    throttled: Mutex<HashMap<String, u64>>,
}

impl AuditQueue {
    /// Adds an event that happened at `now`, or counts it when the buffer is full.
    pub(crate) fn push(&self, mut e: Event, now: SystemTime) {
        e.at.get_or_insert(unix_secs(now));
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() < MAX_WAITING {
            w.push(e);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds a throttled login against `keys` (the account's or name's, and
    /// the client's), unless one was added for any of them in the last
    /// [`THROTTLED_EVERY`] seconds.
    pub(crate) fn push_throttled(&self, keys: &[&str], e: Event, now: SystemTime) {
        let at = unix_secs(now);
        {
            let mut seen = self.throttled.lock().unwrap_or_else(|e| e.into_inner());
            let recent = |key: &&str| seen.get(*key).is_some_and(|t| at < t + THROTTLED_EVERY);
            if keys.iter().any(recent) {
                return;
            }
            // Bounded: forgetting only lets a few more events through.
            if seen.len() >= MAX_WAITING {
                seen.retain(|_, t| at < *t + THROTTLED_EVERY);
                if seen.len() >= MAX_WAITING {
                    seen.clear();
                }
            }
            for key in keys {
                seen.insert((*key).to_owned(), at);
            }
        }
        self.push(e, now);
    }

    /// Puts back events (and a count of events not kept) that a failed
    /// commit did not record, for the next one.
    pub(crate) fn put_back(&self, events: Vec<Event>, dropped: u64) {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let room = MAX_WAITING.saturating_sub(w.len());
        let lost = events.len().saturating_sub(room) as u64;
        w.extend(events.into_iter().take(room));
        self.dropped.fetch_add(lost + dropped, Ordering::Relaxed);
    }

    /// Takes every waiting event, and how many were counted instead.
    pub(crate) fn take(&self) -> (Vec<Event>, u64) {
        let w = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        (w, self.dropped.swap(0, Ordering::Relaxed))
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether any event waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
            && self.dropped.load(Ordering::Relaxed) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserId;
    use users_protocol::AuditKind;

    #[test]
    fn past_the_bound_events_are_counted() {
        let q = AuditQueue::default();
        let id = UserId::random(&mut rand::rng());
        let now = SystemTime::now();
        for _ in 0..MAX_WAITING + 3 {
            q.push(Event::new(AuditKind::LoginFailed, None, id), now);
        }
        let (events, dropped) = q.take();
        assert_eq!((events.len(), dropped), (MAX_WAITING, 3));
        assert!(q.is_empty());
    }

    #[test]
    fn throttled_logins_are_recorded_once_a_minute_per_key() {
        let q = AuditQueue::default();
        let id = UserId::random(&mut rand::rng());
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let ev = || Event::new(AuditKind::Throttled, None, id);
        for s in 0..100 {
            q.push_throttled(&["a"], ev(), t0 + std::time::Duration::from_millis(s * 10));
        }
        q.push_throttled(&["b"], ev(), t0);
        q.push_throttled(&["a"], ev(), t0 + std::time::Duration::from_secs(61));
        let (events, _) = q.take();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].at, Some(1_000_000), "stamped when it happened");
    }

    #[test]
    fn a_blocked_client_trying_new_names_records_one_event_a_minute() {
        let q = AuditQueue::default();
        let id = UserId::random(&mut rand::rng());
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let ev = || Event::new(AuditKind::Throttled, None, id);
        for n in 0..10_000 {
            let name = format!("name:made-up-{n}");
            q.push_throttled(&[&name, "forwarded:203.0.113.9"], ev(), t0);
        }
        let (events, dropped) = q.take();
        assert_eq!((events.len(), dropped), (1, 0), "{events:?}");
        // Other clients are recorded as before, on a name that client tried
        // too, and on another account.
        q.push_throttled(&["name:made-up-1", "forwarded:198.51.100.7"], ev(), t0);
        q.push_throttled(&["user:someone", "forwarded:198.51.100.8"], ev(), t0);
        assert_eq!(q.take().0.len(), 2);
    }
}
