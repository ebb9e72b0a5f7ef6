//! The series, and how the request path updates them. Every label value
//! comes from a closed set (an action name, an error code, a login result),
//! never from a request's content: no username, email or token can reach
//! a label, and the number of series is bounded.
//!
//! With `--metrics-listen` off, [`Metrics::off`] holds nothing and every
//! update is a test of `None`.

use crate::error::ServiceError;
use prometheus::core::Collector;
use prometheus::process_collector::ProcessCollector;
use prometheus::{
    Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry,
};
use std::sync::OnceLock;
use std::time::Duration;
use users_protocol::{Action, ErrorCode};

/// Request and hashing-wait buckets, in seconds: from a cached read to a
/// login queued behind many others.
const LATENCY: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Commit buckets, in seconds: an fsync, or a round trip to PostgreSQL.
const COMMIT: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
/// Requests' writes per group commit; the writer takes at most 512.
const BATCH: [f64; 11] = [
    0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
];

/// A login's end, for `users_service_logins_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginResult {
    /// A session was handed out.
    Success,
    /// A wrong credential, or an account that may not log in.
    Failure,
    /// Refused unchecked: the account's or the address's throttle, or a
    /// full queue.
    Throttled,
}

impl LoginResult {
    /// How a login (`login`, `passkey_login_finish`) ended, given its error
    /// if it failed. `None` for what says nothing of the credentials: a
    /// prompt for the second factor, a malformed request, the store
    /// unavailable (those count under `users_service_requests_total`).
    pub(crate) fn of(error: Option<&ServiceError>) -> Option<LoginResult> {
        match error {
            None => Some(LoginResult::Success),
            Some(
                ServiceError::RateLimited { .. }
                | ServiceError::TooFast { .. }
                | ServiceError::Busy
                | ServiceError::CodesLocked,
            ) => Some(LoginResult::Throttled),
            Some(e) if e.code() == ErrorCode::InvalidCredentials => Some(LoginResult::Failure),
            Some(_) => None,
        }
    }

    const ALL: [LoginResult; 3] = [
        LoginResult::Success,
        LoginResult::Failure,
        LoginResult::Throttled,
    ];

    fn as_str(self) -> &'static str {
        match self {
            LoginResult::Success => "success",
            LoginResult::Failure => "failure",
            LoginResult::Throttled => "throttled",
        }
    }
}

/// Figures read when scraped rather than counted as they happen.
pub(crate) struct Live {
    pub users: usize,
    pub sessions: usize,
    pub audit_waiting: usize,
    pub follow_lag: Duration,
    /// Free and total bytes of the file system a file store is on.
    pub disk: Option<(u64, u64)>,
}

/// The metrics of this instance; see the module documentation.
#[derive(Default)]
pub(crate) struct Metrics(Option<Box<Series>>);

struct Series {
    registry: Registry,
    requests: IntCounterVec,
    /// `requests` by action (the last slot: a request that could not be
    /// read) and outcome (success, then each error code), looked up once.
    request_cells: Vec<OnceLock<IntCounter>>,
    durations: HistogramVec,
    duration_cells: Vec<OnceLock<Histogram>>,
    logins: [IntCounter; 3],
    hash_queue: IntGauge,
    hash_wait: Histogram,
    commit_duration: Histogram,
    commit_batch: Histogram,
    users: IntGauge,
    sessions: IntGauge,
    audit_queue: IntGauge,
    follow_lag: Gauge,
    /// A file store's file system, free and total bytes.
    disk: Option<(IntGauge, IntGauge)>,
}

const OUTCOMES: usize = ErrorCode::ALL.len() + 1;

fn action_index(action: Option<Action>) -> usize {
    action
        .and_then(|a| Action::ALL.iter().position(|x| *x == a))
        .unwrap_or(Action::ALL.len())
}

fn action_name(i: usize) -> &'static str {
    Action::ALL.get(i).map_or("unknown", |a| a.as_str())
}

impl Metrics {
    /// No metrics: every update does nothing.
    pub(crate) fn off() -> Metrics {
        Metrics(None)
    }

    /// Every series, registered with the process collector; with `disk`,
    /// those of a file store's file system too.
    pub(crate) fn on(disk: bool) -> Result<Metrics, prometheus::Error> {
        Ok(Metrics(Some(Box::new(Series::new(disk)?))))
    }

