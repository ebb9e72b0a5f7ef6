//! Request rates per peer: token buckets of `rate` a second, bursts of twice
//! that. Trusted peers (the bridge, which limits its own clients) are exempt.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets by peer address.
pub struct PeerRate {
    rate: f64,
    trusted: Vec<IpAddr>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Past this many peers, full buckets (which carry no information) are dropped.
const SWEEP_AT: usize = 10_000;

impl PeerRate {
    /// `rate` requests a second per peer; `trusted` peers are not counted.
    pub fn new(rate: f64, trusted: Vec<IpAddr>) -> Self {
        PeerRate {
            rate,
            trusted,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `peer`; false when it has none left. A request with
    /// no peer address (inproc) is not counted.
    pub fn take(&self, peer: Option<&str>, now: Instant) -> bool {
        let Some(peer) = peer else { return true };
        if peer
            .parse::<IpAddr>()
            .is_ok_and(|ip| self.trusted.contains(&ip))
        {
            return true;
        }
        let (rate, burst) = (self.rate, self.rate * 2.0);
        let fill = |b: &Bucket| {
            (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, b| fill(b) < burst);
        }
        let b = buckets.entry(peer.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        b.tokens = fill(b);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
}
