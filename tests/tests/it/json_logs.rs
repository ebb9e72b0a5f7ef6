//! `--log-format json` in the service and the bridge: one JSON object per
//! line, with timestamp, level, target and message, and still no password
//! and no token in it at trace level.

use serde_json::{json, Value};
use users_tests::{ws, BridgeProcess, ServiceOptions, ServiceProcess};

const PASSWORD: &str = "Json-Trace-Pass-52";

/// Every line of `log` as a JSON object with the standard members; at least
/// one at trace or debug level.
fn json_lines(log: &str) -> Vec<Value> {
    json_lines_at(log, true)
}

/// Like [`json_lines`]; `verbose`: with lines at trace or debug level.
fn json_lines_at(log: &str, verbose: bool) -> Vec<Value> {
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty(), "{log}");
    for l in &lines {
        for member in ["timestamp", "level", "target"] {
            assert!(l[member].is_string(), "no {member}: {l}");
        }
    }
    assert!(lines.iter().any(|l| l["message"].is_string()), "{log}");
    if verbose {
        assert!(
            lines
                .iter()
                .any(|l| l["level"] == "TRACE" || l["level"] == "DEBUG"),
            "{log}"
        );
    }
    lines
}

#[test]
fn the_service_logs_json_without_secrets() {
    let mut s = ServiceProcess::start(ServiceOptions {
        env: vec![("RUST_LOG".into(), "trace".into())],
        ..ServiceOptions::default().arg(&["--log-format", "json"])
    });
    s.register("jules", PASSWORD);
    let token = s.login("jules", PASSWORD);
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": token,
        "update_data": {"current_password": PASSWORD, "password": "Json-Trace-Pass-53"}}));
    s.stop();
    let log = s.log_text();
    let lines = json_lines(&log);
    // The fields sit beside the message: the start-up line names the endpoint.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "users-service listening" && l["endpoint"].is_string()),
        "{log}"
    );
    for leaked in [PASSWORD, token.as_str(), "Json-Trace-Pass-53"] {
        assert!(!log.contains(leaked), "{leaked} reached the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_logs_json_without_secrets() {
    let s = ServiceProcess::start_default();
    s.register("jules", PASSWORD);
    let mut b = BridgeProcess::start_logging("trace", &s.endpoint(), &["--log-format", "json"]);
    let mut c = ws::connect(&b.ws_url(), None).await.unwrap();
    let r = ws::call(
        &mut c,
        json!({"action": "login",
        "credentials": {"username": "jules", "password": PASSWORD}}),
    )
    .await;
    let token = r["session_token"].as_str().unwrap().to_owned();
    ws::call(
        &mut c,
        json!({"action": "get_user", "session_token": token}),
    )
    .await;
    drop(c);
    assert!(b.stop().is_some_and(|s| s.success()));
    let log = b.log_text();
    json_lines(&log);
    for leaked in [PASSWORD, token.as_str()] {
        assert!(!log.contains(leaked), "{leaked} reached the bridge log");
    }
}

#[test]
fn a_failed_start_is_one_json_line_too() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(users_tests::bin_path("users-service"))
        .args([port.as_str(), dir.path().join("u.json").to_str().unwrap()])
        .args(["--kdf-iterations", "1000", "--log-format", "json"])
        .env("USERS_SERVICE_PASSWORD", users_tests::MASTER)
        .env("USERS_SERVICE_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    let lines = json_lines_at(&log, false);
    let error = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .expect("the error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Address already in use"),
        "{log}"
    );
}
