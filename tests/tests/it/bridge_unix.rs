//! The bridge's `--listen-unix`: a proxy connecting through its socket file
//! is believed about the client's address, while on the TCP port no one is
//! unless `--trusted-proxy` names it; and the socket file itself: its mode,
//! a stale one replaced, a live one or another file refused, removal at stop.

use serde_json::{json, Value};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use users_tests::ws;
use users_tests::{
    bin_path, wait_until, BridgeProcess, ServiceOptions, ServiceProcess, ADMIN_PASSWORD,
};

fn login() -> Value {
    json!({"action": "login", "credentials": {"username": "admin", "password": ADMIN_PASSWORD}})
}

/// Signs in over `c` and returns the client address the service recorded
/// for that session.
async fn signed_in_as<S>(c: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let r = ws::call(c, login()).await;
    assert_eq!(r["status"], "success", "{r}");
    let token = r["session_token"].as_str().unwrap().to_owned();
    let list = ws::call(
        c,
        json!({"action": "list_sessions", "session_token": token}),
    )
    .await;
    let sessions = list["sessions"].as_array().expect("sessions");
    let current = sessions.iter().find(|x| x["current"] == true);
    current.expect("the current session")["client_address"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_unix_socket_the_proxy_is_believed_and_on_loopback_tcp_it_is_not() {
    // The service believes the bridge (on 127.0.0.1) about its clients.
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-peer", "127.0.0.1"]));
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("http.sock");
    let b = BridgeProcess::start(&s.endpoint(), &["--listen-unix", sock.to_str().unwrap()]);
    let xff = [("X-Forwarded-For", "198.51.100.1, 203.0.113.7")];

    // Through the socket: the last entry, the one the proxy added.
    let mut c = ws::connect_unix(&sock, &xff).await.expect("connects");
    assert_eq!(signed_in_as(&mut c).await, "203.0.113.7");
    // Through the socket, naming no one: the one "unknown" client.
    let mut c = ws::connect_unix(&sock, &[]).await.expect("connects");
    assert_eq!(signed_in_as(&mut c).await, "0.0.0.0");
    // On the TCP port from 127.0.0.1, without --trusted-proxy, the same
    // header is ignored: any local process could send it.
    let mut c = ws::connect_with(&b.ws_url(), &xff).await.expect("connects");
    assert_eq!(signed_in_as(&mut c).await, "127.0.0.1");
}

/// A bridge's `--listen-unix` socket at `sock`, with no TCP port and a
/// service that is not there: how it starts, or why it does not.
fn start_alone(sock: &Path) -> std::process::Child {
    Command::new(bin_path("users-bridge"))
        .args(["--service", "tcp://127.0.0.1:9", "--listen-unix"])
        .arg(sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The error a bridge that must not start gives, within 20 s.
fn refused(sock: &Path) -> String {
    let mut child = start_alone(sock);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a bridge started on {}", sock.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    users_tests::error_line(&out.stderr, "users-bridge: ")
}

#[test]
fn the_socket_file_is_the_bridge_s_and_its_group_s_and_no_one_else_s() {
    let s = ServiceProcess::start_default();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("http.sock");
    let mut b = BridgeProcess::start(&s.endpoint(), &["--listen-unix", sock.to_str().unwrap()]);
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);

    // A second bridge on it is refused, and the first keeps it.
    let e = refused(&sock);
    assert!(
        e.contains("--listen-unix") && e.contains("another process listens"),
        "{e}"
    );
    assert!(std::os::unix::net::UnixStream::connect(&sock).is_ok());

    // A clean stop removes it.
    b.stop();
    assert!(!sock.exists(), "removed at a clean stop");

    // What a killed bridge leaves is replaced.
    b.restart();
    let pid = b.pid().unwrap().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    wait_until("the bridge dies", Duration::from_secs(10), || {
        std::os::unix::net::UnixStream::connect(&sock).is_err()
    });
    assert!(sock.exists(), "SIGKILL leaves the socket file");
    b.restart();
    assert!(std::os::unix::net::UnixStream::connect(&sock).is_ok());
    b.stop();

    // Any other file is left alone, and so is a missing directory.
    std::fs::write(&sock, "not a socket").unwrap();
    let e = refused(&sock);
    assert!(
        e.contains("--listen-unix") && e.contains("not a socket"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&sock).unwrap(), "not a socket");
    let e = refused(&dir.path().join("missing/http.sock"));
    assert!(e.contains("does not exist"), "{e}");
}

/// The status of a `GET path` sent whole over `c`.
fn status_of(c: &mut std::os::unix::net::UnixStream, path: &str) -> String {
    use std::io::{Read, Write};
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = c.read_to_string(&mut reply);
    reply.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_unix_socket_has_the_header_deadline_and_only_the_overall_cap() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let s = ServiceProcess::start_default();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("http.sock");
    let args = [
        "--header-timeout",
        "1s",
        "--max-http-connections-per-ip",
        "2",
    ];
    let unix = ["--listen-unix", sock.to_str().unwrap()];
    let _b = BridgeProcess::start(&s.endpoint(), &[&args[..], &unix[..]].concat());
    // More half-sent requests than one address may have: the proxy carries
    // many clients, so only --max-http-connections counts them.
    let mut slow: Vec<UnixStream> = (0..4)
        .map(|_| {
            let mut c = UnixStream::connect(&sock).unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    let mut whole = UnixStream::connect(&sock).unwrap();
    assert!(
        status_of(&mut whole, "/healthz").starts_with("HTTP/1.1 "),
        "served"
    );
    // Past the header deadline, each slow one is closed.
    std::thread::sleep(Duration::from_millis(2500));
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sink = Vec::new();
        let closed = c.read_to_end(&mut sink);
        assert!(closed.is_ok(), "still open past the deadline: {closed:?}");
    }
}
