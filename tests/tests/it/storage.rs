use serde_json::json;
use std::time::Duration;
use users_service::file_store::{journal, FileOptions, FileStore};
use users_service::User;
use users_tests::{wait_until, ServiceOptions, ServiceProcess, MASTER};

/// The users in a stopped service's store, by username.
fn read_store(s: &ServiceProcess) -> std::collections::HashMap<String, User> {
    let opts = FileOptions {
        kdf_iterations: 1000,
        compact_after: 1_000_000,
        audit_retention: users_service::DEFAULT_RETENTION,
    };
    FileStore::open(&s.store, MASTER, &opts)
        .expect("store opens")
        .users
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect()
}

#[test]
fn data_survives_a_restart_and_sigterm_exits_zero() {
    let mut s = ServiceProcess::start_default();
    s.register("jack", "jackpass");
    let t = s.login("jack", "jackpass");
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"city": "Oslo", "email": "jack2@example.com"}}));
    s.restart();
    let t = s.login("jack2@example.com", "jackpass");
    let r = s
        .client()
        .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Oslo");
    assert!(s
        .log_text()
        .contains("every acknowledged change is on disk"));
}

#[test]
fn nothing_readable_on_disk() {
    let mut s = ServiceProcess::start_default();
    s.register("plaintextcheck", "VerySecretPassword9");
    s.login("plaintextcheck", "VerySecretPassword9");
    s.stop();
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("plaintextcheck"), "{path:?}");
        assert!(!text.contains("VerySecretPassword9"), "{path:?}");
        assert!(!text.contains("example.com"), "{path:?}");
    }
    // Nor in the log.
    assert!(!s.log_text().contains("VerySecretPassword9"));
}

#[test]
fn wrong_master_password_stops_startup_and_leaves_files_alone() {
    let mut s = ServiceProcess::start_default();
    s.register("kate", "katepass");
    s.stop();
    let journal = journal::path_for(&s.store);
    let before = (
        std::fs::read(&s.store).unwrap(),
        std::fs::read(&journal).unwrap(),
    );
    let mut wrong = s.sibling(ServiceOptions {
        master: Some("wrong".into()),
        ..Default::default()
    });
    assert!(wrong.run_to_exit().is_some_and(|s| !s.success()));
    let log = wrong.log_text();
    assert!(log.contains("wrong master password"), "{log}");
    let after = (
        std::fs::read(&s.store).unwrap(),
        std::fs::read(&journal).unwrap(),
    );
    assert_eq!(before, after);
}

#[test]
fn damaged_store_stops_startup() {
    let mut s = ServiceProcess::start_default();
    s.stop();
    let mut bytes = std::fs::read(&s.store).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    std::fs::write(&s.store, &bytes).unwrap();
    let mut probe = s.sibling(ServiceOptions::default());
    assert!(probe.run_to_exit().is_some_and(|s| !s.success()));
    assert_eq!(std::fs::read(&s.store).unwrap(), bytes);
}

#[test]
fn without_a_master_password_a_private_key_file_is_made() {
    let mut s = ServiceProcess::start(ServiceOptions {
        master: None,
        ..Default::default()
    });
    s.register("liam", "liampass");
    let key = users_service::master_password::key_file(&s.store);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(s.log_text().contains("USERS_SERVICE_PASSWORD is not set"));
    s.restart();
    s.login("liam", "liampass");
}

#[test]
fn default_admin_is_created_loudly() {
    let s = ServiceProcess::start(ServiceOptions {
        admin_password: None,
        ..Default::default()
    });
    s.login("admin", "admin123");
    assert!(s.log_text().contains("DEFAULT PASSWORD"));
}

