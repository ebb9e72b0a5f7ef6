//! Events that go with no change: failed and throttled logins. A login
//! never waits for them: they wait here, in a bounded buffer, for the
//! writer's next commit, which the writer makes at least once a second
//! while any are waiting. Past the bound, events are counted instead of
//! kept, and the count is recorded as one event.

use super::event::Event;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Most events that wait at once.
pub const MAX_WAITING: usize = 10_000;

/// The waiting events.
#[derive(Default)]
pub struct AuditQueue {
    waiting: Mutex<Vec<Event>>,
    dropped: AtomicU64,
}

impl AuditQueue {
    /// Adds an event, or counts it when the buffer is full.
    pub fn push(&self, e: Event) {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() < MAX_WAITING {
            w.push(e);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes every waiting event, and how many were counted instead.
    pub fn take(&self) -> (Vec<Event>, u64) {
        let w = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        (w, self.dropped.swap(0, Ordering::Relaxed))
    }

    /// Whether any event waits.
    pub fn is_empty(&self) -> bool {
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
        for _ in 0..MAX_WAITING + 3 {
            q.push(Event::new(AuditKind::LoginFailed, None, id));
        }
        let (events, dropped) = q.take();
        assert_eq!((events.len(), dropped), (MAX_WAITING, 3));
        assert!(q.is_empty());
    }
}
