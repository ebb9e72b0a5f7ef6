use serde_json::json;
use users_service::store::{Store, StoreOptions};
use users_tests::{Service, ServiceOptions, MASTER};

fn read_store(
    s: &Service,
) -> std::collections::HashMap<String, std::sync::Arc<users_protocol::UserRecord>> {
    let opts = StoreOptions {
        kdf_iterations: 1000,
        compact_after: 1_000_000,
    };
    Store::open(&s.store, MASTER, &opts)
        .expect("store opens")
        .users
}

#[test]
fn data_survives_a_restart_and_sigterm_exits_zero() {
    let mut s = Service::start(ServiceOptions::default());
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
    let mut s = Service::start(ServiceOptions::default());
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
    let mut s = Service::start(ServiceOptions::default());
    s.register("kate", "katepass");
    s.stop();
    let journal = users_service::store::journal_path(&s.store);
    let before = (
        std::fs::read(&s.store).unwrap(),
        std::fs::read(&journal).unwrap(),
    );
    let wrong = s.sibling(ServiceOptions {
        master: Some("wrong".into()),
        ..Default::default()
    });
    let (mut child, _) = wrong.launch().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
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
    let mut s = Service::start(ServiceOptions::default());
    s.stop();
    let mut bytes = std::fs::read(&s.store).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    std::fs::write(&s.store, &bytes).unwrap();
    let probe = s.sibling(ServiceOptions::default());
    let (mut child, _) = probe.launch().unwrap();
    assert!(!child.wait().unwrap().success());
    assert_eq!(std::fs::read(&s.store).unwrap(), bytes);
}

#[test]
fn without_a_master_password_a_private_key_file_is_made() {
    let mut s = Service::start(ServiceOptions {
        master: None,
        ..Default::default()
    });
    s.register("liam", "liampass");
    let key = users_service::master::key_file(&s.store);
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
    let s = Service::start(ServiceOptions {
        admin_password: None,
        ..Default::default()
    });
    s.login("admin", "admin123");
    assert!(s.log_text().contains("DEFAULT PASSWORD"));
}

#[test]
fn old_hashes_are_upgraded_at_login() {
    let mut s = Service::start(ServiceOptions::default());
    s.register("mia", "miapass1");
    s.stop();
    assert_eq!(read_store(&s)["mia"].password_iterations, 1000);
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
    assert_eq!(rec.password_iterations, 2000);
    s2.spawn_now();
    s2.login("mia", "miapass1");
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let mut s = Service::start(ServiceOptions {
        args: vec![
            "--pbkdf2-iterations".into(),
            "400000".into(),
            "--kdf-iterations".into(),
            "1000".into(),
        ],
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
    std::thread::sleep(std::time::Duration::from_millis(50));
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
    let mut s = Service::start(ServiceOptions::default().arg(&["--compact-after", "5"]));
    for i in 0..12 {
        s.register(&format!("compact{i:02}"), "compactpw");
    }
    let journal = users_service::store::journal_path(&s.store);
    let admin = s.admin_token();
    // More changes let the writer notice the finished snapshot and cut the journal.
    for i in 0..6 {
        s.client()
            .call_ok(json!({"action": "update_user", "session_token": admin,
            "update_data": {"city": format!("City {i}")}}));
    }
    let lines = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(
        lines < 12,
        "the journal was cut after a snapshot: {lines} records"
    );
    s.restart();
    let r = s
        .client()
        .call_ok(json!({"action": "list_users", "session_token": s.admin_token()}));
    assert_eq!(r["total"], 13);
}

#[test]
fn a_torn_journal_tail_is_dropped_at_start_up() {
    let mut s = Service::start(ServiceOptions::default());
    s.register("nina", "ninapass");
    s.stop();
    let journal = users_service::store::journal_path(&s.store);
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
