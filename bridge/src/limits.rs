//! Token buckets: `rate` requests per second, bursts up to `2 × rate`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// One bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64, now: Instant) -> Self {
        Bucket {
            tokens: rate * 2.0,
            last: now,
            rate,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
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
}

/// Buckets by client IP.
pub struct PerIp {
    rate: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl PerIp {
    /// No buckets yet.
    pub fn new(rate: f64) -> Self {
        PerIp {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `ip`'s bucket.
    pub fn take(&self, ip: IpAddr, now: Instant) -> bool {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() > 10_000 {
            // Full buckets carry no information: forget them.
            b.retain(|_, bucket| !bucket.is_full(now));
        }
        b.entry(ip)
            .or_insert_with(|| Bucket::new(self.rate, now))
            .take(now)
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
}
