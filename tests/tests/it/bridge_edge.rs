//! users-bridge facing the browser's internet: host names, slow and greedy
//! clients, who the client is behind a proxy, logs and /metrics.

use crate::bridge::{connect, service};
use serde_json::json;
use std::time::{Duration, Instant};
use users_tests::ws::{self, Ws};
use users_tests::{http_get, BridgeProcess, ServiceOptions, ServiceProcess, ADMIN_PASSWORD};

/// A service that trusts the bridge on 127.0.0.1 and backs off after three
/// failed logins from one address.
fn throttled_service() -> ServiceProcess {
    ServiceProcess::start(ServiceOptions::default().arg(&[
        "--trusted-peer",
        "127.0.0.1",
        "--throttle-peer-failures",
        "3",
    ]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_peer_throttle_reaches_browsers_behind_the_bridge() {
    // The bridge is a trusted peer, and forwards each client's address.
    let s = throttled_service();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let mut ws = connect(&b).await;
    let login = |name: &str| json!({"action": "login", "credentials": {"username": name, "password": "wrongpass"}});
    for i in 0..4 {
        let r = ws::call(&mut ws, login(&format!("n{i}"))).await;
        assert_eq!(r["code"], "invalid_credentials", "{r}");
    }
    // A client claiming another address in its frame changes nothing.
    let mut spoofed = login("n9");
    spoofed["client_address"] = json!("198.51.100.7");
    let r = ws::call(&mut ws, spoofed).await;
    assert_eq!(r["code"], "rate_limited", "{r}");
}

/// A WebSocket whose handshake says X-Forwarded-For: `ip`.
async fn as_client(b: &BridgeProcess, ip: &str) -> Ws {
    ws::connect_with(&b.ws_url(), &[("X-Forwarded-For", ip)])
        .await
        .expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_is_told_apart() {
    let s = throttled_service();
    let login = |name: &str| json!({"action": "login", "credentials": {"username": name, "password": "wrongpass"}});
    let fail_four_times = |mut ws: Ws| async move {
        for i in 0..4 {
            let r = ws::call(&mut ws, login(&format!("n{i}"))).await;
            assert_eq!(r["code"], "invalid_credentials", "{r}");
        }
        ws
    };
    // The bridge trusts the proxy on 127.0.0.1 and reads X-Forwarded-For.
    let b = BridgeProcess::start(&s.endpoint(), &["--trusted-proxy", "127.0.0.1"]);
    let mut first = fail_four_times(as_client(&b, "203.0.113.7").await).await;
    let r = ws::call(&mut first, login("n9")).await;
    assert_eq!(r["code"], "rate_limited", "{r}");
    let mut second = as_client(&b, "203.0.113.8").await;
    let r = ws::call(&mut second, login("n9")).await;
    assert_eq!(
        r["code"], "invalid_credentials",
        "another client is not held up: {r}"
    );
    drop((first, second));

    // Without --trusted-proxy the header is ignored: one address, one count.
    let s = throttled_service();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let _ = fail_four_times(as_client(&b, "203.0.113.7").await).await;
    let mut other = as_client(&b, "203.0.113.8").await;
    let r = ws::call(&mut other, login("n9")).await;
    assert_eq!(r["code"], "rate_limited", "{r}");
}

/// The status code of a raw HTTP/1.1 request for `path` with this Host (and
/// Origin), as a page whose DNS name was rebound to this machine would send it.
fn status_with_host(port: u16, path: &str, host: &str, websocket: bool) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let upgrade = if websocket {
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    } else {
        "Connection: close\r\n"
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{upgrade}\r\n"
    )
    .unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_rebound_host_name_reaches_nothing() {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--allowed-host", "users.example.org"]);
    let evil = format!("evil.example:{}", b.port);
    assert_eq!(status_with_host(b.port, "/ws", &evil, true), 403);
    assert_eq!(status_with_host(b.port, "/healthz", &evil, false), 403);
    assert_eq!(status_with_host(b.port, "/", &evil, false), 403);
    // Addresses, localhost and the names given are served.
    let ok_hosts = [
        format!("127.0.0.1:{}", b.port),
        format!("localhost:{}", b.port),
        "users.example.org".to_owned(),
    ];
    for host in &ok_hosts {
        assert_eq!(status_with_host(b.port, "/ws", host, true), 101, "{host}");
        assert_eq!(
            status_with_host(b.port, "/healthz", host, false),
            200,
            "{host}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_carry_no_password_and_no_token() {
    let s = service();
    let b = BridgeProcess::start_logging("trace", &s.endpoint(), &[]);
    let mut ws = connect(&b).await;
    let secret = "Trace-Secret-Pass-91";
    let r = ws::call(
        &mut ws,
        json!({"action": "create_user", "user_data": {"username": "tracy",
            "email": "tracy@example.com", "password": secret}}),
    )
    .await;
    assert_eq!(r["status"], "success", "{r}");
    let r = ws::call(
        &mut ws,
        json!({"action": "login", "credentials": {"username": "tracy", "password": secret}}),
    )
    .await;
    let token = r["session_token"].as_str().unwrap().to_owned();
    ws::call(
        &mut ws,
        json!({"action": "get_user", "session_token": token}),
    )
    .await;
    drop(ws);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = b.log_text();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the bridge logged at its most verbose"
    );
    let leaks: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(secret) || l.contains(&token))
        .collect();
    assert!(
        leaks.is_empty(),
        "secrets reached the log:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn slow_headers_are_cut_off_and_one_address_cannot_hold_every_connection() {
    use std::io::{Read, Write};
    let s = service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &[
            "--header-timeout",
            "1s",
            "--max-http-connections-per-ip",
            "20",
        ],
    );
    // Slowloris: connections that send half a request header and wait.
    let mut slow: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(("127.0.0.1", b.port)).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    // This address has all its connections: one more is closed at once.
    let mut extra = std::net::TcpStream::connect(("127.0.0.1", b.port)).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut buf = [0u8; 16];
    assert!(
        matches!(extra.read(&mut buf), Ok(0) | Err(_)),
        "a connection past the per-address cap was served"
    );
    // Past the header deadline every slow connection is closed...
    std::thread::sleep(Duration::from_millis(2500));
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sink = Vec::new();
        let closed = c.read_to_end(&mut sink).is_ok();
        assert!(closed, "a slow connection is still open");
    }
    drop(slow);
    // ...and the bridge serves again.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(http_get(b.port, "/healthz").unwrap().0, 200);
}

/// The value on the line of `/metrics` text that starts with `line_start`.
fn metric(body: &str, line_start: &str) -> f64 {
    body.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in:\n{body}"))
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_costs_bounded_memory() {
    let s = service();
    let admin = s.admin_token();
    for i in 0..60 {
        s.register(&format!("reader{i:02}"), "readerpass");
    }
    let b = BridgeProcess::start(
        &s.endpoint(),
        &[
            "--rate-per-connection",
            "100000",
            "--rate-per-ip",
            "100000",
            "--send-timeout",
            "1s",
            "--max-queued-bytes",
            "262144",
        ],
    );
    let pid = b.pid().unwrap();
    let before = rss_kib(pid);
    // Asks for large replies and never reads one, until the bridge lets go.
    // How many that takes depends on the kernel's socket buffers and on how
    // fast the service answers, so it is watched for, not assumed.
    let mut ws = connect(&b).await;
    let list = json!({"action": "list_users", "session_token": admin}).to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    loop {
        let gauges = http_get(b.port, "/metrics").unwrap().1;
        if metric(&gauges, "users_bridge_connections") == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bridge still held the connection after {sent} unread requests"
        );
        // Kept under the in-flight cap, so that replies are lists, not
        // short "slow down" errors.
        if metric(&gauges, "users_bridge_requests_in_flight") > 128.0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        for _ in 0..32 {
            let frame = tokio_tungstenite::tungstenite::Message::Text(list.clone().into());
            // Once the bridge stops taking requests, sending blocks or fails.
            match tokio::time::timeout(
                Duration::from_millis(200),
                futures_util::SinkExt::send(&mut ws, frame),
            )
            .await
            {
                Ok(Ok(())) => sent += 1,
                _ => break,
            }
        }
    }
    let after = rss_kib(pid);
    assert!(
        after < before + 64 * 1024,
        "the bridge grew from {before} KiB to {after} KiB for one client"
    );
    // Reading now finds the connection's end after whatever the socket
    // buffers held.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = futures_util::StreamExt::next(&mut ws).await {}
    })
    .await;
    assert!(
        end.is_ok(),
        "the connection was still open after it was counted gone"
    );
    assert_eq!(http_get(b.port, "/healthz").unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_only_so_many_websockets() {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--max-connections-per-ip", "3"]);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(connect(&b).await);
    }
    assert!(
        ws::connect(&b.ws_url(), None).await.is_err(),
        "a fourth WebSocket from the same address was accepted"
    );
    drop(open.pop());
    // The slot is free once the bridge has seen the connection close.
    let deadline = Instant::now() + Duration::from_secs(10);
    while ws::connect(&b.ws_url(), None).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "a freed slot was not given again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_closes_within_its_timeout_and_a_second_even_with_a_reply_owed() {
    let s = service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &["--idle-timeout", "1s", "--request-timeout", "60s"],
    );
    let mut ws = connect(&b).await;
    // The service stops answering, so this request stays owed.
    let pid = s.pid().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    ws::send(&mut ws, json!({"action": "health_check"}).to_string()).await;
    let started = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match futures_util::StreamExt::next(&mut ws).await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
                | None
                | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap();
    assert!(closed.is_ok(), "still open after 5 s with a reply owed");
    assert!(
        // 1 s idle and 1 s for the owed reply, with room for a slow machine;
        // far below the 60 s request timeout.
        started.elapsed() < Duration::from_millis(3500),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_action_and_outcome_and_name_no_one() {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let mut ws = connect(&b).await;
    ws::call(
        &mut ws,
        json!({"action": "login", "credentials": {"username": "metricsuser", "password": "Metrics-Pass-5"}}),
    )
    .await;
    let r = ws::call(
        &mut ws,
        json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}}),
    )
    .await;
    let token = r["session_token"].as_str().unwrap().to_owned();
    ws::call(&mut ws, json!({"action": "health_check"})).await;
    let (code, body) = http_get(b.port, "/metrics").unwrap();
    assert_eq!(code, 200, "{body}");
    let value = |line_start: &str| metric(&body, line_start);
    assert_eq!(
        value(r#"users_bridge_requests_total{action="login",outcome="invalid_credentials"}"#),
        1.0
    );
    assert_eq!(
        value(r#"users_bridge_requests_total{action="login",outcome="success"}"#),
        1.0
    );
    assert_eq!(
        value(r#"users_bridge_requests_total{action="health_check",outcome="success"}"#),
        1.0
    );
    assert_eq!(
        value(r#"users_bridge_errors_total{code="invalid_credentials"}"#),
        1.0
    );
    assert_eq!(value("users_bridge_relay_seconds_count"), 3.0);
    assert_eq!(value("users_bridge_connections"), 1.0);
    assert_eq!(value("users_bridge_service_up"), 1.0);
    for secret in [
        "metricsuser",
        "Metrics-Pass-5",
        ADMIN_PASSWORD,
        token.as_str(),
    ] {
        assert!(!body.contains(secret), "{secret} is in /metrics");
    }
}

#[test]
fn a_connection_that_says_nothing_is_closed_at_the_header_deadline() {
    use std::io::Read;
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--header-timeout", "1s"]);
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", b.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(4)))
        .unwrap();
    let started = Instant::now();
    let mut sink = Vec::new();
    let closed = silent.read_to_end(&mut sink);
    assert!(closed.is_ok(), "still open after 4 s: {closed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