    /// Counts one reply: its action (`None`: the request could not be
    /// read), its error code or success, and how long it took from the
    /// socket to the reply.
    pub(crate) fn request(&self, action: Option<Action>, error: Option<ErrorCode>, took: Duration) {
        let Some(s) = &self.0 else { return };
        let a = action_index(action);
        let o = error
            .and_then(|c| ErrorCode::ALL.iter().position(|x| *x == c))
            .map_or(0, |i| i + 1);
        s.request_cells[a * OUTCOMES + o]
            .get_or_init(|| {
                let outcome = o
                    .checked_sub(1)
                    .map_or("success", |i| ErrorCode::ALL[i].as_str());
                s.requests.with_label_values(&[action_name(a), outcome])
            })
            .inc();
        s.duration_cells[a]
            .get_or_init(|| s.durations.with_label_values(&[action_name(a)]))
            .observe(took.as_secs_f64());
    }

    /// Counts a login's end.
    pub(crate) fn login(&self, result: LoginResult) {
        if let Some(s) = &self.0 {
            s.logins[result as usize].inc();
        }
    }

    /// A request went to the hashing pool.
    pub(crate) fn hash_queued(&self) {
        if let Some(s) = &self.0 {
            s.hash_queue.inc();
        }
    }

    /// A pool thread took a request that waited `waited` for it.
    pub(crate) fn hash_taken(&self, waited: Duration) {
        if let Some(s) = &self.0 {
            s.hash_queue.dec();
            s.hash_wait.observe(waited.as_secs_f64());
        }
    }

    /// The writer committed `writes` writes in one go, in `took`.
    pub(crate) fn committed(&self, writes: usize, took: Duration) {
        if let Some(s) = &self.0 {
            s.commit_duration.observe(took.as_secs_f64());
            s.commit_batch.observe(writes as f64);
        }
    }

