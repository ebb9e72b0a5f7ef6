//! Figure 1: health_check and get_user throughput against a bare ZeroMQ
//! echo; and health_check with `--metrics-listen` on against the same
//! service with it off. The machine's speed drifts by a tenth from one
//! second to the next, so each figure is measured over several rounds.

use crate::fixtures::{opts, ADMIN_PASSWORD};
use crate::load::{median, zmq_rates_to, zmq_throughput, Echo};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use users_tests::{free_port, http_get, ServiceProcess};

pub fn run(plan: &Plan, report: &mut Report) {
    let s = ServiceProcess::start(opts(&[]));
    let token = s.login("admin", ADMIN_PASSWORD);
    let echo = Echo::start();
    let health = r#"{"action":"health_check"}"#.to_owned();
    let get_user = json!({"action": "get_user", "session_token": token}).to_string();
    let levels: &[usize] = if plan.quick { &[1, 8] } else { &[1, 8, 64] };
    for &n in levels {
        // The echo and the two requests take turns, and each is the median
        // of its rounds: no one slow or fast stretch decides a ratio.
        let mut rounds = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            rounds[0].push(zmq_throughput(&echo.endpoint, n, plan.secs, &health));
            rounds[1].push(zmq_throughput(&s.endpoint(), n, plan.secs, &health));
            rounds[2].push(zmq_throughput(&s.endpoint(), n, plan.secs, &get_user));
        }
        let [base, health_rate, get_user_rate] = rounds.map(median);
        for (name, v) in [("health_check", health_rate), ("get_user", get_user_rate)] {
            let plural = if n == 1 { "" } else { "s" };
            report.push(
                1,
                &format!("{name} throughput, {n} client{plural} (median of {ROUNDS})"),
                v,
                "req/s",
                Against {
                    baseline: Some((base, "bare ZeroMQ ROUTER echo")),
                    goal: ">= 0.8",
                    met: Some(v / base >= 0.8),
                },
            );
        }
    }
    metrics_cost(plan, report, &s, &health);
}

/// Rounds of each measurement against the echo.
const ROUNDS: usize = 3;
/// Rounds of [`metrics_cost`].
const COST_ROUNDS: usize = 5;

/// health_check with `--metrics-listen` on, against `off`, a service
/// without it, both under load at the same time, `n` clients each, over
/// [`COST_ROUNDS`] rounds. The machine's speed drifts by a tenth from one second
/// to the next; measured side by side, both services see the same machine,
/// which measuring them in turn could not give. While `on` is measured, its
/// metrics are scraped four times a second (Prometheus scrapes every 15 s
/// by default).
fn metrics_cost(plan: &Plan, report: &mut Report, off: &ServiceProcess, health: &str) {
    let port = free_port();
    let at = format!("127.0.0.1:{port}");
    let on = ServiceProcess::start(opts(&["--metrics-listen", &at]));
    let n = 8;
    let targets: Vec<(String, String)> = [off.endpoint(), on.endpoint()]
        .into_iter()
        .flat_map(|e| vec![(e, health.to_owned()); n])
        .collect();
    let (mut without, mut with) = (0.0, 0.0);
    for _ in 0..COST_ROUNDS {
        let rates = scraped(port, || zmq_rates_to(&targets, plan.secs));
        without += rates[..n].iter().sum::<f64>() / COST_ROUNDS as f64;
        with += rates[n..].iter().sum::<f64>() / COST_ROUNDS as f64;
    }
    report.push(
        1,
        &format!("health_check throughput with --metrics-listen on and scraped, {n} clients each, side by side"),
        with,
        "req/s",
        Against {
            baseline: Some((without, "the same service without --metrics-listen")),
            goal: ">= 0.97",
            met: Some(with / without >= 0.97),
        },
    );
}

/// What `measure` gives while the metrics on `port` are scraped four
/// times a second.
fn scraped<T>(port: u16, measure: impl FnOnce() -> T) -> T {
    let scraping = Arc::new(AtomicBool::new(true));
    let scraper = {
        let scraping = Arc::clone(&scraping);
        std::thread::spawn(move || {
            while scraping.load(Ordering::Relaxed) {
                let scraped = http_get(port, "/metrics");
                assert!(scraped.is_ok_and(|(status, _)| status == 200));
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };
    let v = measure();
    scraping.store(false, Ordering::Relaxed);
    scraper.join().expect("the scraper");
    v
}
