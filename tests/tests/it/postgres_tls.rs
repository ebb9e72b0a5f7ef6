//! users-service on a PostgreSQL that takes TLS connections only
//! (`PgCluster::start_tls`): a clear connection is refused, `sslmode=require`
//! works for every connection the service and its operator commands make,
//! and `verify-full` checks the CA and the host name, with errors that say
//! which and never show the password.

use serde_json::json;
use users_tests::postgres_tls::PASSWORD;
use users_tests::{PgCluster, ServiceOptions, ServiceProcess, MASTER};

/// The cluster's address for `host`, with `query`.
fn url(pg: &PgCluster, host: &str, query: &str) -> String {
    let url = pg.url("users").replace("127.0.0.1", host);
    match query {
        "" => url,
        q => format!("{url}?{q}"),
    }
}

fn on(url: &str) -> ServiceOptions {
    ServiceOptions::default().arg(&["--database", url, "--compact-after", "2"])
}

/// Opens the store in this process, as the service does at start-up, and
/// returns the error it fails with.
fn refused(url: &str) -> String {
    match users_service::postgres::PgStore::open(url, MASTER, 1000, 10) {
        Ok(_) => panic!("{url} was taken"),
        Err(e) => {
            let e = e.to_string();
            assert!(!e.contains(PASSWORD), "the password in an error: {e}");
            e
        }
    }
}

/// Starts a service that must fail; returns its log.
fn fails_to_start(url: &str) -> String {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut s = ServiceProcess::stopped_in(dir, on(url));
    let status = s.run_to_exit().expect("the service stopped by itself");
    assert!(!status.success());
    let log = s.log_text();
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");
    log
}

#[test]
fn a_server_that_takes_tls_only_refuses_connections_in_clear() {
    let pg = PgCluster::start_tls();
    // The server itself, to the client library, and to the service, with
    // TLS turned off and by default (no sslmode: no TLS, as before).
    let clear = url(&pg, "127.0.0.1", "sslmode=disable");
    let e = postgres::Client::connect(&clear, postgres::NoTls)
        .err()
        .unwrap();
    let cause = std::error::Error::source(&e).map(|c| c.to_string());
    assert!(
        cause
            .as_deref()
            .unwrap_or_default()
            .contains("no encryption"),
        "{e}: {cause:?}"
    );
    for url in [clear, url(&pg, "127.0.0.1", "")] {
        let log = fails_to_start(&url);
        assert!(log.contains("no encryption"), "{log}");
    }
}

#[test]
fn with_sslmode_require_every_connection_is_encrypted() {
    let pg = PgCluster::start_tls();
    let url = url(&pg, "127.0.0.1", "sslmode=require");
    let s = ServiceProcess::start(on(&url));
    // Writes (and a snapshot, every two batches), logins, the audit log.
    s.register("alice", "al1ce-pw-1");
    for i in 0..3 {
        s.register(&format!("bob{i}"), "bobpass123");
    }
    let t = s.login("alice", "al1ce-pw-1");
    let me = s
        .client()
        .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(me["user"]["username"], "alice");
    let admin = s.admin_token();
    let log = s.client().call_ok(
        json!({"action": "audit_log", "session_token": admin, "event": "account_created"}),
    );
    assert_eq!(log["total"], 4, "{log}");
    // A snapshot, written on a connection of its own.
    users_tests::wait_until("a snapshot", std::time::Duration::from_secs(10), || {
        pg.psql("users", "select count(*) from users_snapshot") == "1"
    });
    // The service's connections, as the server sees them: all TLS.
    let ssl = pg.psql(
        "users",
        "select string_agg(distinct s.ssl::text, ',') from pg_stat_activity a \
         join pg_stat_ssl s using (pid) where a.application_name = 'users-service'",
    );
    assert_eq!(ssl, "true");
    // An operator command, beside the running service.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db.backup");
    let out = std::process::Command::new(users_tests::bin_path("users-service"))
        .args([
            "backup",
            &url,
            file.to_str().unwrap(),
            "--kdf-iterations",
            "1000",
        ])
        .env("USERS_SERVICE_PASSWORD", MASTER)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn verify_full_checks_the_ca_and_the_host_name() {
    let pg = PgCluster::start_tls();
    let tls = pg.tls();
    let (ca, other) = (tls.ca.display(), tls.other_ca.display());
    let full = format!("sslmode=verify-full&sslrootcert={ca}");
    // The right CA and the name on the certificate.
    let s = ServiceProcess::start(on(&url(&pg, "localhost", &full)));
    s.register("carol", "c4rol-pw-12");
    assert_eq!(s.login("carol", "c4rol-pw-12").len(), 43);
    // Another CA.
    let e = refused(&url(
        &pg,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ));
    assert!(
        e.contains("invalid peer certificate") && e.contains("UnknownIssuer"),
        "{e}"
    );
    let log = fails_to_start(&url(
        &pg,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ));
    assert!(log.contains("UnknownIssuer"), "{log}");
    // The right CA, but an address the certificate is not made out to;
    // verify-ca does not look at the name.
    let e = refused(&url(&pg, "127.0.0.1", &full));
    assert!(e.contains("not valid for name"), "{e}");
    let ca_only = format!("sslmode=verify-ca&sslrootcert={ca}");
    assert!(users_service::postgres::PgStore::open(
        &url(&pg, "127.0.0.1", &ca_only),
        MASTER,
        1000,
        10
    )
    .is_ok());
    // A CA file that is not there, or a server without TLS.
    let e = refused(&url(
        &pg,
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    ));
    assert!(e.contains("sslrootcert /nonexistent/ca.pem"), "{e}");
    let plain = PgCluster::start();
    let e = refused(&format!("{}?sslmode=require", plain.url("users")));
    assert!(e.contains("server does not support TLS"), "{e}");
}
