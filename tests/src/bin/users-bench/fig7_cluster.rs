//! Figure 7: several instances on one PostgreSQL. Login capacity with one
//! and two instances, write cost against the file store, how long a logout
//! on one instance takes to be refused on another, where writes top out,
//! and the start-up of an instance joining a database of many users.

use crate::fig4_writes::write_costs;
use crate::fixtures::{make_store, opts, user, ADMIN_PASSWORD};
use crate::load::{percentile, rss_kib, time_start_up, zmq_throughput_to};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use users_service::password;
use users_service::postgres::PgStore;
use users_service::{Backend, Change, State};
use users_tests::{PgCluster, ServiceProcess, Zmq, MASTER};

/// Service options on the database `url`, with `extra` flags.
fn on(url: &str, extra: &[&str]) -> users_tests::ServiceOptions {
    let mut args = vec!["--database", url];
    args.extend_from_slice(extra);
    opts(&args)
}

/// `n` instances on `url`.
fn instances(url: &str, n: usize, extra: &[&str]) -> Vec<ServiceProcess> {
    let first = ServiceProcess::start(on(url, extra));
    let mut all = vec![];
    for _ in 1..n {
        let mut s = first.sibling(on(url, extra));
        s.spawn_now();
        all.push(s);
    }
    all.insert(0, first);
    all
}

/// PBKDF2 iterations for the logins of this figure: the service's default
/// in a full run, since what a deployment sees is what is measured: the
/// share of a login that is not hashing (the log, the other instance
/// following it) is smaller at the real count.
fn iterations(plan: &Plan) -> u32 {
    if plan.quick {
        plan.login_iterations
    } else {
        password::DEFAULT_ITERATIONS
    }
}

/// Logins a second with `n` instances of one hashing worker each, two
/// clients per instance, each on an account of its own, over twice the
/// plan's time (a login takes long at the real count).
fn login_rate(pg: &PgCluster, db: &str, n: usize, plan: &Plan) -> f64 {
    pg.psql("postgres", &format!("CREATE DATABASE {db}"));
    let its = iterations(plan).to_string();
    let all = instances(
        &pg.url(db),
        n,
        &["--workers", "1", "--pbkdf2-iterations", &its],
    );
    let targets: Vec<(String, String)> = (0..n * 2)
        .map(|i| {
            let s = &all[i % n];
            let name = format!("bench{i}");
            s.register(&name, ADMIN_PASSWORD);
            let login = json!({"action": "login",
                "credentials": {"username": name, "password": ADMIN_PASSWORD}});
            (s.endpoint(), login.to_string())
        })
        .collect();
    zmq_throughput_to(&targets, plan.secs * 2)
}

/// Accounts created a second, all instances together, by many clients.
fn create_rate(url: &str, n: usize, plan: &Plan) -> f64 {
    let all = instances(url, n, &[]);
    let targets: Vec<(String, String)> = (0..16)
        .map(|i| (all[i % n].endpoint(), format!("c{n}x{i}")))
        .collect();
    // Each client makes new names as it goes.
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handles: Vec<_> = targets
        .into_iter()
        .map(|(endpoint, prefix)| {
            let (counter, d) = (Arc::clone(&counter), plan.secs);
            std::thread::spawn(move || {
                let c = Zmq::connect(&endpoint);
                let t0 = Instant::now();
                let mut i = 0;
                while t0.elapsed() < d {
                    let name = format!("{prefix}n{i}");
                    c.call_ok(
                        json!({"action": "create_user", "user_data": {"username": name,
                        "email": format!("{name}@example.com"), "password": "benchpass"}}),
                    );
                    i += 1;
                }
                counter.fetch_add(i, std::sync::atomic::Ordering::Relaxed);
            })
        })
        .collect();
    let t0 = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    counter.load(std::sync::atomic::Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64()
}

/// Delays from a logout's reply on one instance until another refuses the token.
fn revocation_delays(a: &ServiceProcess, b: &ServiceProcess, samples: usize) -> Vec<Duration> {
    let (ca, cb) = (a.client(), b.client());
    let mut delays = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = a.login("admin", ADMIN_PASSWORD);
        let get = json!({"action": "get_user", "session_token": t});
        assert_eq!(cb.call_ok(get.clone())["user"]["username"], "admin");
        ca.call_ok(json!({"action": "logout", "session_token": t}));
        let t0 = Instant::now();
        while cb.call(get.clone()).unwrap()["code"] != "session_invalid" {
            assert!(t0.elapsed() < Duration::from_secs(10), "never revoked");
        }
        delays.push(t0.elapsed());
    }
    delays.sort();
    delays
}

