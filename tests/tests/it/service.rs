use serde_json::{json, Value};
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess, Zmq, ADMIN_PASSWORD};

#[test]
fn the_original_flow() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let r = c.call_ok(json!({"action": "create_user", "user_data": {
        "username": "alice", "email": "alice@example.com",
        "password": "SecurePass123!", "full_name": "Alice Smith"}}));
    assert_eq!(r["username"], "alice");
    assert_eq!(r["message"], "User created successfully");

    let r = c.call_ok(json!({"action": "login",
        "credentials": {"username": "alice", "password": "SecurePass123!"}}));
    let token = r["session_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43, "32 bytes, URL-safe base64");
    assert_eq!(r["user"]["username"], "alice");
    assert_eq!(r["user"]["full_name"], "Alice Smith");
    assert!(r["user"].get("password_hash").is_none());
    assert!(r["user"]["last_login"].is_string());

    let r = c.call_ok(json!({"action": "update_user", "session_token": token,
        "update_data": {"username": "alice_updated"}}));
    assert_eq!(r["user"]["username"], "alice_updated");

    c.call_ok(json!({"action": "update_user", "session_token": token,
        "update_data": {"current_password": "SecurePass123!", "password": "NewSecurePass456!"}}));
    c.call_ok(json!({"action": "logout", "session_token": token}));
    c.call_err(
        json!({"action": "get_user", "session_token": token}),
        "session_invalid",
    );
    c.call_err(
        json!({"action": "login",
        "credentials": {"username": "alice_updated", "password": "SecurePass123!"}}),
        "invalid_credentials",
    );
    s.login("alice_updated", "NewSecurePass456!");
}

#[test]
fn get_and_update_profile_and_health() {
    let s = ServiceProcess::start_default();
    s.register("bob", "bobpass1");
    let t = s.login("bob", "bobpass1");
    let c = s.client();
    let r = c.call_ok(json!({"action": "update_user", "session_token": t, "update_data": {
        "full_name": "Bob B", "phone": "+1 555", "address": "1 Road", "city": "Paris",
        "country": "FR", "postal_code": "75001", "date_of_birth": "1990-05-17", "notes": "hi\nthere"}}));
    assert_eq!(r["user"]["city"], "Paris");
    let r = c.call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["date_of_birth"], "1990-05-17");
    assert_eq!(r["user"]["role"], "user");
    assert_eq!(r["user"]["status"], "active");
    let h = c.call_ok(json!({"action": "health_check"}));
    assert_eq!(h["users"], 2);
    assert_eq!(h["active_sessions"], 1);
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptime_seconds"].is_u64());
}

#[test]
fn login_by_email_and_case_insensitive_uniqueness() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    c.call_ok(json!({"action": "create_user", "user_data": {
        "username": "Carol", "email": "Carol@Example.com", "password": "c4rol-pw"}}));
    s.login("carol@example.COM", "c4rol-pw");
    s.login("CAROL", "c4rol-pw");
    c.call_err(
        json!({"action": "create_user", "user_data": {
        "username": "carol", "email": "other@example.com", "password": "c4rol-pw"}}),
        "username_taken",
    );
    let r = c.call_err(
        json!({"action": "create_user", "user_data": {
        "username": "carol2", "email": "CAROL@example.com", "password": "c4rol-pw"}}),
        "email_taken",
    );
    assert_eq!(r["field"], "email");
}

#[test]
fn validation_errors_name_the_field() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let create = |user: Value| json!({"action": "create_user", "user_data": user});
    let r = c.call_err(
        create(json!({"username": "ab", "email": "a@b.io", "password": "s3cret-Pw"})),
        "invalid_request",
    );
    assert_eq!(r["field"], "username");
    let r = c.call_err(
        create(json!({"username": "abc", "email": "nope", "password": "s3cret-Pw"})),
        "invalid_request",
    );
    assert_eq!(r["field"], "email");
    let r = c.call_err(
        create(json!({"username": "abc", "email": "a@b.io", "password": "12345"})),
        "weak_password",
    );
    assert_eq!(r["field"], "password");
    let long = "p".repeat(1025);
    c.call_err(
        create(json!({"username": "abc", "email": "a@b.io", "password": long})),
        "weak_password",
    );
    let r = c.call_err(
        create(
            json!({"username": "abc", "email": "a@b.io", "password": "s3cret-Pw",
        "full_name": "x".repeat(101)}),
        ),
        "invalid_request",
    );
    assert_eq!(r["field"], "full_name");
    let r = c.call_err(
        create(
            json!({"username": "abc", "email": "a@b.io", "password": "s3cret-Pw",
        "role": "admin", "favourite": 1}),
        ),
        "invalid_request",
    );
    let m = r["message"].as_str().unwrap();
    assert!(m.contains("role") && m.contains("favourite"), "{m}");
    c.call_err(json!({"action": "create_user"}), "invalid_request");
    c.call_err(json!({"action": "teleport"}), "invalid_request");
    c.call_err(json!({"no_action": 1}), "invalid_request");
    c.call_err(
        json!({"action": "list_users", "sort": "password_hash"}),
        "invalid_request",
    );
    c.call_err(
        json!({"action": "list_users", "limit": 0}),
        "invalid_request",
    );
}

