use serde_json::json;
use std::time::{Duration, Instant};
use users_tests::ws::{self, Ws};
use users_tests::{
    http_get, wait_until, BridgeProcess, ServiceOptions, ServiceProcess, ADMIN_PASSWORD,
};

pub(crate) fn service() -> ServiceProcess {
    ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-peer", "127.0.0.1"]))
}

pub(crate) async fn connect(b: &BridgeProcess) -> Ws {
    ws::connect(&b.ws_url(), None).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_through_the_bridge() {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let mut c = connect(&b).await;
    let r = ws::call(
        &mut c,
        json!({"action": "health_check", "request_id": "h1"}),
    )
    .await;
    assert_eq!(
        (r["status"].as_str(), r["request_id"].as_str()),
        (Some("success"), Some("h1"))
    );
    let r = ws::call(
        &mut c,
        json!({"action": "create_user", "user_data": {
        "username": "wsuser", "email": "ws@example.com", "password": "wspass1"}}),
    )
    .await;
    assert_eq!(r["username"], "wsuser");
    let r = ws::call(
        &mut c,
        json!({"action": "login", "credentials": {"username": "wsuser", "password": "wspass1"}}),
    )
    .await;
    let t = r["session_token"].as_str().unwrap().to_owned();
    let r = ws::call(&mut c, json!({"action": "get_user", "session_token": t})).await;
    assert_eq!(r["user"]["email"], "ws@example.com");
    let r = ws::call(
        &mut c,
        json!({"action": "update_user", "session_token": t, "update_data": {"city": "Rome"}}),
    )
    .await;
    assert_eq!(r["user"]["city"], "Rome");
    let r = ws::call(&mut c, json!({"action": "list_users", "session_token": t})).await;
    assert_eq!(r["total"], 2);
    let r = ws::call(
        &mut c,
        json!({"action": "delete_user", "session_token": t, "password": "wrong"}),
    )
    .await;
    assert_eq!(r["code"], "wrong_password");
    let r = ws::call(&mut c, json!({"action": "logout", "session_token": t})).await;
    assert_eq!(r["status"], "success");
    let t = s.login("wsuser", "wspass1");
    let r = ws::call(
        &mut c,
        json!({"action": "delete_user", "session_token": t, "password": "wspass1"}),
    )
    .await;
    assert_eq!(r["status"], "success");
    // Service errors pass through unchanged.
    let r = ws::call(&mut c, json!({"action": "fly", "request_id": 5})).await;
    assert_eq!(
        (r["code"].as_str(), r["request_id"].as_i64()),
        (Some("invalid_request"), Some(5))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hundreds_in_flight_each_reply_to_its_request() {
    let s = service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &["--rate-per-connection", "10000", "--rate-per-ip", "100000"],
    );
    let admin = s.admin_token();
    let conns = 16;
    let per_conn = 40;
    let mut handles = Vec::new();
    for c in 0..conns {
        let url = b.ws_url();
        let admin = admin.clone();
        handles.push(tokio::spawn(async move {
            let mut w = ws::connect(&url, None).await.unwrap();
            // Send everything first, then read: all in flight at once.
            for i in 0..per_conn {
                let id = format!("{c}-{i}");
                let req = if i % 2 == 0 {
                    json!({"action": "health_check", "request_id": id})
                } else {
                    json!({"action": "get_user", "session_token": admin, "request_id": id})
                };
                ws::send(&mut w, req.to_string()).await;
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..per_conn {
                let r = ws::recv(&mut w).await.expect("reply");
                assert_eq!(r["status"], "success", "{r}");
                let id = r["request_id"].as_str().unwrap().to_owned();
                let i: usize = id.split('-').nth(1).unwrap().parse().unwrap();
                assert!(
                    id.starts_with(&format!("{c}-")),
                    "reply for another connection: {id}"
                );
                // The payload matches the request it answers.
                assert_eq!(r.get("user").is_some(), i % 2 == 1, "{r}");
                assert!(seen.insert(id));
            }
            seen.len()
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert_eq!(total, conns * per_conn);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_binary_and_non_json_frames() {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--max-frame-bytes", "1024"]);
    let mut c = connect(&b).await;
    ws::send(&mut c, "not json".into()).await;
    assert_eq!(ws::recv(&mut c).await.unwrap()["code"], "invalid_request");
    // Still open after non-JSON.
    let r = ws::call(&mut c, json!({"action": "health_check"})).await;
    assert_eq!(r["status"], "success");
    ws::send(
        &mut c,
        json!({"action": "health_check", "pad": "x".repeat(2000)}).to_string(),
    )
    .await;
    assert_eq!(ws::recv(&mut c).await.unwrap()["code"], "too_large");
    assert!(
        ws::recv(&mut c).await.is_none(),
        "closed after an oversized frame"
    );

    let mut c = connect(&b).await;
    use futures_util::SinkExt;
    c.send(tokio_tungstenite::tungstenite::Message::Binary(
        vec![1, 2, 3].into(),
    ))
    .await
    .unwrap();
    let r = ws::recv(&mut c).await.unwrap();
    assert_eq!(
        (r["status"].as_str(), r["code"].as_str()),
        (Some("error"), Some("invalid_request"))
    );
    assert!(
        ws::recv(&mut c).await.is_none(),
        "closed after a binary frame"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_per_connection_and_per_ip() {
    let s = service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &["--rate-per-connection", "5", "--rate-per-ip", "1000"],
    );
    let mut c = connect(&b).await;
    for i in 0..30 {
        ws::send(
            &mut c,
            json!({"action": "health_check", "request_id": i}).to_string(),
        )
        .await;
    }
    let mut limited = 0;
    for _ in 0..30 {
        let r = ws::recv(&mut c).await.unwrap();
        if r["code"] == "rate_limited" {
            assert!(r["request_id"].is_number());
            limited += 1;
        }
    }
    assert!(
        limited >= 15,
        "burst of 10 allowed, the rest limited: {limited}"
    );

    let b = BridgeProcess::start(
        &s.endpoint(),
        &["--rate-per-connection", "1000", "--rate-per-ip", "5"],
    );
    // Three connections, then every request at once, so that no token comes
    // back while they are read.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(connect(&b).await);
    }
    for c in &mut conns {
        for _ in 0..6 {
            ws::send(c, json!({"action": "health_check"}).to_string()).await;
        }
    }
    let mut limited = 0;
    for c in &mut conns {
        for _ in 0..6 {
            let r = ws::recv(c).await.unwrap();
            limited += usize::from(r["code"] == "rate_limited");
        }
    }
    assert!(limited >= 6, "18 requests from one IP, burst 10: {limited}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_limit_idle_timeout_and_origin() {
    let s = service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &[
            "--max-connections",
            "2",
            "--idle-timeout",
            "1s",
            "--allowed-origin",
            "http://127.0.0.1:8080",
        ],
    );
    let c1 = connect(&b).await;
    let _c2 = connect(&b).await;
    let err = ws::connect(&b.ws_url(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("503"), "{err}");
    drop(c1);
    // Idle connections close, which frees slots.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut c3 = connect(&b).await;
    let started = Instant::now();
    assert!(ws::recv(&mut c3).await.is_none());
    assert!(started.elapsed() < Duration::from_secs(5));

    let same_origin = format!("http://127.0.0.1:{}", b.port);
    assert!(ws::connect(&b.ws_url(), Some(&same_origin)).await.is_ok());
    assert!(ws::connect(&b.ws_url(), Some("http://127.0.0.1:8080"))
        .await
        .is_ok());
    let err = ws::connect(&b.ws_url(), Some("http://evil.example"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("403"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn service_down_then_back() {
    let mut s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--request-timeout", "2s"]);
    let (code, body) = http_get(b.port, "/healthz").unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""service":"up""#));

    let mut c = connect(&b).await;
    s.stop();
    let started = Instant::now();
    for i in 0..3 {
        let r = ws::call(&mut c, json!({"action": "health_check", "request_id": i})).await;
        assert_eq!(r["code"], "service_unavailable", "{r}");
        assert_eq!(r["request_id"], i);
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "errors are timely"
    );
    let (code, body) = http_get(b.port, "/healthz").unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains(r#""service":"down""#));

    s.restart_on_same_port();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = ws::call(&mut c, json!({"action": "health_check"})).await;
        if r["status"] == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "bridge did not recover: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(http_get(b.port, "/healthz").unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_the_log_and_shutdown_finishes_requests() {
    let s = ServiceProcess::start(ServiceOptions {
        args: vec![
            "--pbkdf2-iterations".into(),
            "300000".into(),
            "--kdf-iterations".into(),
            "1000".into(),
            "--trusted-peer".into(),
            "127.0.0.1".into(),
        ],
        ..Default::default()
    });
    let mut b = BridgeProcess::start(&s.endpoint(), &[]);
    let mut c = connect(&b).await;
    let r = ws::call(&mut c, json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}})).await;
    let token = r["session_token"].as_str().unwrap().to_owned();
    ws::call(
        &mut c,
        json!({"action": "get_user", "session_token": token}),
    )
    .await;

    // A slow login is in flight when SIGTERM arrives: it still gets its reply.
    ws::send(
        &mut c,
        json!({"action": "login", "request_id": "last",
        "credentials": {"username": "admin", "password": ADMIN_PASSWORD}})
        .to_string(),
    )
    .await;
    // SIGTERM once the bridge has taken the login (its debug log names each
    // request's action): a frame it has not read when it stops is, rightly,
    // never relayed.
    wait_until(
        "the bridge taking the login",
        Duration::from_secs(20),
        || {
            let log = b.log_text();
            log.lines()
                .filter(|l| l.contains("relay") && l.contains("login"))
                .count()
                >= 2
        },
    );
    let stopper = std::thread::spawn(move || {
        let ok = b.stop().is_some_and(|s| s.success());
        (ok, b.log_text())
    });
    let r = ws::recv(&mut c).await.expect("reply before close");
    assert_eq!(r["request_id"], "last");
    assert_eq!(r["status"], "success", "{r}");
    assert!(ws::recv(&mut c).await.is_none());
    let (exited_zero, log) = stopper.join().unwrap();
    assert!(exited_zero, "bridge exits 0");

    assert!(log.contains("relay"), "debug logging was on: {log}");
    assert!(!log.contains(&token), "session token in the bridge log");
    assert!(!log.contains(ADMIN_PASSWORD), "password in the bridge log");
}
