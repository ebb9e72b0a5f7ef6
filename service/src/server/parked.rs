//! Requests parked on the socket thread until this instance has caught up.
//!
//! On a store shared by several instances, what one instance does not know
//! may have been made on another a moment ago: a session, an account a
//! login or a lookup names, or the freeing of a name taken here (an account
//! deleted or renamed). A request whose first look ([`Look::First`]) misses
//! so ([`may_be_news`]) is not answered: the socket thread asks the writer to
//! catch up and parks the request, holding no thread, until the catch-up is
//! done; then it is handled again ([`Look::Again`]), and refused only if it
//! still misses. A hit costs nothing: only misses wait, and one catch-up
//! serves every request parked before it began. (A name that is free here
//! and taken elsewhere needs no catch-up: the writer checks every write
//! under the store's lock, after reading what the others committed.)
//!
//! The parking lot is bounded: past [`MAX_PARKED`], or
//! [`MAX_PARKED_PER_PEER`] from one client, a request is answered at once
//! from what this instance knows; one whose catch-up has not come after
//! [`MAX_WAIT`] is answered as unavailable, since what it names can be
//! neither confirmed nor denied.
//!
//! [`Look::First`]: crate::actions::Look::First
//! [`Look::Again`]: crate::actions::Look::Again

use super::replies::ReplyTo;
use crate::actions::Step;
use crate::auth::peer::Caller;
use crate::error::ServiceError;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use users_protocol::Request;

/// The most requests parked at once.
pub(crate) const MAX_PARKED: usize = 4096;
/// The most requests parked at once from one client address.
pub(crate) const MAX_PARKED_PER_PEER: usize = 64;
/// The longest a request stays parked.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(1);

/// True if `step`, the first look at `request`, rests on something this
/// instance does not know and another instance may have made: then it is
/// looked at again after a catch-up. A session refused is one only if the
/// request names one (`list_users` without a session names none).
pub(crate) fn may_be_news(step: &Step, request: &Request) -> bool {
    match step {
        Step::CatchUp => true,
        Step::Done(Err(ServiceError::SessionInvalid)) => request.session_token().is_some(),
        Step::Done(Err(
            ServiceError::NotFound
            | ServiceError::UsernameTaken
            | ServiceError::EmailTaken
            | ServiceError::InviteInvalid
            | ServiceError::ResetInvalid,
        )) => true,
        _ => false,
    }
}

/// A parked request.
pub(crate) struct Parked {
    /// The catch-up it waits for.
    pub ticket: u64,
    pub to: ReplyTo,
    pub request: Request,
    pub caller: Caller,
    since: Instant,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct ParkingLot {
    waiting: VecDeque<Parked>,
    by_peer: HashMap<Option<String>, usize>,
}

impl ParkingLot {
    /// True while another request from `caller` may be parked.
    pub(crate) fn has_room(&self, caller: &Caller) -> bool {
        self.waiting.len() < MAX_PARKED
            && self.by_peer.get(&caller.peer_key()).copied().unwrap_or(0) < MAX_PARKED_PER_PEER
    }

    /// True while requests wait.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Parks a request until catch-up `ticket` is done.
    pub(crate) fn park(&mut self, ticket: u64, to: ReplyTo, request: Request, caller: Caller) {
        *self.by_peer.entry(caller.peer_key()).or_insert(0) += 1;
        self.waiting.push_back(Parked {
            ticket,
            to,
            request,
            caller,
            since: Instant::now(),
        });
    }

    /// The requests whose catch-up is done (`covered`), or that waited
    /// [`MAX_WAIT`], oldest first, each with whether its catch-up came.
    /// Tickets only grow, so the oldest are ready first.
    pub(crate) fn ready(&mut self, covered: impl Fn(u64) -> bool) -> Vec<(Parked, bool)> {
        let mut out = Vec::new();
        while let Some(p) = self.waiting.front() {
            let came = covered(p.ticket);
            if !came && p.since.elapsed() < MAX_WAIT {
                break;
            }
            let Some(p) = self.waiting.pop_front() else {
                break;
            };
            let key = p.caller.peer_key();
            if let Some(n) = self.by_peer.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.by_peer.remove(&key);
                }
            }
            out.push((p, came));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::peer::Peer;

    fn to() -> ReplyTo {
        ReplyTo {
            endpoint: crate::server::routers::Endpoint::Public,
            envelope: vec![],
            request_id: None,
            attempt: Default::default(),
            since: std::time::Instant::now(),
        }
    }

    #[test]
    fn a_request_waits_for_its_catch_up_and_no_longer() {
        let mut lot = ParkingLot::default();
        lot.park(1, to(), Request::HealthCheck {}, Caller::default());
        lot.park(2, to(), Request::HealthCheck {}, Caller::default());
        assert!(lot.ready(|_| false).is_empty());
        let ready = lot.ready(|t| t <= 1);
        assert_eq!(ready.len(), 1);
        assert!(ready[0].1, "its catch-up came");
        assert!(!lot.is_empty());
        lot.waiting[0].since -= MAX_WAIT;
        let ready = lot.ready(|_| false);
        assert_eq!(ready.len(), 1, "waited long enough");
        assert!(!ready[0].1, "without its catch-up");
        assert!(lot.is_empty());
    }

    #[test]
    fn misses_wait_for_a_catch_up_and_hits_do_not() {
        let with_token: Request = serde_json::from_value(serde_json::json!(
            {"action": "get_user", "session_token": "t", "username": "someone"}
        ))
        .unwrap();
        let without: Request =
            serde_json::from_value(serde_json::json!({"action": "list_users"})).unwrap();
        let refused = |e| Step::Done(Err(e));
        assert!(may_be_news(&Step::CatchUp, &without));
        for e in [
            ServiceError::SessionInvalid,
            ServiceError::NotFound,
            ServiceError::UsernameTaken,
            ServiceError::EmailTaken,
        ] {
            assert!(may_be_news(&refused(e), &with_token));
        }
        assert!(!may_be_news(
            &refused(ServiceError::SessionInvalid),
            &without
        ));
        assert!(!may_be_news(
            &refused(ServiceError::InvalidCredentials),
            &with_token
        ));
        assert!(!may_be_news(
            &Step::Done(Err(ServiceError::Busy)),
            &with_token
        ));
    }

    #[test]
    fn one_client_parks_only_its_share() {
        let mut lot = ParkingLot::default();
        let caller = |a: &str| Caller {
            peer: Some(Peer::Direct(a.to_owned())),
            agent: None,
        };
        let peer = caller("10.0.0.9");
        for t in 0..MAX_PARKED_PER_PEER as u64 {
            assert!(lot.has_room(&peer));
            lot.park(t, to(), Request::HealthCheck {}, peer.clone());
        }
        assert!(!lot.has_room(&peer));
        assert!(lot.has_room(&caller("10.0.0.10")), "others still may");
        assert_eq!(lot.ready(|_| true).len(), MAX_PARKED_PER_PEER);
        assert!(lot.has_room(&peer), "its share is back");
    }
}