#[test]
fn every_message_gets_a_json_reply() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--max-request-bytes", "1024"]));
    let c = s.client();
    let inputs: Vec<Vec<&[u8]>> = vec![
        vec![b"not json"],
        vec![b"\xff\xfe\x00binary"],
        vec![b""],
        vec![b"[1,2]"],
        vec![b"{\"action\": 5}"],
        vec![b"{\"action\":\"health_check\"}", b"second frame"],
    ];
    for frames in inputs {
        let reply = c.raw(&frames).expect("a reply");
        let v: Value = serde_json::from_slice(&reply).expect("JSON");
        assert_eq!(v["status"], "error", "{v}");
        assert_eq!(v["code"], "invalid_request", "{v}");
    }
    let big = format!(
        "{{\"action\":\"health_check\",\"pad\":\"{}\"}}",
        "x".repeat(5000)
    );
    let v: Value = serde_json::from_slice(&c.raw(&[big.as_bytes()]).unwrap()).unwrap();
    assert_eq!(v["code"], "too_large");
    // Still serving.
    c.call_ok(json!({"action": "health_check"}));
}

#[test]
fn request_id_is_echoed_and_a_dealer_can_pipeline() {
    let s = ServiceProcess::start_default();
    let r = s
        .client()
        .call_ok(json!({"action": "health_check", "request_id": "abc-1"}));
    assert_eq!(r["request_id"], "abc-1");
    let r = s.client().call_err(
        json!({"action": "nope", "request_id": 42}),
        "invalid_request",
    );
    assert_eq!(r["request_id"], 42);

    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(20_000).unwrap();
    d.set_linger(0).unwrap();
    d.connect(&s.endpoint()).unwrap();
    let n: usize = 50;
    // Five logins of one account: as many as --throttle-failures lets be
    // checked at once (a guess is counted when it starts).
    for i in 0..n {
        let req = if i.is_multiple_of(10) {
            json!({"action": "login", "request_id": i,
                   "credentials": {"username": "admin", "password": ADMIN_PASSWORD}})
        } else {
            json!({"action": "health_check", "request_id": i})
        };
        d.send_multipart([&b""[..], req.to_string().as_bytes()], 0)
            .unwrap();
    }
    let mut seen = vec![false; n];
    for _ in 0..n {
        let frames = d.recv_multipart(0).expect("reply");
        assert_eq!(frames.len(), 2, "delimiter and body");
        let v: Value = serde_json::from_slice(&frames[1]).unwrap();
        let id = v["request_id"].as_u64().unwrap() as usize;
        assert!(!seen[id]);
        seen[id] = true;
        assert_eq!(v["status"], "success");
        assert_eq!(
            v.get("session_token").is_some(),
            id.is_multiple_of(10),
            "{v}"
        );
    }
    // A DEALER without the empty delimiter frame is answered the same way.
    d.send(
        json!({"action": "health_check", "request_id": "bare"})
            .to_string()
            .as_bytes(),
        0,
    )
    .unwrap();
    let frames = d.recv_multipart(0).unwrap();
    assert_eq!(frames.len(), 1);
    let v: Value = serde_json::from_slice(&frames[0]).unwrap();
    assert_eq!(v["request_id"], "bare");
}

#[test]
fn concurrent_registrations_of_one_name_yield_exactly_one_account() {
    let s = ServiceProcess::start_default();
    let endpoint = s.endpoint();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let endpoint = endpoint.clone();
            std::thread::spawn(move || {
                Zmq::connect(&endpoint)
                    .call(json!({"action": "create_user", "user_data": {
                        "username": "race", "email": format!("race{i}@example.com"), "password": "racepw"}}))
                    .unwrap()
            })
        })
        .collect();
    let replies: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = replies.iter().filter(|r| r["status"] == "success").count();
    assert_eq!(ok, 1, "{replies:?}");
    assert!(replies
        .iter()
        .filter(|r| r["status"] == "error")
        .all(|r| r["code"] == "username_taken"));
}

