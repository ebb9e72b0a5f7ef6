//! users-bench: measures the service (and the bridge) against the performance
//! goals, each figure beside a baseline measured in the same run.
//!
//!     cargo run --release -p users-tests --bin users-bench            # full run
//!     cargo run --release -p users-tests --bin users-bench -- --quick # smoke mode
//!
//! Prints a table and writes the figures as JSON (default target/bench.json).

use clap::Parser;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use users_protocol::user::Profile;
use users_protocol::{Role, UserRecord, UserStatus};
use users_service::store::{Store, StoreOptions};
use users_tests::{free_port, ws, Bridge, Service, ServiceOptions, MASTER};

#[derive(Parser)]
#[command(about = "Benchmarks users-service and users-bridge")]
struct Args {
    /// Small sizes and short runs: checks that every figure still works.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON figures.
    #[arg(long, default_value = "target/bench.json")]
    json: PathBuf,
    /// Seconds per throughput measurement.
    #[arg(long)]
    seconds: Option<f64>,
    /// Measure only these figures (repeatable), e.g. --only 6.
    #[arg(long)]
    only: Vec<u8>,
    /// PBKDF2 iterations for the login figures.
    #[arg(long, default_value_t = 100_000)]
    login_iterations: u32,
}

#[derive(Serialize)]
struct Figure {
    figure: u8,
    what: String,
    value: f64,
    unit: String,
    baseline: Option<f64>,
    baseline_what: String,
    ratio: Option<f64>,
    goal: String,
    met: Option<bool>,
}

struct Bench {
    quick: bool,
    secs: Duration,
    login_iterations: u32,
    figures: Vec<Figure>,
}

const LOW_ITERATIONS: &str = "1000";
const ADMIN_PASSWORD: &str = "bench-admin-pw";

