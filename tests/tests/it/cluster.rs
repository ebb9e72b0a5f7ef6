//! Several users-service instances on one PostgreSQL: sessions that work on
//! every instance and end on every instance, writes checked against what
//! the others committed, failure counts that add up, a PostgreSQL restart,
//! and an instance that was away.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use users_tests::{wait_until, PgCluster, ServiceOptions, ServiceProcess, ADMIN_PASSWORD};

pub fn on(pg: &PgCluster) -> ServiceOptions {
    ServiceOptions::default().arg(&[
        "--database",
        &pg.url("users"),
        "--create-rate",
        "1000",
        "--compact-after",
        "50",
    ])
}

/// `n` instances on `pg`.
pub fn instances(pg: &PgCluster, n: usize) -> Vec<ServiceProcess> {
    instances_with(pg, n, &[])
}

/// `n` instances on `pg`, each with the `extra` flags.
pub fn instances_with(pg: &PgCluster, n: usize, extra: &[&str]) -> Vec<ServiceProcess> {
    let first = ServiceProcess::start(on(pg).arg(extra));
    let mut all = vec![];
    for _ in 1..n {
        let mut s = first.sibling(on(pg).arg(extra));
        s.spawn_now();
        all.push(s);
    }
    all.insert(0, first);
    all
}

/// Two instances on `pg`, each with the `extra` flags.
pub fn pair(pg: &PgCluster, extra: &[&str]) -> (ServiceProcess, ServiceProcess) {
    let [a, b] = <[_; 2]>::try_from(instances_with(pg, 2, extra))
        .ok()
        .unwrap();
    (a, b)
}

pub fn get_user(s: &ServiceProcess, token: &str) -> Value {
    s.client()
        .call(json!({"action": "get_user", "session_token": token}))
        .expect("get_user")
}

pub fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("ok")
}

