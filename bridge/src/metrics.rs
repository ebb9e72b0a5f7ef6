//! `GET /metrics`, in the Prometheus text format: connections, requests by
//! action and outcome, replies by error code, relay latency, and whether the
//! service answers. Counts only: no user, token or address is ever named.
//! Served to loopback and to `--metrics-allow` addresses only.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use users_protocol::{Action, ErrorCode};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];
/// Actions, then one slot for requests whose action could not be read.
const ACTIONS: usize = Action::ALL.len() + 1;
/// `success`, then each error code.
const OUTCOMES: usize = ErrorCode::ALL.len() + 1;

/// A forward-auth answer (`/auth/verify`, `/auth/forward`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Verdict {
    /// 200.
    Allowed,
    /// 401 or a redirect to sign in.
    NoSignIn,
    /// 403: the role, or a host no rule names.
    Denied,
    /// 503: the service did not answer.
    Unavailable,
}

impl Verdict {
    const ALL: [Verdict; 4] = [
        Verdict::Allowed,
        Verdict::NoSignIn,
        Verdict::Denied,
        Verdict::Unavailable,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::NoSignIn => "no_sign_in",
            Verdict::Denied => "denied",
            Verdict::Unavailable => "unavailable",
        }
    }
}

/// The counters; every field is updated without a lock.
pub(crate) struct Metrics {
    requests: [[AtomicU64; OUTCOMES]; ACTIONS],
    verdicts: [AtomicU64; Verdict::ALL.len()],
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            verdicts: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_micros: AtomicU64::new(0),
        }
    }
}

/// A JSON string member's value, found without parsing the whole text: the
/// bridge relays requests and replies unparsed, and counts from this alone.
fn string_member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let value = rest.strip_prefix('"')?;
    value.find('"').map(|end| &value[..end])
}