#[test]
fn old_hashes_are_upgraded_at_login() {
    let mut s = ServiceProcess::start_default();
    s.register("mia", "miapass1");
    s.stop();
    assert_eq!(read_store(&s)["mia"].password.iterations, 1000);
    let mut s2 = s.sibling(ServiceOptions {
        args: vec![
            "--pbkdf2-iterations".into(),
            "2000".into(),
            "--kdf-iterations".into(),
            "1000".into(),
        ],
        ..Default::default()
    });
    s2.spawn_now();
    s2.login("mia", "miapass1");
    s2.stop();
    let rec = &read_store(&s2)["mia"];
    assert_eq!(rec.password.iterations, 2000);
    s2.spawn_now();
    s2.login("mia", "miapass1");
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let mut s = ServiceProcess::start(ServiceOptions {
        args: vec![
            "--pbkdf2-iterations".into(),
            "400000".into(),
            "--kdf-iterations".into(),
            "1000".into(),
        ],
        // The log says when the login has been read.
        env: vec![("RUST_LOG".into(), "info,users_service::server=debug".into())],
        ..Default::default()
    });
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(20_000).unwrap();
    d.set_linger(0).unwrap();
    d.connect(&s.endpoint()).unwrap();
    let login = json!({"action": "login", "request_id": "slow",
        "credentials": {"username": "admin", "password": users_tests::ADMIN_PASSWORD}});
    d.send_multipart([&b""[..], login.to_string().as_bytes()], 0)
        .unwrap();
    // SIGTERM once the service has the login: a request it has not read
    // when it stops is, rightly, never answered.
    wait_until(
        "the service reading the login",
        Duration::from_secs(20),
        || {
            s.log_text()
                .lines()
                .any(|l| l.contains("request") && l.contains("login"))
        },
    );
    let stopper = std::thread::spawn(move || s.stop().is_some_and(|st| st.success()));
    let frames = d
        .recv_multipart(0)
        .expect("the reply comes before the exit");
    let v: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
    assert_eq!(v["request_id"], "slow");
    assert_eq!(v["status"], "success", "{v}");
    assert!(stopper.join().unwrap(), "exit status 0");
}

#[test]
fn the_journal_is_compacted_in_the_background_and_survives_restarts() {
    let mut s = ServiceProcess::start(ServiceOptions::default().arg(&["--compact-after", "5"]));
    for i in 0..12 {
        s.register(&format!("compact{i:02}"), "compactpw");
    }
    let journal = journal::path_for(&s.store);
    let admin = s.admin_token();
    // More changes let the writer notice the finished snapshot and cut the
    // journal; the snapshot is written in the background, in its own time.
    let mut i = 0;
    wait_until(
        "the journal cut after a snapshot",
        Duration::from_secs(30),
        || {
            i += 1;
            s.client()
                .call_ok(json!({"action": "update_user", "session_token": admin,
            "update_data": {"city": format!("City {i}")}}));
            std::fs::read_to_string(&journal).unwrap().lines().count() < 12
        },
    );
    s.restart();
    let r = s
        .client()
        .call_ok(json!({"action": "list_users", "session_token": s.admin_token()}));
    assert_eq!(r["total"], 13);
}

#[test]
fn a_torn_journal_tail_is_dropped_at_start_up() {
    let mut s = ServiceProcess::start_default();
    s.register("nina", "ninapass");
    s.stop();
    let journal = journal::path_for(&s.store);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(&mut f, b"gAAAAABtorn-record-without-its-end").unwrap();
    drop(f);
    let mut s2 = s.sibling(ServiceOptions::default());
    s2.spawn_now();
    s2.login("nina", "ninapass");
    assert!(s2.log_text().contains("torn record"), "{}", s2.log_text());
}