/// Waits until `s` refuses `token`; panics after `limit`, which leaves room
/// for a slow machine (an instance out of step for a second refuses every
/// session anyway, as unavailable).
fn refused_within(s: &ServiceProcess, token: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let r = get_user(s, token);
        if code(&r) == "session_invalid" {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "still accepted after {limit:?}: {r}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_session_started_on_one_instance_works_on_the_others_and_ends_on_all() {
    let pg = PgCluster::start();
    let [a, b, c] = <[_; 3]>::try_from(instances(&pg, 3)).ok().unwrap();
    a.register("alice", "al1ce-pw-1");
    // Straight from the login on a to b and c: no wait in between.
    let t = a.login("alice", "al1ce-pw-1");
    for s in [&b, &c] {
        let r = get_user(s, &t);
        assert_eq!(r["user"]["username"], "alice", "{r}");
    }
    // A logout on b ends it on a and c.
    b.client()
        .call_ok(json!({"action": "logout", "session_token": t}));
    for s in [&a, &c] {
        refused_within(s, &t, Duration::from_secs(10));
    }

    // A password change on c ends alice's other sessions everywhere, and
    // keeps the one that made it.
    let (t1, t2) = (
        a.login("alice", "al1ce-pw-1"),
        b.login("alice", "al1ce-pw-1"),
    );
    c.client()
        .call_ok(json!({"action": "update_user", "session_token": t2,
        "update_data": {"current_password": "al1ce-pw-1", "password": "al1ce-pw-2"}}));
    for s in [&a, &b] {
        refused_within(s, &t1, Duration::from_secs(10));
        assert_eq!(code(&get_user(s, &t2)), "ok");
    }
    assert_eq!(
        a.client()
            .call_err(
                json!({"action": "login", "credentials": {"username": "alice", "password": "al1ce-pw-1"}}),
                "invalid_credentials"
            )["code"],
        "invalid_credentials"
    );

    // A suspension on a ends bob's session on b and c; a deletion on b
    // ends carol's on a.
    a.register("bob", "bobpass123");
    a.register("carol", "c4rol-pass1");
    let tb = c.login("bob", "bobpass123");
    let tc = a.login("carol", "c4rol-pass1");
    let admin = b.admin_token();
    a.client()
        .call_ok(json!({"action": "update_user", "session_token": admin,
        "username": "bob", "update_data": {"status": "suspended",
            "current_password": ADMIN_PASSWORD}}));
    for s in [&b, &c] {
        refused_within(s, &tb, Duration::from_secs(10));
    }
    b.client()
        .call_ok(json!({"action": "delete_user", "session_token": tc, "password": "c4rol-pass1"}));
    refused_within(&a, &tc, Duration::from_secs(10));
    assert_eq!(code(&get_user(&c, &tc)), "session_invalid");
}

#[test]
fn a_token_is_good_on_another_instance_the_moment_the_login_returns() {
    let pg = PgCluster::start();
    let [a, b] = <[_; 2]>::try_from(instances(&pg, 2)).ok().unwrap();
    a.register("erin", "erinpass1");
    let (ca, cb) = (a.client(), b.client());
    // One after the other, as fast as a client can: no notification needs
    // to have arrived, since an instance that does not know a session looks
    // again once it has caught up.
    let refused = (0..100)
        .filter(|_| {
            let r = ca.call_ok(json!({"action": "login",
                "credentials": {"username": "erin", "password": "erinpass1"}}));
            let t = r["session_token"].as_str().unwrap();
            let r = cb
                .call(json!({"action": "get_user", "session_token": t}))
                .unwrap();
            code(&r) != "ok"
        })
        .count();
    assert_eq!(refused, 0, "tokens refused by the other instance");
}

#[test]
fn the_same_name_or_email_on_two_instances_at_once_is_taken_once() {
    let pg = PgCluster::start();
    let [a, b] = <[_; 2]>::try_from(instances(&pg, 2)).ok().unwrap();
    for round in 0..15 {
        // Same username; then the same email in another case.
        let (name_a, name_b, mail_a, mail_b) = if round % 2 == 0 {
            let n = format!("same{round}");
            (
                n.clone(),
                n.clone(),
                format!("a{round}@example.com"),
                format!("b{round}@example.com"),
            )
        } else {
            (
                format!("first{round}"),
                format!("second{round}"),
                format!("shared{round}@example.com"),
                format!("SHARED{round}@Example.com"),
            )
        };
        let go = std::sync::Arc::new(std::sync::Barrier::new(2));
        let create = |s: &ServiceProcess, name: String, mail: String| {
            let (client, go) = (s.client(), std::sync::Arc::clone(&go));
            std::thread::spawn(move || {
                go.wait();
                client
                    .call(json!({"action": "create_user", "user_data": {
                        "username": name, "email": mail, "password": "samepass1"}}))
                    .unwrap()
            })
        };
        let ra = create(&a, name_a, mail_a);
        let rb = create(&b, name_b, mail_b);
        let codes = [ra.join().unwrap(), rb.join().unwrap()].map(|r| code(&r).to_owned());
        let ok = codes.iter().filter(|c| *c == "ok").count();
        assert_eq!(ok, 1, "round {round}: {codes:?}");
        let taken = if round % 2 == 0 {
            "username_taken"
        } else {
            "email_taken"
        };
        assert!(codes.iter().any(|c| c == taken), "round {round}: {codes:?}");
    }
    // Both instances agree on who exists.
    let list = |s: &ServiceProcess| {
        let t = s.admin_token();
        s.client()
            .call_ok(json!({"action": "list_users", "session_token": t, "limit": 1000}))["total"]
            .clone()
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(list(&a), json!(16));
    assert_eq!(list(&b), json!(16));
}

#[test]
fn failures_counted_on_one_instance_count_on_the_other() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &["--throttle-failures", "3"]);
    a.register("dave", "davepass1");
    // What travels between the instances is sealed: no name in a notice.
    let mut listener =
        postgres::Client::connect(&pg.url("users"), postgres::NoTls).expect("a connection");
    listener.batch_execute("LISTEN users_throttle").unwrap();
    for i in 0..3 {
        a.client().call_err(
            json!({"action": "login", "credentials": {"username": "dave", "password": format!("guess{i}")}}),
            "invalid_credentials",
        );
    }
    // The fourth guess, on b: past the three free failures counted on a.
    let start = Instant::now();
    loop {
        let r = b
            .client()
            .call(json!({"action": "login", "credentials": {"username": "dave", "password": "guess3"}}))
            .unwrap();
        match code(&r) {
            "rate_limited" => break,
            "invalid_credentials" if start.elapsed() < Duration::from_secs(2) => {
                // The count may not have arrived yet; this guess counts too.
                std::thread::sleep(Duration::from_millis(20));
            }
            other => panic!("b did not hold dave back: {other} {r}"),
        }
    }
    use postgres::fallible_iterator::FallibleIterator;
    let notes: Vec<String> = listener
        .notifications()
        .timeout_iter(Duration::from_millis(200))
        .map(|n| Ok(n.payload().to_owned()))
        .collect()
        .unwrap();
    assert!(notes.len() >= 3, "{notes:?}");
    for n in &notes {
        assert!(n.starts_with("gAAAAA") && !n.contains("dave"), "{n}");
    }
}

