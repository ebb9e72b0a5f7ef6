//! Forward authentication behind Debian's nginx, with the shipped example
//! (deploy/nginx-forward-auth.conf) in front of a small app that echoes the
//! headers it gets: no sign-in is sent to sign in, a sign-in reaches the app
//! as Remote-User (whatever the client sent), a role the host is not for is
//! refused, and a logout elsewhere sends the visitor to sign in again within
//! a second. The ticket opens nothing on /ws.

use crate::nginx::{in_http, run, Running};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use users_tests::{free_port, http_request, workspace, BridgeProcess, HttpResponse};

/// An app on a loopback port that answers every request with the request's
/// head; stops when the flag is set.
pub(super) fn echo_app(stop: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                head.len()
            );
            let _ = s.write_all(reply.as_bytes());
            let _ = s.write_all(&head);
        }
    });
    port
}

/// The shipped example on loopback ports, over plain HTTP, in front of the
/// bridge at `bridge` and the app at `app`.
fn site(dir: &std::path::Path, port: u16, bridge: u16, app: u16) -> String {
    let shipped =
        std::fs::read_to_string(workspace().join("deploy/nginx-forward-auth.conf")).unwrap();
    let site: String = shipped
        .lines()
        .filter(|l| !l.contains("ssl_certificate") && !l.contains("listen [::]"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{port};"),
        )
        .replace("127.0.0.1:8765", &format!("127.0.0.1:{bridge}"))
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{app}"));
    for moved in [
        format!("listen 127.0.0.1:{port};"),
        format!("127.0.0.1:{app};"),
    ] {
        assert!(
            site.contains(&moved),
            "the example changed ({moved}): {site}"
        );
    }
    in_http(dir, &site)
}

/// nginx running the shipped example from `dir` on `port`, in front of
/// the bridge's and the app's ports.
pub(super) fn run_example(dir: &std::path::Path, port: u16, bridge: u16, app: u16) -> Running {
    run(dir, &site(dir, port, bridge, app), port)
}

/// A browser's request for the app's page, through nginx.
fn visit(port: u16, cookie: Option<&str>) -> HttpResponse {
    let mut h = vec![
        ("Host", "wiki.example.lan"),
        ("Accept", "text/html"),
        ("Remote-User", "mallory"),
    ];
    if let Some(c) = cookie {
        h.push(("Cookie", c));
    }
    http_request(port, "GET", "/page?x=1&y=2", &h).unwrap()
}

/// The sign-in cookie for `token`, from the bridge.
fn cookie_for(b: &BridgeProcess, token: &str) -> String {
    let origin = format!("http://127.0.0.1:{}", b.port);
    let bearer = format!("Bearer {token}");
    let h = [
        ("Origin", origin.as_str()),
        ("Authorization", bearer.as_str()),
    ];
    let r = http_request(b.port, "POST", "/auth/session", &h).unwrap();
    assert_eq!(r.status, 204, "{r:?}");
    let set = r.header("set-cookie").unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_puts_the_accounts_in_front_of_an_app() {
    let s = crate::bridge::service();
    let b = BridgeProcess::start(
        &s.endpoint(),
        &[
            "--protect",
            "wiki.example.lan=admin",
            "--trusted-proxy",
            "127.0.0.1",
            "--public-url",
            "http://users.test",
        ],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let app = echo_app(Arc::clone(&stop));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let running = run_example(dir.path(), port, b.port, app);

    // No sign-in: to sign in, and back to this page afterwards.
    let away = visit(port, None);
    assert_eq!(away.status, 302, "{away:?}");
    let back = format!("http%3A%2F%2Fwiki.example.lan%3A{port}%2Fpage%3Fx%3D1%26y%3D2");
    assert_eq!(
        away.header("location"),
        Some(format!("http://users.test/login?rd={back}").as_str())
    );

    // Signed in: the app sees who, and not what the client claimed.
    let admin = s.admin_token();
    let cookie = cookie_for(&b, &admin);
    let page = visit(port, Some(&cookie));
    assert_eq!(page.status, 200, "{page:?}");
    let seen = String::from_utf8_lossy(&page.body).to_ascii_lowercase();
    assert!(seen.contains("remote-user: admin"), "{seen}");
    assert!(seen.contains("remote-role: admin"), "{seen}");
    assert!(!seen.contains("mallory"), "{seen}");
    // Nor the sign-in cookie; the others pass.
    let with_more = format!("theme=dark; {cookie}; lang=en");
    let seen = String::from_utf8_lossy(&visit(port, Some(&with_more)).body).to_ascii_lowercase();
    assert!(!seen.contains("users_session"), "{seen}");
    assert!(
        seen.contains("theme=dark") && seen.contains("lang=en"),
        "{seen}"
    );

    // A Host of the client's choosing does not choose the rule.
    let other = http_request(
        port,
        "GET",
        "/",
        &[("Host", "other.example.lan"), ("Cookie", cookie.as_str())],
    )
    .unwrap();
    assert_eq!(
        other.status, 200,
        "asked about wiki.example.lan still: {other:?}"
    );

    // A role this host is not for.
    s.register("ann", "Secret-an-2026");
    let ann = cookie_for(&b, &s.login("ann", "Secret-an-2026"));
    assert_eq!(visit(port, Some(&ann)).status, 403);

    // The ticket is no session token on the bridge's /ws.
    let ticket = cookie.trim_start_matches("users_session=");
    let mut ws = crate::bridge::connect(&b).await;
    let r = users_tests::ws::call(
        &mut ws,
        json!({"action": "get_user", "session_token": ticket}),
    )
    .await;
    assert_eq!(r["code"], "session_invalid", "{r}");

    // A logout elsewhere: sent to sign in again within a second.
    s.client()
        .call_ok(json!({"action": "logout", "session_token": admin}));
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut status = 200;
    while status == 200 && Instant::now() < deadline {
        status = visit(port, Some(&cookie)).status;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 302, "still let in a second after the logout");
    drop(running);
    stop.store(true, Ordering::Relaxed);
}
