//! Request rates per peer: token buckets of `rate` a second, bursts of twice
//! that. Trusted peers (the bridge, which limits its own clients) are exempt.

use super::peer::is_trusted;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets by peer address. A full bucket carries no information, so it is
/// forgotten: a few at a time as requests go by, never by walking the table.
pub(crate) struct PeerRate {
    rate: f64,
    trusted: Vec<IpAddr>,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_peer: HashMap<String, Bucket>,
    /// (when full again, peer), oldest first; a bucket may have several.
    refill: VecDeque<(Instant, String)>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets looked at, at most, per request.
const FORGET_PER_CALL: usize = 8;

impl PeerRate {
    /// `rate` requests a second per peer; `trusted` peers are not counted.
    pub(crate) fn new(rate: f64, trusted: Vec<IpAddr>) -> Self {
        PeerRate {
            // Above zero and finite, so that the refill arithmetic holds.
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                1e-6
            },
            trusted,
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// Takes a token for `peer`; false when it has none left. A request with
    /// no peer address (inproc) is not counted.
    pub(crate) fn take(&self, peer: Option<&str>, now: Instant) -> bool {
        let Some(peer) = peer else { return true };
        if is_trusted(peer, &self.trusted) {
            return true;
        }
        let (rate, burst) = (self.rate, self.rate * 2.0);
        let fill = |b: &Bucket| {
            (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..FORGET_PER_CALL {
            match buckets.refill.front() {
                Some((at, _)) if *at <= now => {}
                _ => break,
            }
            if let Some((_, old)) = buckets.refill.pop_front() {
                if buckets.by_peer.get(&old).is_some_and(|b| fill(b) >= burst) {
                    buckets.by_peer.remove(&old);
                }
            }
        }
        let b = buckets.by_peer.entry(peer.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        b.tokens = fill(b);
        b.last = now;
        let taken = b.tokens >= 1.0;
        if taken {
            b.tokens -= 1.0;
        }
        let full_at =
            now + Duration::from_secs_f64(((burst - b.tokens) / rate).clamp(0.0, 86_400.0));
        buckets.refill.push_back((full_at, peer.to_owned()));
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_per_peer_and_spares_the_trusted() {
        let r = PeerRate::new(2.0, vec!["10.0.0.9".parse().unwrap()]);
        let t0 = Instant::now();
        let taken = (0..10).filter(|_| r.take(Some("10.0.0.1"), t0)).count();
        assert_eq!(taken, 4);
        assert!(
            r.take(Some("10.0.0.2"), t0),
            "another peer has its own bucket"
        );
        assert!(r.take(Some("10.0.0.1"), t0 + Duration::from_millis(600)));
        assert!((0..10).all(|_| r.take(Some("10.0.0.9"), t0)));
        assert!(r.take(None, t0));
    }

    #[test]
    fn full_buckets_are_forgotten_as_requests_go_by() {
        let r = PeerRate::new(10.0, vec![]);
        let t0 = Instant::now();
        for i in 0..300 {
            r.take(Some(&format!("10.1.{}.{}", i / 256, i % 256)), t0);
        }
        let later = t0 + Duration::from_secs(5);
        for _ in 0..60 {
            r.take(Some("10.9.9.9"), later);
        }
        let left = r.buckets.lock().unwrap().by_peer.len();
        assert_eq!(left, 1, "only the peer still asking keeps a bucket");
    }
}