#[test]
fn a_postgresql_restart_loses_nothing_acknowledged_and_every_instance_reconnects() {
    let mut pg = PgCluster::start();
    let [a, b] = <[_; 2]>::try_from(instances(&pg, 2)).ok().unwrap();
    let t = a.login("admin", users_tests::ADMIN_PASSWORD);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = |s: &ServiceProcess, prefix: &'static str| {
        let (client, stop) = (s.client(), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let (mut acked, mut errors) = (Vec::new(), Vec::new());
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let name = format!("{prefix}{i}");
                let r = client
                    .call(
                        json!({"action": "create_user", "user_data": {"username": name,
                        "email": format!("{name}@example.com"), "password": "loadpass1"}}),
                    )
                    .expect("a reply, also while PostgreSQL is down");
                match code(&r) {
                    "ok" => acked.push(name),
                    _ => errors.push(r),
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            (acked, errors)
        })
    };
    let (la, lb) = (load(&a, "pa"), load(&b, "pb"));
    std::thread::sleep(Duration::from_millis(500));
    pg.stop();
    // Meanwhile no instance can hear of a session ended elsewhere, so none
    // trusts the sessions it holds, a second or so after it lost touch.
    for s in [&a, &b] {
        wait_until(
            "an instance refusing sessions while PostgreSQL is down",
            Duration::from_secs(20),
            || code(&get_user(s, &t)) == "service_unavailable",
        );
    }
    pg.restart();
    std::thread::sleep(Duration::from_millis(2500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut acked, mut errors) = la.join().unwrap();
    let (acked_b, errors_b) = lb.join().unwrap();
    acked.extend(acked_b);
    errors.extend(errors_b);
    assert!(!errors.is_empty(), "no request saw PostgreSQL down");
    for e in &errors {
        assert_eq!(
            code(e),
            "service_unavailable",
            "a clear error while down: {e}"
        );
    }
    // Both instances write again by themselves, once they have reconnected
    // (their retries back off to 2 s), and both know every acknowledged user.
    for (s, name) in [(&a, "after_a"), (&b, "after_b")] {
        let mut tried = false;
        wait_until("an instance writing again", Duration::from_secs(30), || {
            let r = s.register(name, "afterpass1");
            // A try refused as unavailable may still have been written.
            let done = code(&r) == "ok" || (tried && code(&r) == "username_taken");
            assert!(
                done || code(&r) == "service_unavailable",
                "{r} {}",
                s.log_text()
            );
            tried = true;
            done
        });
    }
    let login = json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}});
    for s in [&a, &b] {
        let mut list = Value::Null;
        wait_until(
            "an instance trusting sessions again",
            Duration::from_secs(30),
            || {
                let c = s.client();
                let token = c.call(login.clone()).unwrap_or_default()["session_token"].take();
                list = c
                    .call(json!({"action": "list_users", "session_token": token, "limit": 10000}))
                    .unwrap_or_default();
                list["status"] == "success"
            },
        );
        let names: Vec<&str> = list["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        for name in acked
            .iter()
            .map(String::as_str)
            .chain(["after_a", "after_b"])
        {
            assert!(names.contains(&name), "{name} acknowledged and lost");
        }
    }
}

#[test]
fn an_instance_that_was_away_catches_up_before_it_answers() {
    let pg = PgCluster::start();
    let [a, mut b] = <[_; 2]>::try_from(instances(&pg, 2)).ok().unwrap();
    a.register("early", "e4rly-pw1");
    let kept = a.login("early", "e4rly-pw1");
    b.stop();
    // More than a snapshot's worth of batches while b is away.
    for i in 0..60 {
        a.register(&format!("late{i}"), "latepass1");
    }
    a.client()
        .call_ok(json!({"action": "update_user", "session_token": kept,
        "update_data": {"city": "Porto"}}));
    b.spawn_now();
    // Its first answers already know all of it: the users, and the session
    // a started.
    let r = get_user(&b, &kept);
    assert_eq!(r["user"]["city"], "Porto", "{r}");
    assert_eq!(b.login("late59", "latepass1").len(), 43);
}

#[test]
fn instances_starting_together_on_an_empty_database_make_one_admin() {
    let pg = PgCluster::start();
    let first =
        ServiceProcess::stopped_in(std::sync::Arc::new(tempfile::tempdir().unwrap()), on(&pg));
    let mut all: Vec<ServiceProcess> = (0..3).map(|_| first.sibling(on(&pg))).collect();
    std::thread::scope(|scope| {
        for s in all.iter_mut() {
            scope.spawn(move || s.spawn_now());
        }
    });
    let t = all[0].admin_token();
    let list = all[0]
        .client()
        .call_ok(json!({"action": "list_users", "session_token": t, "limit": 100}));
    assert_eq!(list["total"], 1, "{list}");
}

#[test]
fn past_the_cap_the_same_session_ends_on_every_instance() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &["--max-sessions-per-user", "2"]);
    a.register("ida", "idapass12");
    let first = a.login("ida", "idapass12");
    let _second = b.login("ida", "idapass12");
    let third = a.login("ida", "idapass12");
    for s in [&a, &b] {
        refused_within(s, &first, Duration::from_secs(10));
        assert_eq!(code(&get_user(s, &third)), "ok");
    }
}

#[test]
fn a_session_that_guesses_its_password_is_ended_on_every_instance() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &["--throttle-failures", "3"]);
    a.register("gil", "gilpass12");
    let t = a.login("gil", "gilpass12");
    for i in 0..4 {
        let r = a
            .client()
            .call(json!({"action": "update_user", "session_token": t,
                "update_data": {"current_password": format!("guess{i}"), "password": "newpass99"}}))
            .unwrap();
        assert_eq!(r["status"], "error", "{r}");
    }
    assert_eq!(code(&get_user(&a, &t)), "session_invalid");
    refused_within(&b, &t, Duration::from_secs(10));
}