impl Metrics {
    /// Counts one relayed request, its reply and how long the service took.
    pub(crate) fn record(&self, request: &str, reply: &str, took: Option<Duration>) {
        let action = string_member(request, "action")
            .and_then(Action::from_name)
            .and_then(|a| Action::ALL.iter().position(|x| *x == a))
            .unwrap_or(Action::ALL.len());
        let outcome = match string_member(reply, "status") {
            Some("success") => 0,
            _ => string_member(reply, "code")
                .and_then(ErrorCode::from_name)
                .and_then(|c| ErrorCode::ALL.iter().position(|x| *x == c))
                .map_or(
                    1 + ErrorCode::ALL
                        .iter()
                        .position(|c| *c == ErrorCode::Internal)
                        .unwrap_or(0),
                    |i| i + 1,
                ),
        };
        self.requests[action][outcome].fetch_add(1, Ordering::Relaxed);
        if let Some(took) = took {
            let secs = took.as_secs_f64();
            for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
                if secs <= bound {
                    bucket.fetch_add(1, Ordering::Relaxed);
                }
            }
            self.latency_count.fetch_add(1, Ordering::Relaxed);
            self.latency_micros
                .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        }
    }

    /// Counts one forward-auth answer.
    pub(crate) fn count_verdict(&self, v: Verdict) {
        self.verdicts[v as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The text of `/metrics`, given the live figures kept elsewhere.
    pub(crate) fn render(&self, connections: usize, in_flight: usize, service_up: bool) -> String {
        let mut out = String::new();
        gauge(
            &mut out,
            "users_bridge_connections",
            "Open WebSocket connections.",
            connections as u64,
        );
        gauge(
            &mut out,
            "users_bridge_requests_in_flight",
            "Requests waiting for the service.",
            in_flight as u64,
        );
        gauge(
            &mut out,
            "users_bridge_service_up",
            "1 when the service answers a health check.",
            u64::from(service_up),
        );
        let by_outcome = self.render_requests(&mut out);
        render_errors(&mut out, &by_outcome);
        self.render_latency(&mut out);
        let _ = writeln!(
            out,
            "# HELP users_bridge_forward_auth_total Forward-auth answers (/auth/verify, /auth/forward), by result.\n\
             # TYPE users_bridge_forward_auth_total counter"
        );
        for v in Verdict::ALL {
            let _ = writeln!(
                out,
                "users_bridge_forward_auth_total{{result=\"{}\"}} {}",
                v.as_str(),
                self.verdicts[v as usize].load(Ordering::Relaxed)
            );
        }
        out
    }

    /// `users_bridge_requests_total`, the pairs seen only; returns the counts
    /// by outcome, for `users_bridge_errors_total`.
    fn render_requests(&self, out: &mut String) -> [u64; OUTCOMES] {
        let _ = writeln!(
            out,
            "# HELP users_bridge_requests_total Requests relayed, by action and outcome (success or the error code).\n\
             # TYPE users_bridge_requests_total counter"
        );
        let mut by_outcome = [0u64; OUTCOMES];
        for (a, row) in self.requests.iter().enumerate() {
            let action = Action::ALL.get(a).map_or("unknown", |x| x.as_str());
            for (o, n) in row.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n == 0 {
                    continue;
                }
                by_outcome[o] += n;
                let outcome = o
                    .checked_sub(1)
                    .and_then(|i| ErrorCode::ALL.get(i))
                    .map_or("success", |c| c.as_str());
                let _ = writeln!(
                    out,
                    "users_bridge_requests_total{{action=\"{action}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        by_outcome
    }

    fn render_latency(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP users_bridge_relay_seconds Time from relaying a request to its reply.\n\
             # TYPE users_bridge_relay_seconds histogram"
        );
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "users_bridge_relay_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "users_bridge_relay_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "users_bridge_relay_seconds_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "users_bridge_relay_seconds_count {count}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// `users_bridge_errors_total`: every code, those never seen at 0.
fn render_errors(out: &mut String, by_outcome: &[u64; OUTCOMES]) {
    let _ = writeln!(
        out,
        "# HELP users_bridge_errors_total Error replies, by code.\n# TYPE users_bridge_errors_total counter"
    );
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        let _ = writeln!(
            out,
            "users_bridge_errors_total{{code=\"{code}\"}} {}",
            by_outcome[i + 1]
        );
    }
}

/// Whether `peer` may read `/metrics`: loopback, or an allowed address.
pub(crate) fn allowed(peer: IpAddr, allow: &[IpAddr]) -> bool {
    let peer = peer.to_canonical();
    peer.is_loopback() || allow.iter().any(|a| a.to_canonical() == peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_action_and_outcome_without_names() {
        let m = Metrics::default();
        m.record(
            r#"{"action": "login", "credentials": {"username": "alice", "password": "pw"}}"#,
            r#"{"status":"error","message":"m","code":"invalid_credentials"}"#,
            Some(Duration::from_millis(3)),
        );
        m.record(
            r#"{"action":"health_check"}"#,
            r#"{"status":"success"}"#,
            Some(Duration::from_micros(500)),
        );
        m.record(
            "not json",
            r#"{"status":"error","code":"invalid_request"}"#,
            None,
        );
        let text = m.render(2, 0, true);
        assert!(
            text.contains(
                r#"users_bridge_requests_total{action="login",outcome="invalid_credentials"} 1"#
            ),
            "{text}"
        );
        assert!(text
            .contains(r#"users_bridge_requests_total{action="health_check",outcome="success"} 1"#));
        assert!(text.contains(
            r#"users_bridge_requests_total{action="unknown",outcome="invalid_request"} 1"#
        ));
        assert!(text.contains(r#"users_bridge_errors_total{code="invalid_credentials"} 1"#));
        assert!(text.contains(r#"users_bridge_relay_seconds_bucket{le="0.001"} 1"#));
        assert!(text.contains("users_bridge_relay_seconds_count 2"));
        assert!(text.contains("users_bridge_service_up 1"));
        assert!(!text.contains("alice") && !text.contains("pw\""));
    }

    #[test]
    fn loopback_and_allowed_addresses_only() {
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(allowed("127.0.0.1".parse().unwrap(), &[]));
        assert!(allowed("::1".parse().unwrap(), &[]));
        assert!(!allowed(other, &[]));
        assert!(allowed(other, &[other]));
    }
}
