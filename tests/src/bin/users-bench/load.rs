//! Load generators and measurements shared by the figures.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use users_tests::free_port;

/// Runs `clients` threads, each with its own REQ socket sending `request` in a
/// loop for `d`; returns replies per second.
pub fn zmq_throughput(endpoint: &str, clients: usize, d: Duration, request: &str) -> f64 {
    zmq_throughput_each(endpoint, &vec![request.to_owned(); clients], d)
}

/// Like [`zmq_throughput`], one client per request, each sending its own.
pub fn zmq_throughput_each(endpoint: &str, requests: &[String], d: Duration) -> f64 {
    let targets: Vec<_> = requests
        .iter()
        .map(|r| (endpoint.to_owned(), r.clone()))
        .collect();
    zmq_throughput_to(&targets, d)
}

/// One client per (endpoint, request), each sending its request to its
/// endpoint in a loop for `d`; returns replies per second, all together.
pub fn zmq_throughput_to(targets: &[(String, String)], d: Duration) -> f64 {
    zmq_rates_to(targets, d).iter().sum()
}

/// Like [`zmq_throughput_to`], each client's replies per second, in the
/// order of `targets`.
pub fn zmq_rates_to(targets: &[(String, String)], d: Duration) -> Vec<f64> {
    let clients = targets.len();
    let ctx = zmq::Context::new();
    let start = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = targets
        .iter()
        .map(|(endpoint, request)| {
            let (ctx, endpoint, request, start) = (
                ctx.clone(),
                endpoint.clone(),
                request.clone(),
                Arc::clone(&start),
            );
            std::thread::spawn(move || {
                let s = ctx.socket(zmq::REQ).unwrap();
                s.set_rcvtimeo(30_000).unwrap();
                s.set_linger(0).unwrap();
                s.connect(&endpoint).unwrap();
                // Warm the connection before timing.
                s.send(request.as_bytes(), 0).unwrap();
                s.recv_bytes(0).expect("reply");
                start.wait();
                let t0 = Instant::now();
                let mut n = 0u64;
                while t0.elapsed() < d {
                    s.send(request.as_bytes(), 0).unwrap();
                    s.recv_bytes(0).expect("reply");
                    n += 1;
                }
                n
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    let counts: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let secs = t0.elapsed().as_secs_f64();
    counts.into_iter().map(|n| n as f64 / secs).collect()
}

/// The median of `values`, for figures measured over several rounds.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A bare ROUTER that returns every message as it came: the ZeroMQ baseline.
pub struct Echo {
    /// Where it listens.
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Echo {
    /// Starts on a free loopback port.
    pub fn start() -> Echo {
        let port = free_port();
        let endpoint = format!("tcp://127.0.0.1:{port}");
        let stop = Arc::new(AtomicBool::new(false));
        let (ep, st) = (endpoint.clone(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let ctx = zmq::Context::new();
            let r = ctx.socket(zmq::ROUTER).unwrap();
            r.bind(&ep).unwrap();
            while !st.load(Ordering::Relaxed) {
                if r.poll(zmq::POLLIN, 100).unwrap_or(0) > 0 {
                    while let Ok(frames) = r.recv_multipart(zmq::DONTWAIT) {
                        let _ = r.send_multipart(frames, 0);
                    }
                }
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        Echo {
            endpoint,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Launches `s` and waits until it answers with `n` users; how long that
/// took. The binary is built (or checked by cargo) before the clock starts,
/// so only start-up counts.
pub fn time_start_up(s: &mut users_tests::ServiceProcess, n: usize) -> Duration {
    users_tests::bin_path("users-service");
    let t0 = Instant::now();
    s.launch();
    loop {
        // A REQ socket that timed out cannot send again: a fresh one each try.
        let probe = users_tests::Zmq::connect_timeout(&s.endpoint(), Duration::from_millis(25));
        if probe
            .call(serde_json::json!({"action": "health_check"}))
            .is_ok_and(|r| r["users"] == n)
        {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "service did not start: {}",
            s.log_text()
        );
    }
}

/// The `p` quantile (0..=1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Resident memory of a process now, and its peak, in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