    /// The text of `/metrics` (Prometheus text format 0.0.4), with the
    /// figures read now; `None` when metrics are off.
    pub(crate) fn render(&self, live: &Live) -> Option<String> {
        let s = self.0.as_ref()?;
        s.users.set(live.users as i64);
        s.sessions.set(live.sessions as i64);
        s.audit_queue.set(live.audit_waiting as i64);
        s.follow_lag.set(live.follow_lag.as_secs_f64());
        if let (Some((free, size)), Some((f, t))) = (&s.disk, live.disk) {
            free.set(i64::try_from(f).unwrap_or(i64::MAX));
            size.set(i64::try_from(t).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        match prometheus::TextEncoder::new().encode_utf8(&s.registry.gather(), &mut out) {
            Ok(()) => Some(out),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode the metrics");
                None
            }
        }
    }
}

/// Registers `c` with `r`, and returns it for updating.
fn register<C: Collector + Clone + 'static>(r: &Registry, c: C) -> prometheus::Result<C> {
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(r: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    register(r, IntGauge::new(name, help)?)
}

fn histogram(
    r: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
) -> prometheus::Result<Histogram> {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    register(r, Histogram::with_opts(opts)?)
}

impl Series {
    fn new(disk: bool) -> prometheus::Result<Series> {
        let r = Registry::new();
        r.register(Box::new(ProcessCollector::for_self()))?;
        let requests = Opts::new(
            "users_service_requests_total",
            "Requests answered, by action and outcome (success or the error code).",
        );
        let durations = HistogramOpts::new(
            "users_service_request_duration_seconds",
            "Time from reading a request to its reply, by action.",
        );
        let logins = Opts::new(
            "users_service_logins_total",
            "Logins (login, passkey_login_finish) by result: success, failure or throttled.",
        );
        let logins = register(&r, IntCounterVec::new(logins, &["result"])?)?;
        let disk = disk.then(|| {
            let free = "Bytes free to the service on the file system of its store file.";
            let size = "Size in bytes of the file system of the store file.";
            Ok::<_, prometheus::Error>((
                gauge(&r, "users_service_store_free_bytes", free)?,
                gauge(&r, "users_service_store_size_bytes", size)?,
            ))
        });
        Ok(Series {
            requests: register(&r, IntCounterVec::new(requests, &["action", "outcome"])?)?,
            request_cells: (0..(Action::ALL.len() + 1) * OUTCOMES)
                .map(|_| OnceLock::new())
                .collect(),
            durations: register(
                &r,
                HistogramVec::new(durations.buckets(LATENCY.to_vec()), &["action"])?,
            )?,
            duration_cells: (0..=Action::ALL.len()).map(|_| OnceLock::new()).collect(),
            logins: LoginResult::ALL.map(|x| logins.with_label_values(&[x.as_str()])),
            hash_queue: gauge(
                &r,
                "users_service_hash_queue_depth",
                "Requests waiting for a hashing thread.",
            )?,
            hash_wait: histogram(
                &r,
                "users_service_hash_wait_seconds",
                "Time a request waited for a hashing thread.",
                &LATENCY,
            )?,
            commit_duration: histogram(
                &r,
                "users_service_commit_duration_seconds",
                "Time a group commit took (the store's fsync or PostgreSQL transaction).",
                &COMMIT,
            )?,
            commit_batch: histogram(
                &r,
                "users_service_commit_batch_size",
                "Requests' writes per group commit (0: only background changes, such as audit events).",
                &BATCH,
            )?,
            users: gauge(&r, "users_service_users", "Accounts.")?,
            sessions: gauge(&r, "users_service_sessions", "Sessions not yet ended.")?,
            audit_queue: gauge(
                &r,
                "users_service_audit_queue_depth",
                "Audit events waiting for the writer's next commit.",
            )?,
            follow_lag: register(
                &r,
                Gauge::new(
                    "users_service_follow_lag_seconds",
                    "How long this instance has been behind what other instances committed to \
                     the shared store (PostgreSQL); 0 when in step, and always on a store of one.",
                )?,
            )?,
            disk: disk.transpose()?,
            registry: r,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Live {
        Live {
            users: 3,
            sessions: 2,
            audit_waiting: 1,
            follow_lag: Duration::ZERO,
            disk: Some((100, 1000)),
        }
    }

    #[test]
    fn requests_are_counted_by_action_and_outcome() {
        let m = Metrics::on(true).unwrap();
        let ms = Duration::from_millis(3);
        m.request(Some(Action::Login), Some(ErrorCode::InvalidCredentials), ms);
        m.request(Some(Action::Login), Some(ErrorCode::InvalidCredentials), ms);
        m.request(Some(Action::HealthCheck), None, ms);
        m.request(None, Some(ErrorCode::InvalidRequest), ms);
        m.login(LoginResult::Failure);
        m.hash_queued();
        m.hash_queued();
        m.hash_taken(Duration::from_millis(20));
        m.committed(5, ms);
        let text = m.render(&live()).unwrap();
        for line in [
            r#"users_service_requests_total{action="login",outcome="invalid_credentials"} 2"#,
            r#"users_service_requests_total{action="health_check",outcome="success"} 1"#,
            r#"users_service_requests_total{action="unknown",outcome="invalid_request"} 1"#,
            r#"users_service_request_duration_seconds_count{action="login"} 2"#,
            r#"users_service_logins_total{result="failure"} 1"#,
            r#"users_service_logins_total{result="throttled"} 0"#,
            "users_service_hash_queue_depth 1",
            r#"users_service_hash_wait_seconds_bucket{le="0.025"} 1"#,
            r#"users_service_commit_batch_size_bucket{le="8"} 1"#,
            "users_service_users 3",
            "users_service_sessions 2",
            "users_service_audit_queue_depth 1",
            "users_service_follow_lag_seconds 0",
            "users_service_store_free_bytes 100",
            "users_service_store_size_bytes 1000",
            "process_resident_memory_bytes ",
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn off_counts_nothing_and_serves_nothing() {
        let m = Metrics::off();
        m.request(Some(Action::Login), None, Duration::ZERO);
        m.login(LoginResult::Success);
        assert!(m.render(&live()).is_none());
    }

    #[test]
    fn a_login_ends_in_success_failure_or_a_throttle() {
        use LoginResult::*;
        let of = |e: ServiceError| LoginResult::of(Some(&e));
        assert_eq!(LoginResult::of(None), Some(Success));
        assert_eq!(of(ServiceError::InvalidCredentials), Some(Failure));
        assert_eq!(of(ServiceError::WrongCode("totp_code")), Some(Failure));
        assert_eq!(
            of(ServiceError::RateLimited { retry_after: 3 }),
            Some(Throttled)
        );
        assert_eq!(of(ServiceError::Busy), Some(Throttled));
        assert_eq!(of(ServiceError::CodesLocked), Some(Throttled));
        assert_eq!(of(ServiceError::TotpRequired), None, "only a prompt");
        let down = ServiceError::StoreUnavailable("down".into());
        assert_eq!(of(down), None, "says nothing of the credentials");
    }

    #[test]
    fn a_database_store_has_no_disk_series() {
        let text = Metrics::on(false).unwrap().render(&live()).unwrap();
        assert!(text.contains("users_service_users 3"));
        assert!(!text.contains("users_service_store_"), "{text}");
    }
}
