//! Figures 2 and 3: login throughput against raw PBKDF2, and health_check
//! latency while logins keep every worker busy.

use crate::fixtures::{opts, ADMIN_PASSWORD};
use crate::load::{percentile, zmq_throughput_each};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use users_tests::{ServiceProcess, Zmq};

/// PBKDF2 on every core, in this process: logins per second at best.
fn raw_pbkdf2_rate(iterations: u32, d: Duration, cores: usize) -> f64 {
    let start = Arc::new(Barrier::new(cores + 1));
    let hs: Vec<_> = (0..cores)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let t0 = Instant::now();
                let mut n = 0u64;
                while t0.elapsed() < d {
                    let _ = users_service::password::derive(
                        b"password",
                        b"0123456789abcdef",
                        iterations,
                    );
                    n += 1;
                }
                n
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    let raw: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    raw as f64 / t0.elapsed().as_secs_f64()
}

pub fn run(plan: &Plan, report: &mut Report) {
    let it = plan.login_iterations;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let raw_rate = raw_pbkdf2_rate(it, plan.secs, cores);

    let its = it.to_string();
    let s = ServiceProcess::start(opts(&["--pbkdf2-iterations", &its]));
    // One account per client: checks of one account are limited to
    // --throttle-failures at once, and this measures hashing, not that limit.
    let logins: Vec<String> = (0..cores * 2)
        .map(|i| {
            let name = format!("bench{i}");
            s.register(&name, ADMIN_PASSWORD);
            json!({"action": "login", "credentials": {"username": name, "password": ADMIN_PASSWORD}})
                .to_string()
        })
        .collect();
    let rate = zmq_throughput_each(&s.endpoint(), &logins, plan.secs);
    report.push(
        2,
        &format!("login throughput ({it} iterations)"),
        rate,
        "logins/s",
        Against {
            baseline: Some((raw_rate, "raw PBKDF2 on all cores")),
            goal: ">= 0.9",
            met: Some(rate / raw_rate >= 0.9),
        },
    );

    // 3: latency of health_check under that load.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = logins
        .iter()
        .map(|login| {
            let (endpoint, login, stop) = (s.endpoint(), login.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let c = Zmq::connect(&endpoint);
                while !stop.load(Ordering::Relaxed) {
                    let _ = c.raw(&[login.as_bytes()]);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let c = s.client();
    let mut lat = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < plan.secs {
        let t = Instant::now();
        c.raw(&[br#"{"action":"health_check"}"#]).expect("reply");
        lat.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    for h in load {
        let _ = h.join();
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    report.push(
        3,
        "health_check latency p50 under login load",
        p50.as_secs_f64() * 1e3,
        "ms",
        Against::NONE,
    );
    report.push(
        3,
        "health_check latency p99 under login load",
        p99.as_secs_f64() * 1e3,
        "ms",
        Against {
            baseline: None,
            goal: "<= 5 ms",
            met: Some(p99 <= Duration::from_millis(5)),
        },
    );
}
