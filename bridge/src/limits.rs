//! Token buckets: `rate` requests per second, bursts up to `2 × rate`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(rate: f64, now: Instant) -> Self {
        Bucket {
            tokens: rate * 2.0,
            last: now,
            rate,
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.rate * 2.0
    }

    /// When the bucket will be full again, if nothing is taken meanwhile.
    fn full_at(&self) -> Instant {
        let missing = (self.rate * 2.0 - self.tokens).max(0.0);
        let secs = if self.rate > 0.0 {
            missing / self.rate
        } else {
            0.0
        };
        self.last + std::time::Duration::from_secs_f64(secs.min(86_400.0))
    }
}

/// Buckets by client IP. A full bucket carries no information, so it is
/// forgotten; a few at a time, as requests go by, never by walking the table
/// under the lock.
pub(crate) struct PerIp {
    rate: f64,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_ip: HashMap<IpAddr, Bucket>,
    /// (when full again, ip), oldest first; a bucket may have several.
    refill: VecDeque<(Instant, IpAddr)>,
}

/// Buckets looked at, at most, per request.
const FORGET_PER_CALL: usize = 8;

impl PerIp {
    pub(crate) fn new(rate: f64) -> Self {
        PerIp {
            rate,
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// Takes a token from `ip`'s bucket, a full one if it has none.
    pub(crate) fn take(&self, ip: IpAddr, now: Instant) -> bool {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..FORGET_PER_CALL {
            match b.refill.front() {
                Some((at, _)) if *at <= now => {}
                _ => break,
            }
            if let Some((_, old)) = b.refill.pop_front() {
                if b.by_ip.get(&old).is_some_and(|bucket| bucket.is_full(now)) {
                    b.by_ip.remove(&old);
                }
            }
        }
        let bucket = b
            .by_ip
            .entry(ip)
            .or_insert_with(|| Bucket::new(self.rate, now));
        let taken = bucket.take(now);
        let at = bucket.full_at();
        b.refill.push_back((at, ip));
        taken
    }

    /// Clients with a bucket now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_ip
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let t0 = Instant::now();
        let mut b = Bucket::new(5.0, t0);
        assert_eq!((0..20).filter(|_| b.take(t0)).count(), 10);
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(250)));
    }

    #[test]
    fn per_ip_is_separate() {
        let t0 = Instant::now();
        let p = PerIp::new(1.0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(p.take(a, t0) && p.take(a, t0));
        assert!(!p.take(a, t0));
        assert!(p.take(b, t0));
    }

    #[test]
    fn full_buckets_are_forgotten_as_requests_go_by() {
        let t0 = Instant::now();
        let p = PerIp::new(10.0);
        for i in 0..500u32 {
            assert!(p.take(IpAddr::from(i.to_be_bytes()), t0));
        }
        assert_eq!(p.len(), 500);
        let later = t0 + Duration::from_secs(5);
        let client: IpAddr = "10.9.9.9".parse().unwrap();
        for _ in 0..100 {
            p.take(client, later);
        }
        assert_eq!(p.len(), 1, "only the client still asking keeps a bucket");
    }
}
