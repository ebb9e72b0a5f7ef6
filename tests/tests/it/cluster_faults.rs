//! Several instances on one PostgreSQL, when something is wrong: a notice
//! sent again by someone who can reach the database, a database that lost
//! batches an instance had applied, and an instance left further behind than
//! the log keeps.

use super::cluster::{code, instances, on, pair};
use serde_json::json;
use std::time::{Duration, Instant};
use users_tests::{PgCluster, ServiceProcess};

fn wrong_login(s: &ServiceProcess, user: &str) -> String {
    let r = s
        .client()
        .call(json!({"action": "login", "credentials": {"username": user, "password": "wrong-guess"}}))
        .unwrap();
    code(&r).to_owned()
}

/// Waits up to 20 s for `s` to exit by itself; its log then.
fn exits_with(s: &mut ServiceProcess, reason: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if s.has_exited() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running:\n{}",
            s.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(s.log_text().contains(reason), "{}", s.log_text());
}

#[test]
fn a_failure_count_sent_again_is_not_counted_again() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &["--throttle-failures", "3"]);
    a.register("eve", "evepass12");
    let mut spy =
        postgres::Client::connect(&pg.url("users"), postgres::NoTls).expect("a connection");
    spy.batch_execute("LISTEN users_throttle").unwrap();
    assert_eq!(wrong_login(&a, "eve"), "invalid_credentials");
    use postgres::fallible_iterator::FallibleIterator;
    let sealed = spy
        .notifications()
        .timeout_iter(Duration::from_secs(2))
        .next()
        .unwrap()
        .expect("a's failure went out")
        .payload()
        .to_owned();
    // Someone who can reach the database sends it five times more, each
    // with other padding (the same token to the key), to both instances.
    for pad in 0..5 {
        let again = format!("{sealed}{}", "=".repeat(pad));
        spy.execute("SELECT pg_notify('users_throttle', $1)", &[&again])
            .unwrap();
    }
    let ignored = |s: &ServiceProcess| s.log_text().contains("were ignored");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(ignored(&a) && ignored(&b)) {
        assert!(Instant::now() < deadline, "the copies were not looked at");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // Each counted one failure, not six: two more are still free on each.
    for s in [&b, &a] {
        assert_eq!(wrong_login(s, "eve"), "invalid_credentials");
    }
}

#[test]
fn an_instance_stops_when_the_database_lost_batches_it_had_applied() {
    let pg = PgCluster::start();
    let [mut a] = <[_; 1]>::try_from(instances(&pg, 1)).ok().unwrap();
    for name in ["fay", "gus", "hal"] {
        a.register(name, "somepass1");
    }
    // As after a failover to a copy that lacked the last batches.
    pg.psql(
        "users",
        "DELETE FROM users_log WHERE seq > (SELECT max(seq) - 2 FROM users_log)",
    );
    let r = a.register("ivy", "somepass1");
    assert_ne!(code(&r), "ok", "{r}");
    exits_with(&mut a, "lacks batches");
}

#[test]
fn an_instance_stops_when_the_database_went_on_from_an_older_past() {
    let pg = PgCluster::start();
    let [mut a] = <[_; 1]>::try_from(instances(&pg, 1)).ok().unwrap();
    for name in ["jon", "kim", "lou"] {
        a.register(name, "somepass1");
    }
    // The last two batches are lost, and another instance, started on what
    // is left, writes two batches of its own under the same numbers.
    pg.psql(
        "users",
        "DELETE FROM users_log WHERE seq > (SELECT max(seq) - 2 FROM users_log)",
    );
    let mut c = a.sibling(on(&pg));
    c.spawn_now();
    for name in ["max", "ned"] {
        assert_eq!(code(&c.register(name, "somepass1")), "ok");
    }
    let r = a.register("oli", "somepass1");
    assert_ne!(code(&r), "ok", "{r}");
    exits_with(&mut a, "is another one");
}

#[test]
fn an_instance_left_behind_further_than_the_log_keeps_stops() {
    let pg = PgCluster::start();
    let (a, mut b) = pair(&pg, &["--compact-after", "5"]);
    let pid = b.pid().unwrap().to_string();
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success())
    };
    signal("-STOP");
    // Two snapshots' worth: the log no longer holds what b would read next.
    for i in 0..15 {
        a.register(&format!("late{i}"), "latepass1");
    }
    signal("-CONT");
    exits_with(&mut b, "fell behind");
    // a went on; a restarted b loads the snapshot.
    b.spawn_now();
    assert_eq!(b.login("late14", "latepass1").len(), 43);
}