/// A temporary directory holding a copy of the first release's store
/// (`tests/fixtures/store-v1`, see its README).
fn v1_fixture() -> std::sync::Arc<tempfile::TempDir> {
    let fixture = users_tests::workspace().join("tests/fixtures/store-v1");
    let dir = tempfile::tempdir().unwrap();
    for f in ["users.json", "users.json.journal"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    std::sync::Arc::new(dir)
}

fn v1_options() -> ServiceOptions {
    ServiceOptions {
        master: Some("fixture-master".into()),
        admin_password: None,
        ..Default::default()
    }
}

#[test]
fn a_store_from_the_first_release_serves_every_user_and_password() {
    let mut s = ServiceProcess::start_in(v1_fixture(), v1_options());
    assert!(s.log_text().contains("upgraded"), "{}", s.log_text());
    for (name, pw) in [
        ("admin", "fixture-admin-1"),
        ("alice", "alice-pass-2"),
        ("robert", "bob-pass-1"),
        ("dave", "dave-pass-1"),
        ("erin@example.com", "erin-pass-1"),
    ] {
        s.login(name, pw);
    }
    let c = s.client();
    c.call_err(
        json!({"action": "login", "credentials": {"username": "carol", "password": "carol-pass-1"}}),
        "invalid_credentials",
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "alice", "password": "alice-pass-1"}}),
        "invalid_credentials",
    );
    let admin = s.login("admin", "fixture-admin-1");
    let r = c.call_ok(json!({"action": "list_users", "session_token": admin}));
    assert_eq!(r["total"], 5, "{r}");
    let r = c.call_ok(json!({"action": "get_user", "session_token": admin, "username": "alice"}));
    assert_eq!(r["user"]["full_name"], "Alice Smith");
    assert_eq!(r["user"]["city"], "Oslo");
    let r = c.call_ok(json!({"action": "get_user", "session_token": admin, "username": "dave"}));
    assert_eq!(r["user"]["role"], "moderator");
    assert_eq!(r["user"]["notes"], "line1\nline2");

    // After the upgrade, a restart finds the current format and the same users.
    s.restart();
    assert_eq!(
        s.log_text().matches("upgraded").count(),
        1,
        "upgraded once only"
    );
    s.login("Robert", "bob-pass-1");
}

#[test]
fn the_upgrade_command_rewrites_a_first_release_store() {
    let dir = v1_fixture();
    let store = dir.path().join("users.json");
    let out = std::process::Command::new(users_tests::bin_path("users-service"))
        .args(["upgrade", store.to_str().unwrap()])
        .env("USERS_SERVICE_PASSWORD", "fixture-master")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("5 users"), "{stdout}");
    let header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    assert_eq!(header["version"], 4);

    let wrong = std::process::Command::new(users_tests::bin_path("users-service"))
        .args(["upgrade", store.to_str().unwrap()])
        .env("USERS_SERVICE_PASSWORD", "not-the-master")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong master password"));
}

#[test]
fn a_second_service_on_the_same_store_is_refused() {
    let s = ServiceProcess::start_default();
    s.register("olga", "olgapass");
    let before = std::fs::read(&s.store).unwrap();
    let mut second = s.sibling(ServiceOptions::default());
    let status = second.run_to_exit();
    assert!(
        status.is_some_and(|st| !st.success()),
        "a second process started on the store: {status:?}"
    );
    let log = second.log_text();
    assert!(log.contains("in use"), "{log}");
    assert_eq!(std::fs::read(&s.store).unwrap(), before);
    s.login("olga", "olgapass");

    let upgrade = std::process::Command::new(users_tests::bin_path("users-service"))
        .args(["upgrade", s.store.to_str().unwrap()])
        .env("USERS_SERVICE_PASSWORD", MASTER)
        .output()
        .unwrap();
    assert!(!upgrade.status.success());
    assert!(String::from_utf8_lossy(&upgrade.stderr).contains("in use"));
}

#[test]
fn the_master_password_can_come_from_a_file() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let secret_file = dir.path().join("master-password");
    std::fs::write(&secret_file, "from-a-file\n").unwrap();
    let from_file = ServiceOptions {
        master: None,
        env: vec![(
            "USERS_SERVICE_PASSWORD_FILE".into(),
            secret_file.to_str().unwrap().into(),
        )],
        ..Default::default()
    };
    let mut s = ServiceProcess::start_in(std::sync::Arc::clone(&dir), from_file);
    s.register("pia", "piapass1");
    assert!(s.log_text().contains("USERS_SERVICE_PASSWORD_FILE"));
    assert!(!users_service::master_password::key_file(&s.store).exists());
    s.stop();
    // The same password given directly opens the store: the file held it,
    // less its line break.
    let mut direct = s.sibling(ServiceOptions {
        master: Some("from-a-file".into()),
        ..Default::default()
    });
    direct.spawn_now();
    direct.login("pia", "piapass1");
    direct.stop();
    let mut both = s.sibling(ServiceOptions {
        env: vec![(
            "USERS_SERVICE_PASSWORD_FILE".into(),
            secret_file.to_str().unwrap().into(),
        )],
        ..Default::default()
    });
    assert!(both.run_to_exit().is_some_and(|st| !st.success()));
    assert!(both.log_text().contains("not both"), "{}", both.log_text());
}
