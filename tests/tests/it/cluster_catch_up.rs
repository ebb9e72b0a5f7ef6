//! An account made, renamed or deleted on one instance is known to the
//! others the moment its reply is sent: a login, a lookup by name or a
//! uniqueness check that misses on an instance first catches that instance
//! up with the others, then answers. Each test goes from one instance's
//! reply straight to the other instance, as fast as a client can.

use crate::cluster::{code, pair};
use serde_json::{json, Value};
use std::time::Duration;
use users_tests::{wait_until, PgCluster, Zmq, ADMIN_PASSWORD};

const ROUNDS: usize = 200;

fn create(c: &Zmq, name: &str) -> Value {
    c.call(
        json!({"action": "create_user", "user_data": {"username": name,
        "email": format!("{name}@example.com"), "password": "racepass1"}}),
    )
    .unwrap()
}

fn login(c: &Zmq, name: &str) -> Value {
    c.call(json!({"action": "login", "credentials": {"username": name, "password": "racepass1"}}))
        .unwrap()
}

#[test]
fn an_account_made_on_one_instance_logs_in_on_another_at_once() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &[]);
    let (ca, cb) = (a.client(), b.client());
    let mut refused = vec![];
    for i in 0..ROUNDS {
        let name = format!("new{i}");
        assert_eq!(code(&create(&ca, &name)), "ok");
        let r = login(&cb, &name);
        if code(&r) != "ok" {
            refused.push(format!("{name}: {r}"));
        }
        // The same name again, on b: taken, by name or by email (another
        // case of the address).
        assert_eq!(code(&create(&cb, &name)), "username_taken");
        let r = cb.call(
            json!({"action": "create_user", "user_data": {"username": format!("other{i}"),
            "email": format!("{}@EXAMPLE.com", name.to_uppercase()), "password": "racepass1"}}),
        );
        assert_eq!(code(&r.unwrap()), "email_taken");
    }
    assert!(
        refused.is_empty(),
        "{} of {ROUNDS} logins refused: {refused:?}",
        refused.len()
    );
}

#[test]
fn an_admin_finds_an_account_made_on_another_instance_at_once() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &[]);
    let (ca, cb) = (a.client(), b.client());
    let admin = b.admin_token();
    let mut missing = vec![];
    for i in 0..ROUNDS {
        let name = format!("seen{i}");
        assert_eq!(code(&create(&ca, &name)), "ok");
        let r = cb
            .call(json!({"action": "get_user", "session_token": admin, "username": name}))
            .unwrap();
        if code(&r) != "ok" {
            missing.push(format!("{name}: {r}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {ROUNDS} not found: {missing:?}",
        missing.len()
    );
}

#[test]
fn a_name_given_up_on_one_instance_is_free_on_another_at_once() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &[]);
    let (ca, cb) = (a.client(), b.client());
    let (admin, admin_b) = (a.admin_token(), b.admin_token());
    let mut taken = vec![];
    for i in 0..ROUNDS / 2 {
        let (name, renamed) = (format!("gone{i}"), format!("moved{i}"));
        // Two accounts that both instances know.
        for n in [&name, &renamed] {
            assert_eq!(code(&create(&ca, n)), "ok");
            let known = json!({"action": "get_user", "session_token": admin_b, "username": n});
            wait_until("b knows the account", Duration::from_secs(5), || {
                code(&cb.call(known.clone()).unwrap()) == "ok"
            });
        }
        // A deletion on a, then the name on b; a rename on a, then its
        // old name on b.
        ca.call_ok(json!({"action": "delete_user", "session_token": admin,
            "username": name, "password": ADMIN_PASSWORD}));
        let r = create(&cb, &name);
        if code(&r) != "ok" {
            taken.push(format!("{name}: {r}"));
        }
        ca.call_ok(json!({"action": "update_user", "session_token": admin,
            "username": renamed, "update_data": {"username": format!("{renamed}x")}}));
        let r = cb.call(
            json!({"action": "create_user", "user_data": {"username": renamed,
            "email": format!("{renamed}.again@example.com"), "password": "racepass1"}}),
        );
        let r = r.unwrap();
        if code(&r) != "ok" {
            taken.push(format!("{renamed}: {r}"));
        }
    }
    assert!(
        taken.is_empty(),
        "{} names still taken: {taken:?}",
        taken.len()
    );
}
