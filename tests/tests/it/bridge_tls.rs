//! The bridge over TLS, with the certificate `users-lan-cert` makes: HTTPS
//! with HSTS, WSS, a client that trusts only that authority, and one that
//! trusts nothing of it.

use serde_json::json;
use std::path::Path;
use std::process::Command;
use users_tests::tls::{client_config, https_request};
use users_tests::{bin_path, http_get, BridgeProcess};

/// Makes (or reuses) the authority and certificate under `dir`; its output.
fn lan_cert(dir: &Path) -> String {
    let out = Command::new(bin_path("users-lan-cert"))
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "--name",
            "users.test",
            "--name",
            "localhost",
        ])
        .args(["--address", "127.0.0.1"])
        .output()
        .expect("users-lan-cert runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn https_and_wss_with_the_lan_authority() {
    let dir = tempfile::tempdir().unwrap();
    let printed = lan_cert(dir.path());
    assert!(printed.contains("fingerprint: SHA-256 "), "{printed}");
    assert!(printed.contains("made now:    yes"), "{printed}");
    // Kept and reused.
    assert!(lan_cert(dir.path()).contains("made now:    no"));
    let key_mode = std::fs::metadata(dir.path().join("server-key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key_mode.permissions().mode() & 0o777, 0o600);

    let s = crate::bridge::service();
    let ca = dir.path().join("ca.pem");
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server-key.pem");
    let tls = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let b = BridgeProcess::start_tls(
        &s.endpoint(),
        &ca,
        "users.test",
        &[&tls[..], &["--allowed-host", "users.test"]].concat(),
    );

    let r = https_request(b.port, "users.test", &ca, "GET", "/healthz").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    // Plain HTTP on the TLS port gets no answer.
    assert!(http_get(b.port, "/healthz")
        .map(|(code, _)| code != 200)
        .unwrap_or(true));
    // A client that does not trust the authority refuses the certificate.
    let other = tempfile::tempdir().unwrap();
    lan_cert(other.path());
    let strange = https_request(
        b.port,
        "users.test",
        &other.path().join("ca.pem"),
        "GET",
        "/healthz",
    );
    assert!(
        strange.is_err(),
        "another authority's client must refuse it"
    );

    // WSS: the protocol through the TLS stream.
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", b.port))
        .await
        .unwrap();
    let connector = tokio_rustls::TlsConnector::from(client_config(&ca));
    let name = rustls::pki_types::ServerName::try_from("users.test").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let url = format!("wss://users.test:{}/ws", b.port);
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("WSS handshake");
    let r = users_tests::ws::call(&mut ws, json!({"action": "health_check"})).await;
    assert_eq!(r["status"], "success", "{r}");
}
