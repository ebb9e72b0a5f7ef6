//! `GET /metrics`, in the Prometheus text format: connections, requests by
//! action and outcome, replies by error code, relay latency, and whether the
//! service answers. Counts only: no user, token or address is ever named.
//! Served to loopback and to `--metrics-allow` addresses only.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts};
use std::net::IpAddr;
use std::sync::OnceLock;
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

/// The series; each is updated without a lock once its labels were first
/// seen.
pub(crate) struct Metrics {
    registry: prometheus::Registry,
    connections: IntGauge,
    in_flight: IntGauge,
    service_up: IntGauge,
    requests: IntCounterVec,
    /// `requests` by action (the last slot: an action that could not be
    /// read) and outcome (success, then each error code), looked up once.
    request_cells: Vec<OnceLock<IntCounter>>,
    /// `users_bridge_errors_total` by code, every code shown from the start.
    errors: Vec<IntCounter>,
    relay: Histogram,
    verdicts: [IntCounter; Verdict::ALL.len()],
}

/// A JSON string member's value, found without parsing the whole text: the
/// bridge relays requests and replies unparsed, and counts from this alone.
/// `quoted_key` is the member's name in its quotes.
fn string_member<'a>(json: &'a str, quoted_key: &str) -> Option<&'a str> {
    let at = json.find(quoted_key)? + quoted_key.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let value = rest.strip_prefix('"')?;
    value.find('"').map(|end| &value[..end])
}

impl Metrics {
    /// Every series, registered with the process collector.
    pub(crate) fn new() -> prometheus::Result<Metrics> {
        let requests = IntCounterVec::new(
            Opts::new(
                "users_bridge_requests_total",
                "Requests relayed, by action and outcome (success or the error code).",
            ),
            &["action", "outcome"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new("users_bridge_errors_total", "Error replies, by code."),
            &["code"],
        )?;
        let verdicts = IntCounterVec::new(
            Opts::new(
                "users_bridge_forward_auth_total",
                "Forward-auth answers (/auth/verify, /auth/forward), by result.",
            ),
            &["result"],
        )?;
        let m = Metrics {
            connections: IntGauge::new("users_bridge_connections", "Open WebSocket connections.")?,
            in_flight: IntGauge::new(
                "users_bridge_requests_in_flight",
                "Requests waiting for the service.",
            )?,
            service_up: IntGauge::new(
                "users_bridge_service_up",
                "1 when the service answers a health check.",
            )?,
            request_cells: (0..ACTIONS * OUTCOMES).map(|_| OnceLock::new()).collect(),
            errors: ErrorCode::ALL
                .iter()
                .map(|c| errors.with_label_values(&[c.as_str()]))
                .collect(),
            relay: Histogram::with_opts(
                HistogramOpts::new(
                    "users_bridge_relay_seconds",
                    "Time from relaying a request to its reply.",
                )
                .buckets(BUCKETS.to_vec()),
            )?,
            verdicts: Verdict::ALL.map(|v| verdicts.with_label_values(&[v.as_str()])),
            registry: prometheus::Registry::new(),
            requests,
        };
        let collectors: [Box<dyn Collector>; 8] = [
            Box::new(m.connections.clone()),
            Box::new(m.in_flight.clone()),
            Box::new(m.service_up.clone()),
            Box::new(m.requests.clone()),
            Box::new(errors),
            Box::new(m.relay.clone()),
            Box::new(verdicts),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for c in collectors {
            m.registry.register(c)?;
        }
        Ok(m)
    }

    /// Counts one relayed request, its reply and how long the service took.
    pub(crate) fn record(&self, request: &str, reply: &str, took: Option<Duration>) {
        let action = string_member(request, r#""action""#)
            .and_then(Action::from_name)
            .and_then(|a| Action::ALL.iter().position(|x| *x == a))
            .unwrap_or(Action::ALL.len());
        let outcome = match string_member(reply, r#""status""#) {
            Some("success") => 0,
            _ => {
                let code = string_member(reply, r#""code""#)
                    .and_then(ErrorCode::from_name)
                    .unwrap_or(ErrorCode::Internal);
                1 + ErrorCode::ALL.iter().position(|c| *c == code).unwrap_or(0)
            }
        };
        self.request_cells[action * OUTCOMES + outcome]
            .get_or_init(|| {
                let action = Action::ALL.get(action).map_or("unknown", |x| x.as_str());
                let outcome = outcome
                    .checked_sub(1)
                    .and_then(|i| ErrorCode::ALL.get(i))
                    .map_or("success", |c| c.as_str());
                self.requests.with_label_values(&[action, outcome])
            })
            .inc();
        if let Some(errors) = outcome.checked_sub(1).and_then(|i| self.errors.get(i)) {
            errors.inc();
        }
        if let Some(took) = took {
            self.relay.observe(took.as_secs_f64());
        }
    }

    /// Counts one forward-auth answer.
    pub(crate) fn count_verdict(&self, v: Verdict) {
        self.verdicts[v as usize].inc();
    }

    /// The text of `/metrics` (Prometheus text format 0.0.4), given the
    /// live figures kept elsewhere.
    pub(crate) fn render(
        &self,
        connections: usize,
        in_flight: usize,
        service_up: bool,
    ) -> Result<String, prometheus::Error> {
        self.connections.set(connections as i64);
        self.in_flight.set(in_flight as i64);
        self.service_up.set(i64::from(service_up));
        let mut out = String::new();
        prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out)?;
        Ok(out)
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
        let m = Metrics::new().unwrap();
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
        let text = m.render(2, 0, true).unwrap();
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
        assert!(text.contains("users_bridge_connections 2"));
        assert!(text.contains(r#"users_bridge_errors_total{code="forbidden"} 0"#));
        assert!(text.contains("process_resident_memory_bytes "));
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
