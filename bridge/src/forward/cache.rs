//! Positive answers of forward_verify, kept for at most [`FRESH`] per
//! ticket: a page that loads fifty files asks once, and a logout, a
//! revocation or a suspension still takes effect within that second on
//! every protected app. Keyed by the ticket's SHA-256, so that no ticket
//! sits in memory longer than its request.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use users_protocol::ForwardUser;

/// How long an answer is used again.
pub(crate) const FRESH: Duration = Duration::from_secs(1);
/// The most answers kept; past it, the stale ones go, then all.
const MAX_ENTRIES: usize = 10_000;

/// A ticket's SHA-256, and the host asked about.
type Key = ([u8; 32], String);

/// Who each recent ticket was, and for which host.
#[derive(Default)]
pub(crate) struct Answers(Mutex<HashMap<Key, (Instant, ForwardUser)>>);

impl Answers {
    fn key(ticket: &str, host: &str) -> Key {
        (Sha256::digest(ticket.as_bytes()).into(), host.to_owned())
    }

    /// The answer for `ticket` at `host`, if it is less than [`FRESH`] old.
    pub(crate) fn get(&self, ticket: &str, host: &str, now: Instant) -> Option<ForwardUser> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&Self::key(ticket, host))
            .filter(|(at, _)| now.duration_since(*at) < FRESH)
            .map(|(_, user)| user.clone())
    }

    /// Keeps the answer for `ticket` at `host`, given at `now`.
    pub(crate) fn put(&self, ticket: &str, host: &str, user: ForwardUser, now: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _)| now.duration_since(*at) < FRESH);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(Self::key(ticket, host), (now, user));
    }

    /// Forgets `ticket` (its session was just ended here).
    pub(crate) fn forget(&self, ticket: &str) {
        let hash: [u8; 32] = Sha256::digest(ticket.as_bytes()).into();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|(h, _), _| *h != hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use users_protocol::Role;

    fn user() -> ForwardUser {
        ForwardUser {
            username: "ann".into(),
            email: "ann@example.com".into(),
            full_name: None,
            role: Role::User,
            expires_at: "2030-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn an_answer_lasts_a_second_for_its_ticket_and_host() {
        let a = Answers::default();
        let t0 = Instant::now();
        a.put("ticket", "wiki.lan", user(), t0);
        assert_eq!(
            a.get("ticket", "wiki.lan", t0 + Duration::from_millis(900)),
            Some(user())
        );
        assert_eq!(a.get("ticket", "wiki.lan", t0 + FRESH), None);
        assert_eq!(a.get("ticket", "other.lan", t0), None);
        assert_eq!(a.get("other", "wiki.lan", t0), None);
        a.forget("ticket");
        assert_eq!(a.get("ticket", "wiki.lan", t0), None);
    }
}
