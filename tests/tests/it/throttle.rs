//! The login defence against clients that do not take turns: bursts,
//! one account under two names, and guessing through a stolen session.

use serde_json::{json, Value};
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess, ADMIN_PASSWORD};

fn login(user: &str, password: &str) -> Value {
    json!({"action": "login", "credentials": {"username": user, "password": password}})
}

/// [`users_tests::pipelined`]; returns the replies' error codes ("ok" for a
/// success), in no particular order.
fn pipelined(endpoint: &str, requests: &[Value]) -> Vec<String> {
    users_tests::pipelined(endpoint, requests)
        .iter()
        .map(|v| v["code"].as_str().unwrap_or("ok").to_owned())
        .collect()
}

fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

#[test]
fn a_pipelined_burst_gets_no_more_guesses_than_the_throttle_allows() {
    // Hashing costs enough here that the burst is all queued before the
    // first guess is checked.
    let s = ServiceProcess::start(ServiceOptions::default().arg(&[
        "--pbkdf2-iterations",
        "100000",
        "--throttle-failures",
        "5",
    ]));
    s.register("alice", "alicepass");
    let burst: Vec<Value> = (0..60)
        .map(|i| login("alice", &format!("guess{i}")))
        .collect();
    let codes = pipelined(&s.endpoint(), &burst);
    assert_eq!(codes.len(), 60);
    assert_eq!(count(&codes, "invalid_credentials"), 5, "{codes:?}");
    assert_eq!(count(&codes, "rate_limited"), 55, "{codes:?}");
}

#[test]
fn a_username_and_an_email_of_one_account_share_one_bucket() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--throttle-failures", "5"]));
    s.register("bob", "bobpass1");
    let c = s.client();
    for _ in 0..3 {
        c.call_err(login("bob", "wrong1"), "invalid_credentials");
    }
    for _ in 0..3 {
        c.call_err(login("BOB@example.com", "wrong1"), "invalid_credentials");
    }
    // Six failures against one account: back-off has begun, whichever name is typed.
    c.call_err(login("bob@example.com", "bobpass1"), "rate_limited");
    c.call_err(login("bob", "bobpass1"), "rate_limited");
    std::thread::sleep(Duration::from_millis(1100));
    s.login("bob", "bobpass1");
}

#[test]
fn a_stolen_session_cannot_guess_the_password_without_limit() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--throttle-failures", "5"]));
    s.register("carl", "carlpass");
    let token = s.login("carl", "carlpass");
    let c = s.client();
    let guess = |pw: &str| {
        json!({"action": "update_user", "session_token": token,
            "update_data": {"current_password": pw, "password": "newpass99"}})
    };
    for i in 0..5 {
        c.call_err(guess(&format!("guess{i}")), "wrong_password");
    }
    // The guesses counted against the account: its login backs off too.
    let r = c.call(guess("guess5")).unwrap();
    assert_eq!(r["status"], "error", "{r}");
    // Past the free failures the session that guessed is ended.
    c.call_err(guess("carlpass"), "session_invalid");
    c.call_err(login("carl", "carlpass"), "rate_limited");
    std::thread::sleep(Duration::from_millis(1100));
    let token = s.login("carl", "carlpass");

    // delete_user's confirmation counts the same way.
    let del = |pw: &str| json!({"action": "delete_user", "session_token": token, "password": pw});
    for i in 0..5 {
        c.call_err(del(&format!("guess{i}")), "wrong_password");
    }
    let _ = c.call(del("guess5")).unwrap();
    c.call_err(del("carlpass"), "session_invalid");
}

#[test]
fn account_creation_is_rate_limited_per_peer() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--create-rate", "1"]));
    // At once, so that no token comes back while they are read.
    let burst: Vec<Value> = (0..6)
        .map(|i| {
            json!({"action": "create_user", "user_data": {"username": format!("spam{i}"),
                "email": format!("spam{i}@example.com"), "password": "spampass"}})
        })
        .collect();
    let codes = pipelined(&s.endpoint(), &burst);
    assert_eq!(count(&codes, "ok"), 2, "a burst of two: {codes:?}");
    assert_eq!(count(&codes, "rate_limited"), 4, "{codes:?}");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.register("later", "l8ter-pw")["status"], "success");
}

/// Ten slow checks sent at once by one peer, while a change that needs no
/// hashing is made from another socket; returns the ten replies' codes.
fn slow_burst_beside_a_write(s: &ServiceProcess, token: &str) -> Vec<String> {
    let burst: Vec<Value> = (0..10)
        .map(|i| login(&format!("nobody{i}"), "guess"))
        .collect();
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(30_000).unwrap();
    d.connect(&s.endpoint()).unwrap();
    for r in &burst {
        d.send_multipart([&b""[..], r.to_string().as_bytes()], 0)
            .unwrap();
    }
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": token,
        "update_data": {"city": "Oslo"}}));
    (0..burst.len())
        .map(|_| {
            let frames = d.recv_multipart(0).unwrap();
            let v: Value = serde_json::from_slice(frames.last().unwrap()).unwrap();
            v["code"].as_str().unwrap_or("ok").to_owned()
        })
        .collect()
}