fn opts(extra: &[&str]) -> ServiceOptions {
    let mut args = vec![
        "--pbkdf2-iterations",
        LOW_ITERATIONS,
        "--kdf-iterations",
        LOW_ITERATIONS,
        "--trusted-peer",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    ServiceOptions {
        args: args.into_iter().map(String::from).collect(),
        master: Some(MASTER.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
    }
}

/// Runs `clients` threads, each with its own REQ socket sending `request` in a
/// loop for `d`; returns replies per second.
fn zmq_throughput(endpoint: &str, clients: usize, d: Duration, request: &str) -> f64 {
    let ctx = zmq::Context::new();
    let start = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (ctx, endpoint, request, start) = (
                ctx.clone(),
                endpoint.to_owned(),
                request.to_owned(),
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
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / t0.elapsed().as_secs_f64()
}

/// A bare ROUTER that returns every message as it came: the ZeroMQ baseline.
struct Echo {
    endpoint: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Echo {
    fn start() -> Echo {
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

fn record(i: usize, hash: &users_service::password::PasswordHash) -> UserRecord {
    let now = "2026-01-01T00:00:00Z".to_owned();
    UserRecord {
        username: if i == 0 {
            "admin".into()
        } else {
            format!("user{i:06}")
        },
        email: format!("user{i:06}@example.com"),
        password_hash: hash.hash.clone(),
        password_salt: hash.salt.clone(),
        password_iterations: hash.iterations,
        profile: Profile {
            full_name: format!("Bench User {i}"),
            city: "Lisbon".into(),
            country: "PT".into(),
            ..Default::default()
        },
        role: if i == 0 { Role::Admin } else { Role::User },
        status: UserStatus::Active,
        created_at: now.clone(),
        updated_at: now,
        last_login: None,
        metadata: Default::default(),
    }
}

/// A store of `n` users (user 0 is the admin, all with ADMIN_PASSWORD).
fn make_store(n: usize, kdf_iterations: u32) -> Arc<tempfile::TempDir> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let path = dir.path().join("users.json");
    let hash = users_service::password::hash(ADMIN_PASSWORD, 1000, &mut rand::rng());
    let mut opened = Store::open(
        &path,
        MASTER,
        &StoreOptions {
            kdf_iterations,
            compact_after: usize::MAX,
        },
    )
    .unwrap();
    let users = (0..n).map(|i| Arc::new(record(i, &hash))).collect();
    opened.store.compact_now(users).unwrap();
    dir
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn rss_kib(pid: u32) -> (u64, u64) {
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

impl Bench {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        figure: u8,
        what: &str,
        value: f64,
        unit: &str,
        baseline: Option<(f64, &str)>,
        goal: &str,
        met: Option<bool>,
    ) {
        let ratio = baseline.map(|(b, _)| if b > 0.0 { value / b } else { 0.0 });
        self.figures.push(Figure {
            figure,
            what: what.into(),
            value,
            unit: unit.into(),
            baseline: baseline.map(|b| b.0),
            baseline_what: baseline.map(|b| b.1.to_owned()).unwrap_or_default(),
            ratio,
            goal: goal.into(),
            met,
        });
    }

    /// 1: health_check and get_user throughput against a bare ZeroMQ echo.
    fn throughput(&mut self) {
        let s = Service::start(opts(&[]));
        let token = s.login("admin", ADMIN_PASSWORD);
        let echo = Echo::start();
        let health = r#"{"action":"health_check"}"#.to_owned();
        let get_user = json!({"action": "get_user", "session_token": token}).to_string();
        let levels: &[usize] = if self.quick { &[1, 8] } else { &[1, 8, 64] };
        for &n in levels {
            let base = zmq_throughput(&echo.endpoint, n, self.secs, &health);
            for (name, req) in [("health_check", &health), ("get_user", &get_user)] {
                let v = zmq_throughput(&s.endpoint(), n, self.secs, req);
                let ratio = v / base;
                self.push(
                    1,
                    &format!(
                        "{name} throughput, {n} client{}",
                        if n == 1 { "" } else { "s" }
                    ),
                    v,
                    "req/s",
                    Some((base, "bare ZeroMQ ROUTER echo")),
                    ">= 0.8",
                    Some(ratio >= 0.8),
                );
            }
        }
    }

    /// 2 and 3: login throughput against raw PBKDF2, and health_check latency while
    /// logins keep every worker busy.
    fn logins(&mut self) {
        let it = self.login_iterations;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Raw PBKDF2 on every core, in this process.
        let start = Arc::new(Barrier::new(cores + 1));
        let d = self.secs;
        let hs: Vec<_> = (0..cores)
            .map(|_| {
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    let t0 = Instant::now();
                    let mut n = 0u64;
                    while t0.elapsed() < d {
                        let _ =
                            users_service::password::derive(b"password", b"0123456789abcdef", it);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let raw: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
        let raw_rate = raw as f64 / t0.elapsed().as_secs_f64();

        let its = it.to_string();
        let s = Service::start(opts(&["--pbkdf2-iterations", &its]));
        let login = json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}}).to_string();
        let rate = zmq_throughput(&s.endpoint(), cores * 2, self.secs, &login);
        self.push(
            2,
            &format!("login throughput ({it} iterations)"),
            rate,
            "logins/s",
            Some((raw_rate, "raw PBKDF2 on all cores")),
            ">= 0.9",
            Some(rate / raw_rate >= 0.9),
        );

        // 3: latency of health_check under that load.
        let stop = Arc::new(AtomicBool::new(false));
        let load: Vec<_> = (0..cores * 2)
            .map(|_| {
                let (endpoint, login, stop) = (s.endpoint(), login.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let c = users_tests::Zmq::connect(&endpoint);
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
        while t0.elapsed() < self.secs {
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
        self.push(
            3,
            "health_check latency p50 under login load",
            p50.as_secs_f64() * 1e3,
            "ms",
            None,
            "-",
            None,
        );
        self.push(
            3,
            "health_check latency p99 under login load",
            p99.as_secs_f64() * 1e3,
            "ms",
            None,
            "<= 5 ms",
            Some(p99 <= Duration::from_millis(5)),
        );
    }

    /// Mean time of `ops` sequential create_user and update_user calls.
    fn write_costs(&self, s: &Service, ops: usize) -> (f64, f64) {
        let c = s.client();
        let token = s.login("admin", ADMIN_PASSWORD);
        let t0 = Instant::now();
        for i in 0..ops {
            c.call_ok(json!({"action": "create_user", "user_data": {
                "username": format!("new{i:06}"), "email": format!("new{i:06}@example.com"), "password": "benchpass"}}));
        }
        let create = t0.elapsed().as_secs_f64() / ops as f64;
        let t0 = Instant::now();
        for i in 0..ops {
            c.call_ok(json!({"action": "update_user", "session_token": token,
                "update_data": {"city": format!("City {i}")}}));
        }
        let update = t0.elapsed().as_secs_f64() / ops as f64;
        (create, update)
    }

    /// 4: write cost with few users against many.
    fn writes(&mut self) {
        let (small, large, ops) = if self.quick {
            (1_000, 5_000, 20)
        } else {
            (1_000, 100_000, 300)
        };
        let s1 = Service::start_in(make_store(small, 1000), opts(&[]));
        let (c1, u1) = self.write_costs(&s1, ops);
        drop(s1);
        let s2 = Service::start_in(make_store(large, 1000), opts(&[]));
        let (c2, u2) = self.write_costs(&s2, ops);
        drop(s2);
        for (name, a, b) in [("create_user", c1, c2), ("update_user", u1, u2)] {
            let ratio = b / a;
            self.push(
                4,
                &format!("{name} cost with {large} users"),
                b * 1e3,
                "ms",
                Some((a * 1e3, &format!("{small} users"))),
                "<= 1.5",
                Some(ratio <= 1.5),
            );
        }
    }

    /// 5: WebSocket through the bridge against direct ZeroMQ.
    fn bridge(&mut self) {
        let s = Service::start(opts(&[]));
        let b = Bridge::start_logging(
            "warn",
            &s.endpoint(),
            &[
                "--rate-per-connection",
                "1000000",
                "--rate-per-ip",
                "1000000",
            ],
        );
        let clients = 16;
        let direct = zmq_throughput(
            &s.endpoint(),
            clients,
            self.secs,
            r#"{"action":"health_check"}"#,
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (url, d) = (b.ws_url(), self.secs);
        let via_ws = rt.block_on(async move {
            let mut conns = Vec::new();
            for _ in 0..clients {
                conns.push(ws::connect(&url, None).await.expect("ws"));
            }
            let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
            let tasks: Vec<_> = conns
                .into_iter()
                .map(|mut c| {
                    let start = Arc::clone(&start);
                    tokio::spawn(async move {
                        let req = r#"{"action":"health_check"}"#;
                        ws::call_raw(&mut c, req).await;
                        start.wait().await;
                        let t0 = Instant::now();
                        let mut n = 0u64;
                        while t0.elapsed() < d {
                            ws::call_raw(&mut c, req).await;
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            start.wait().await;
            let t0 = Instant::now();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total as f64 / t0.elapsed().as_secs_f64()
        });
        self.push(
            5,
            &format!("health_check over WebSocket via the bridge, {clients} clients"),
            via_ws,
            "req/s",
            Some((direct, "direct ZeroMQ, same clients")),
            ">= 0.7",
            Some(via_ws / direct >= 0.7),
        );
    }

    /// 6: start-up time and memory with many users.
    fn startup(&mut self) {
        let n = if self.quick { 5_000 } else { 100_000 };
        // The storage key at the default strength: start-up pays for it.
        let kdf = if self.quick {
            1000
        } else {
            users_service::password::DEFAULT_ITERATIONS
        };
        let dir = make_store(n, kdf);
        let mut s = Service::stopped_in(dir, opts(&[]));
        let t0 = Instant::now();
        let (child, port) = s.launch().expect("launch");
        let pid = child.id();
        s.adopt(child, port);
        loop {
            // A REQ socket that timed out cannot send again: a fresh one each try.
            let probe = users_tests::Zmq::connect_timeout(&s.endpoint(), Duration::from_millis(25));
            if probe
                .call(json!({"action": "health_check"}))
                .is_ok_and(|r| r["users"] == n)
            {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "service did not start: {}",
                s.log_text()
            );
        }
        let took = t0.elapsed();
        let (rss, hwm) = rss_kib(pid);
        self.push(
            6,
            &format!("start-up time with {n} users"),
            took.as_secs_f64(),
            "s",
            None,
            "< 2 s",
            Some(took < Duration::from_secs(2)),
        );
        self.push(
            6,
            &format!("resident memory after start-up with {n} users"),
            rss as f64 / 1024.0,
            "MiB",
            None,
            "< 200 MB",
            Some((rss as f64 * 1024.0) < 200e6),
        );
        // Reported beside it, not judged: the transient peak while the snapshot is
        // decrypted, when the token, its decoding and the plaintext coexist.
        self.push(
            6,
            &format!("peak resident memory during start-up with {n} users"),
            hwm as f64 / 1024.0,
            "MiB",
            None,
            "-",
            None,
        );
    }

    fn print(&self) {
        println!(
            "\n{:<3} {:<58} {:>12} {:<9} {:>12} {:>7}  {:<9} met",
            "#", "figure", "value", "unit", "baseline", "ratio", "goal"
        );
        for f in &self.figures {
            let baseline = f.baseline.map_or("-".into(), |b| format!("{b:.1}"));
            let ratio = f.ratio.map_or("-".into(), |r| format!("{r:.2}"));
            let met = match f.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            };
            println!(
                "{:<3} {:<58} {:>12.2} {:<9} {:>12} {:>7}  {:<9} {}",
                f.figure, f.what, f.value, f.unit, baseline, ratio, f.goal, met
            );
        }
        for f in self.figures.iter().filter(|f| f.baseline.is_some()) {
            println!("    {}: baseline is {}", f.what, f.baseline_what);
        }
    }
}

fn main() {
    let args = Args::parse();
    let secs = Duration::from_secs_f64(args.seconds.unwrap_or(if args.quick { 0.3 } else { 3.0 }));
    let mut b = Bench {
        quick: args.quick,
        secs,
        login_iterations: if args.quick {
            1000
        } else {
            args.login_iterations
        },
        figures: Vec::new(),
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "users-bench: {cores} cores, {:.1} s per throughput run{}",
        secs.as_secs_f64(),
        if args.quick { ", quick mode" } else { "" }
    );
    let run = |n: u8| args.only.is_empty() || args.only.contains(&n);
    if run(1) {
        b.throughput();
    }
    if run(2) || run(3) {
        b.logins();
    }
    if run(4) {
        b.writes();
    }
    if run(5) {
        b.bridge();
    }
    if run(6) {
        b.startup();
    }
    b.print();
    if let Some(parent) = args.json.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let out = json!({"quick": args.quick, "cores": cores, "figures": b.figures});
    std::fs::write(&args.json, serde_json::to_string_pretty(&out).unwrap())
        .expect("writing the JSON");
    println!("\nfigures written to {}", args.json.display());
}
