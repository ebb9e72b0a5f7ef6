//! Requests parked on the socket thread until this instance has caught up.
//!
//! On a store shared by several instances, a request refused for a session
//! this instance does not know may have been made with a session another
//! instance started a moment ago. Rather than refuse it, the socket thread
//! asks the writer to catch up and parks the request, holding no thread,
//! until the catch-up is done; then it is handled again, and refused only if
//! the session is still unknown. The parking lot is bounded: past
//! [`MAX_PARKED`], or after [`MAX_WAIT`], a request is handled again at once.

use super::replies::ReplyTo;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use users_protocol::Request;

/// The most requests parked at once.
pub const MAX_PARKED: usize = 4096;
/// The longest a request stays parked.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// A parked request.
pub struct Parked {
    /// The catch-up it waits for.
    pub ticket: u64,
    pub to: ReplyTo,
    pub request: Request,
    pub peer: Option<String>,
    since: Instant,
}

/// See the module documentation.
#[derive(Default)]
pub struct ParkingLot {
    waiting: VecDeque<Parked>,
}

impl ParkingLot {
    /// True while another request may be parked.
    pub fn has_room(&self) -> bool {
        self.waiting.len() < MAX_PARKED
    }

    /// True while requests wait.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Parks a request until catch-up `ticket` is done.
    pub fn park(&mut self, ticket: u64, to: ReplyTo, request: Request, peer: Option<String>) {
        self.waiting.push_back(Parked {
            ticket,
            to,
            request,
            peer,
            since: Instant::now(),
        });
    }

    /// The requests whose catch-up is done (`covered`), or that waited
    /// [`MAX_WAIT`], oldest first. Tickets only grow, so the oldest are
    /// ready first.
    pub fn ready(&mut self, covered: impl Fn(u64) -> bool) -> Vec<Parked> {
        let mut out = Vec::new();
        while let Some(p) = self.waiting.front() {
            if !covered(p.ticket) && p.since.elapsed() < MAX_WAIT {
                break;
            }
            out.extend(self.waiting.pop_front());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> ReplyTo {
        ReplyTo {
            envelope: vec![],
            request_id: None,
        }
    }

    #[test]
    fn a_request_waits_for_its_catch_up_and_no_longer() {
        let mut lot = ParkingLot::default();
        lot.park(1, to(), Request::HealthCheck {}, None);
        lot.park(2, to(), Request::HealthCheck {}, None);
        assert!(lot.ready(|_| false).is_empty());
        assert_eq!(lot.ready(|t| t <= 1).len(), 1);
        assert!(!lot.is_empty());
        lot.waiting[0].since -= MAX_WAIT;
        assert_eq!(lot.ready(|_| false).len(), 1, "waited long enough");
        assert!(lot.is_empty());
    }
}