/// A database of `n` users in one snapshot, its key at the default strength.
fn fill(url: &str, n: usize, kdf: u32) {
    let mut opened = PgStore::open(url, MASTER, kdf, 1).expect("the database");
    let hash = password::hash(ADMIN_PASSWORD, 1000, &mut rand::rng());
    let users: Vec<_> = (0..n).map(|i| Arc::new(user(i, &hash))).collect();
    let changes: Vec<Change> = users.iter().cloned().map(Change::Put).collect();
    opened.store.commit(&changes).expect("the users");
    opened
        .store
        .maintain(&mut || State {
            users: users.clone(),
            sessions: vec![],
        })
        .expect("the snapshot");
    // The snapshot is written in the background: wait for it.
    opened.store.close().expect("the snapshot");
}

pub fn run(plan: &Plan, report: &mut Report) {
    let pg = PgCluster::start();

    let one = login_rate(&pg, "logins1", 1, plan);
    let two = login_rate(&pg, "logins2", 2, plan);
    report.push(
        7,
        &format!(
            "login throughput, 2 instances of 1 worker ({} iterations)",
            iterations(plan)
        ),
        two,
        "logins/s",
        Against {
            baseline: Some((one, "1 instance of 1 worker")),
            goal: ">= 1.8",
            met: Some(two / one >= 1.8),
        },
    );

    let ops = if plan.quick { 20 } else { 300 };
    let file = ServiceProcess::start_in(make_store(1000, 1000), opts(&[]));
    let (fc, fu) = write_costs(&file, ops);
    drop(file);
    pg.psql("postgres", "CREATE DATABASE writes");
    let s = ServiceProcess::start(on(&pg.url("writes"), &[]));
    let (pc, pu) = write_costs(&s, ops);
    drop(s);
    for (name, file, pg) in [("create_user", fc, pc), ("update_user", fu, pu)] {
        report.push(
            7,
            &format!("{name} cost on PostgreSQL"),
            pg * 1e3,
            "ms",
            Against {
                baseline: Some((file * 1e3, "the file store")),
                goal: "-",
                met: None,
            },
        );
    }

    pg.psql("postgres", "CREATE DATABASE top1");
    pg.psql("postgres", "CREATE DATABASE top2");
    let w1 = create_rate(&pg.url("top1"), 1, plan);
    let w2 = create_rate(&pg.url("top2"), 2, plan);
    report.push(
        7,
        "create_user throughput, 2 instances, 16 clients",
        w2,
        "writes/s",
        Against {
            baseline: Some((w1, "1 instance")),
            goal: "-",
            met: None,
        },
    );

    pg.psql("postgres", "CREATE DATABASE revoke");
    let pair = instances(&pg.url("revoke"), 2, &[]);
    let delays = revocation_delays(&pair[0], &pair[1], if plan.quick { 10 } else { 200 });
    drop(pair);
    for (p, name) in [(0.5, "p50"), (0.99, "p99")] {
        let d = percentile(&delays, p);
        report.push(
            7,
            &format!("revocation delay across instances, {name}"),
            d.as_secs_f64() * 1e3,
            "ms",
            if p < 0.9 {
                Against::NONE
            } else {
                Against {
                    baseline: None,
                    goal: "<= 100 ms",
                    met: Some(d <= Duration::from_millis(100)),
                }
            },
        );
    }

    let n = if plan.quick { 5_000 } else { 100_000 };
    let kdf = if plan.quick {
        1000
    } else {
        password::DEFAULT_ITERATIONS
    };
    pg.psql("postgres", "CREATE DATABASE many");
    let url = pg.url("many");
    fill(&url, n, kdf);
    let first = ServiceProcess::start(on(&url, &[]));
    let mut joining = first.sibling(on(&url, &[]));
    let took = time_start_up(&mut joining, n);
    let (rss, _) = rss_kib(joining.pid().expect("running"));
    report.push(
        7,
        &format!("start-up of an instance joining {n} users"),
        took.as_secs_f64(),
        "s",
        Against {
            baseline: None,
            goal: "< 3 s",
            met: Some(took < Duration::from_secs(3)),
        },
    );
    report.push(
        7,
        &format!("resident memory of an instance with {n} users"),
        rss as f64 / 1024.0,
        "MiB",
        Against::NONE,
    );
}
