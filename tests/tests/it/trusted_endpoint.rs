//! The trusted endpoint, `--trusted-endpoint ipc://PATH`: whoever may
//! connect to its socket file is believed when it forwards a client's
//! address, and no one on the TCP port is unless `--trusted-peer` names it.

use crate::throttle::login_forwarded;
use serde_json::json;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use users_tests::ws;
use users_tests::{
    http_get, wait_until, BridgeProcess, ServiceOptions, ServiceProcess, Zmq, ADMIN_PASSWORD,
};

/// `ipc://PATH` for a socket file named `name` in `dir`.
fn ipc(dir: &Path, name: &str) -> String {
    format!("ipc://{}", dir.join(name).display())
}

/// The socket file of an `ipc://` endpoint.
fn file(endpoint: &str) -> PathBuf {
    PathBuf::from(endpoint.strip_prefix("ipc://").unwrap())
}

/// A service with `opts` whose trusted endpoint is `bridge.sock` beside its
/// store; and that endpoint.
fn with_trusted_endpoint(opts: ServiceOptions) -> (ServiceProcess, String) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let endpoint = ipc(dir.path(), "bridge.sock");
    let s = ServiceProcess::start_in(dir, opts.arg(&["--trusted-endpoint", &endpoint]));
    (s, endpoint)
}

fn login(name: &str, password: &str) -> serde_json::Value {
    json!({"action": "login", "credentials": {"username": name, "password": password}})
}

#[test]
fn forwarding_is_believed_through_the_socket_file_and_not_from_loopback() {
    let (s, trusted) =
        with_trusted_endpoint(ServiceOptions::default().arg(&["--throttle-peer-failures", "3"]));
    // Through the socket file, the per-peer throttle follows the forwarded client...
    for i in 0..4 {
        let code = login_forwarded(&trusted, &format!("n{i}"), "203.0.113.9");
        assert_eq!(code, "invalid_credentials");
    }
    assert_eq!(
        login_forwarded(&trusted, "n9", "203.0.113.9"),
        "rate_limited"
    );
    // ...and another client of the same peer is not held back.
    let code = login_forwarded(&trusted, "n9", "198.51.100.7");
    assert_eq!(code, "invalid_credentials");

    // On TCP from 127.0.0.1, with no --trusted-peer, the same claims are
    // ignored: a new made-up client each time changes nothing, the failures
    // count against the sender's own address.
    let tcp = s.endpoint();
    let claims = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    for (i, client) in claims.iter().enumerate() {
        let code = login_forwarded(&tcp, &format!("m{i}"), client);
        assert_eq!(code, "invalid_credentials");
    }
    assert_eq!(login_forwarded(&tcp, "m9", "203.0.113.5"), "rate_limited");

    // The socket file's own peer is exempt from the per-peer limits, as a
    // --trusted-peer is: its failures hold back no one.
    let c = Zmq::connect(&trusted);
    for i in 0..4 {
        c.call_err(login(&format!("u{i}"), "wrong-pw"), "invalid_credentials");
    }
    c.call_ok(login("admin", ADMIN_PASSWORD));
}

#[test]
fn the_socket_file_is_0660_replaced_after_a_crash_and_removed_at_stop() {
    let (mut s, trusted) = with_trusted_endpoint(ServiceOptions::default());
    let path = file(&trusted);
    let mode = |p: &Path| {
        let meta = std::fs::symlink_metadata(p).unwrap();
        assert!(meta.file_type().is_socket());
        meta.permissions().mode() & 0o7777
    };
    assert_eq!(mode(&path), 0o660);
    Zmq::connect(&trusted).call_ok(json!({"action": "health_check"}));
    // SIGKILL leaves the file behind; the next start replaces it.
    s.kill();
    assert!(path.exists());
    s.spawn_now();
    assert_eq!(mode(&path), 0o660);
    Zmq::connect(&trusted).call_ok(json!({"action": "health_check"}));
    let status = s.stop();
    assert!(status.is_some_and(|st| st.success()), "{}", s.log_text());
    assert!(!path.exists(), "removed at a clean stop");
}

/// Starts a service on a fresh store with `--trusted-endpoint endpoint`,
/// which must refuse to start; returns its log.
fn refused(endpoint: &str) -> String {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut s = ServiceProcess::stopped_in(
        dir,
        ServiceOptions::default().arg(&["--trusted-endpoint", endpoint]),
    );
    let status = s.run_to_exit().expect("it stops by itself");
    assert!(!status.success(), "{endpoint}: {}", s.log_text());
    let log = s.log_text();
    assert!(log.contains("--trusted-endpoint"), "{endpoint}: {log}");
    log
}

#[test]
fn an_endpoint_that_cannot_be_trusted_is_refused_at_start() {
    // The flag is known: it is the value that is refused, for what it is.
    for endpoint in ["tcp://127.0.0.1:5557", "ipc://@users-service"] {
        let log = refused(endpoint);
        assert!(log.contains(&format!("'{endpoint}'")), "{log}");
        assert!(!log.contains("unexpected argument"), "{log}");
    }
    let dir = tempfile::tempdir().unwrap();
    let log = refused(&ipc(&dir.path().join("missing"), "bridge.sock"));
    assert!(log.contains("does not exist"), "{log}");
    // A file that is not a socket is never removed to make way.
    let taken = ipc(dir.path(), "notes.txt");
    std::fs::write(file(&taken), "keep me").unwrap();
    let log = refused(&taken);
    assert!(log.contains("not a socket"), "{log}");
    assert_eq!(std::fs::read_to_string(file(&taken)).unwrap(), "keep me");
}

#[test]
fn each_instance_has_its_own_socket_file_and_none_takes_another_s() {
    let shared = tempfile::tempdir().unwrap();
    let (a, b) = (ipc(shared.path(), "a.sock"), ipc(shared.path(), "b.sock"));
    let start = |endpoint: &str| {
        ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-endpoint", endpoint]))
    };
    let first = start(&a);
    let _second = start(&b);
    for endpoint in [&a, &b] {
        Zmq::connect(endpoint).call_ok(json!({"action": "health_check"}));
    }
    let log = refused(&a);
    assert!(log.contains("another process listens on it"), "{log}");
    // The first still has its socket.
    Zmq::connect(&a).call_ok(json!({"action": "health_check"}));
    assert!(first.log_text().contains("listening"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_on_the_trusted_endpoint_signs_a_browser_in_under_its_own_address() {
    let (_s, trusted) = with_trusted_endpoint(ServiceOptions::default());
    let b = BridgeProcess::start(&trusted, &["--trusted-proxy", "127.0.0.1"]);
    wait_until(
        "the bridge connects",
        std::time::Duration::from_secs(10),
        || http_get(b.port, "/healthz").is_ok_and(|(status, _)| status == 200),
    );
    let agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
    let headers = [("X-Forwarded-For", "203.0.113.7"), ("User-Agent", agent)];
    let mut c = ws::connect_with(&b.ws_url(), &headers)
        .await
        .expect("connects");
    let r = ws::call(&mut c, login("admin", ADMIN_PASSWORD)).await;
    assert_eq!(r["status"], "success", "{r}");
    let token = r["session_token"].as_str().unwrap().to_owned();
    // The service believed the browser's address and agent the bridge forwarded.
    let list = ws::call(
        &mut c,
        json!({"action": "list_sessions", "session_token": token}),
    )
    .await;
    let session = &list["sessions"][0];
    assert_eq!(session["client_address"], "203.0.113.7", "{list}");
    assert_eq!(session["user_agent"], agent, "{list}");
}