#[test]
fn update_conflicts_and_empty_updates() {
    let s = ServiceProcess::start_default();
    s.register("hank", "hankpass");
    s.register("ivy", "ivypass1");
    let t = s.login("hank", "hankpass");
    let c = s.client();
    c.call_err(
        json!({"action": "update_user", "session_token": t, "update_data": {"username": "IVY"}}),
        "username_taken",
    );
    c.call_err(json!({"action": "update_user", "session_token": t, "update_data": {"email": "ivy@example.com"}}), "email_taken");
    c.call_err(
        json!({"action": "update_user", "session_token": t, "update_data": {}}),
        "invalid_request",
    );
    let r = c.call_err(json!({"action": "update_user", "session_token": t, "update_data": {"password_hash": "00"}}), "invalid_request");
    assert!(r["message"].as_str().unwrap().contains("password_hash"));
    // Changing only the case of one's own name is allowed.
    let r = c.call_ok(
        json!({"action": "update_user", "session_token": t, "update_data": {"username": "Hank"}}),
    );
    assert_eq!(r["user"]["username"], "Hank");
    c.call_err(
        json!({"action": "logout", "session_token": "not-a-session"}),
        "session_invalid",
    );
}

#[test]
fn health_answers_while_logins_hash() {
    // Slow hashes occupy every worker; health_check must not queue behind them.
    let s = ServiceProcess::start(ServiceOptions {
        args: vec![
            "--pbkdf2-iterations".into(),
            "400000".into(),
            "--kdf-iterations".into(),
            "1000".into(),
            "--workers".into(),
            "1".into(),
        ],
        ..Default::default()
    });
    let endpoint = s.endpoint();
    let busy: Vec<_> = (0..3)
        .map(|_| {
            let e = endpoint.clone();
            std::thread::spawn(move || {
                // Three slow hashes, one at a time, on a machine the other
                // tests load too: more than the usual 20 s may pass.
                Zmq::connect_timeout(&e, Duration::from_secs(120))
                    .call(json!({"action": "login",
                    "credentials": {"username": "admin", "password": ADMIN_PASSWORD}}))
                    .unwrap()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let c = s.client();
    let started = std::time::Instant::now();
    c.call_ok(json!({"action": "health_check"}));
    let health_took = started.elapsed();
    let logins_done = busy.iter().filter(|h| h.is_finished()).count();
    for h in busy {
        assert_eq!(h.join().unwrap()["status"], "success");
    }
    // Ordering, not timing: health was answered while logins were still queued.
    assert!(
        logins_done < 3,
        "health_check waited for the logins ({health_took:?})"
    );
}

#[test]
fn trace_logs_carry_no_password_and_no_token() {
    let mut s = ServiceProcess::start(ServiceOptions {
        env: vec![("RUST_LOG".into(), "trace".into())],
        ..Default::default()
    });
    let secret = "Service-Trace-Pass-77";
    s.register("trina", secret);
    let token = s.login("trina", secret);
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": token,
            "update_data": {"current_password": secret, "password": "Another-Pass-78"}}));
    s.stop();
    let log = s.log_text();
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    for leaked in [secret, token.as_str(), "Another-Pass-78"] {
        assert!(!log.contains(leaked), "{leaked} reached the log");
    }
}

#[test]
fn a_port_in_use_and_a_bad_endpoint_are_each_said_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("users.json");
    let out = std::process::Command::new(users_tests::bin_path("users-service"))
        .args([port.as_str(), store.to_str().unwrap()])
        .args(["--kdf-iterations", "1000", "--pbkdf2-iterations", "1000"])
        .env("USERS_SERVICE_PASSWORD", users_tests::MASTER)
        .env("USERS_SERVICE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = users_tests::error_line(&out.stderr, "users-service: ");
    // Not `ZeroMQ: Address already in use: Address already in use`.
    assert_eq!(line.matches("Address already in use").count(), 1, "{line}");

    let out = std::process::Command::new(users_tests::bin_path("users-bridge"))
        .args(["--listen", "127.0.0.1:0", "--service", "bogus://x"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = users_tests::error_line(&out.stderr, "users-bridge: ");
    assert!(line.contains("--service bogus://x"), "{line}");
    assert_eq!(line.matches("not supported").count(), 1, "{line}");
}