#[test]
fn a_full_slow_queue_holds_up_no_write_and_one_peer_gets_only_its_share() {
    for limit in ["--max-slow-queue", "--max-slow-per-peer"] {
        let s = ServiceProcess::start(ServiceOptions::default().arg(&[
            "--pbkdf2-iterations",
            "200000",
            "--workers",
            "1",
            limit,
            "3",
            "--throttle-peer-failures",
            "1000",
        ]));
        s.register("wendy", "w3ndy-pass");
        let token = s.login("wendy", "w3ndy-pass");
        let codes = slow_burst_beside_a_write(&s, &token);
        assert_eq!(
            count(&codes, "invalid_credentials"),
            3,
            "{limit}: {codes:?}"
        );
        assert_eq!(count(&codes, "rate_limited"), 7, "{limit}: {codes:?}");
    }
}

/// One login sent with a second frame naming `client`; returns the reply's code.
pub(crate) fn login_forwarded(endpoint: &str, name: &str, client: &str) -> String {
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(20_000).unwrap();
    d.connect(endpoint).unwrap();
    let meta = json!({"client_address": client}).to_string();
    let req = login(name, "wrongpass").to_string();
    d.send_multipart([&b""[..], req.as_bytes(), meta.as_bytes()], 0)
        .unwrap();
    let frames = d.recv_multipart(0).unwrap();
    let v: Value = serde_json::from_slice(frames.last().unwrap()).unwrap();
    v["code"].as_str().unwrap_or("ok").to_owned()
}

#[test]
fn a_trusted_peer_forwards_its_clients_address_for_the_per_peer_throttle() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&[
        "--trusted-peer",
        "127.0.0.1",
        "--throttle-peer-failures",
        "3",
    ]));
    let e = s.endpoint();
    for i in 0..4 {
        assert_eq!(
            login_forwarded(&e, &format!("n{i}"), "203.0.113.9"),
            "invalid_credentials"
        );
    }
    // That client is past its free failures, whatever name it tries next...
    assert_eq!(login_forwarded(&e, "n9", "203.0.113.9"), "rate_limited");
    // ...while another client of the same trusted peer is not.
    assert_eq!(
        login_forwarded(&e, "n9", "198.51.100.7"),
        "invalid_credentials"
    );

    // From a peer that is not trusted the claim is ignored: its failures count
    // against its own address, whatever it says.
    let untrusted =
        ServiceProcess::start(ServiceOptions::default().arg(&["--throttle-peer-failures", "3"]));
    let e = untrusted.endpoint();
    let claims = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    for (i, client) in claims.iter().enumerate() {
        assert_eq!(
            login_forwarded(&e, &format!("n{i}"), client),
            "invalid_credentials"
        );
    }
    assert_eq!(login_forwarded(&e, "n9", "203.0.113.5"), "rate_limited");
}

#[test]
fn logins_refused_as_busy_leave_no_trace_on_the_account() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&[
        "--pbkdf2-iterations",
        "200000",
        "--workers",
        "1",
        "--max-slow-queue",
        "1",
    ]));
    s.register("vera", "verapass");
    // One slow request holds the queue; ten logins for vera come in behind it
    // and are refused as busy before their hash ever runs.
    let mut burst = vec![login("someone", "whatever")];
    burst.extend((0..10).map(|_| login("vera", "verapass")));
    let codes = pipelined(&s.endpoint(), &burst);
    assert!(count(&codes, "rate_limited") >= 9, "{codes:?}");
    // None of them counted against vera: she logs in at once.
    s.login("vera", "verapass");
}

#[test]
fn login_failures_look_alike_and_are_throttled() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--throttle-failures", "3"]));
    s.register("dave", "davepass");
    s.register("erin", "erinpass");
    let admin = s.admin_token();
    let c = s.client();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "erin",
        "update_data": {"status": "suspended", "current_password": ADMIN_PASSWORD}}),
    );
    let login = |u: &str, p: &str| json!({"action": "login", "credentials": {"username": u, "password": p}});
    let a = c.call_err(login("nobody", "whatever"), "invalid_credentials");
    let b = c.call_err(login("dave", "wrongpass"), "invalid_credentials");
    let d = c.call_err(login("erin", "erinpass"), "invalid_credentials");
    assert_eq!(a["message"], b["message"]);
    assert_eq!(b["message"], d["message"]);

    // dave has one failure; two more are free, the next attempt waits.
    c.call_err(login("dave", "wrongpass"), "invalid_credentials");
    c.call_err(login("dave", "wrongpass"), "invalid_credentials");
    c.call_err(login("dave", "wrongpass"), "invalid_credentials");
    let r = c.call_err(login("dave", "davepass"), "rate_limited");
    assert!(r["retry_after"].as_u64().unwrap() >= 1);
    // Unknown names are throttled just the same.
    for _ in 0..4 {
        let _ = c.call(login("ghost", "x1x1x1"));
    }
    c.call_err(login("ghost", "x1x1x1"), "rate_limited");
    // The wait passes.
    std::thread::sleep(Duration::from_millis(1100));
    s.login("dave", "davepass");
}

#[test]
fn per_peer_throttle_spares_trusted_peers() {
    let s =
        ServiceProcess::start(ServiceOptions::default().arg(&["--throttle-peer-failures", "3"]));
    let c = s.client();
    for i in 0..4 {
        let _ = c.call(json!({"action": "login", "credentials": {"username": format!("u{i}"), "password": "wrong1"}}));
    }
    c.call_err(json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}}), "rate_limited");

    let s = ServiceProcess::start(ServiceOptions::default().arg(&[
        "--throttle-peer-failures",
        "3",
        "--trusted-peer",
        "127.0.0.1",
    ]));
    let c = s.client();
    for i in 0..4 {
        let _ = c.call(json!({"action": "login", "credentials": {"username": format!("u{i}"), "password": "wrong1"}}));
    }
    s.login("admin", ADMIN_PASSWORD);
}
