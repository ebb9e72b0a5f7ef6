//! The operator's commands on a real store: reset-admin, verify, backup and restore.

use serde_json::json;
use std::process::{Command, Output};
use users_tests::{ServiceProcess, ADMIN_PASSWORD, MASTER};

pub(super) fn users_service(args: &[&str]) -> Output {
    Command::new(users_tests::bin_path("users-service"))
        .args(args)
        .env("USERS_SERVICE_PASSWORD", MASTER)
        .output()
        .expect("users-service runs")
}

/// The password reset-admin printed.
fn printed_password(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' '))
        .unwrap_or_else(|| panic!("no password in {text}"))
        .to_owned()
}

#[test]
fn reset_admin_gets_an_admin_back_in() {
    let mut s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("boss", "b0ss-pw-12");
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "boss",
        "update_data": {"role": "admin", "current_password": ADMIN_PASSWORD}}),
    );
    let boss = s.login("boss", "b0ss-pw-12");
    c.call_ok(
        json!({"action": "update_user", "session_token": boss, "username": "admin",
        "update_data": {"status": "suspended", "current_password": "b0ss-pw-12"}}),
    );
    let store = s.store.to_str().unwrap().to_owned();

    // Refused while the service has the store open, touching nothing.
    let busy = users_service(&["reset-admin", &store]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );

    s.stop();
    let out = users_service(&["reset-admin", &store]);
    assert!(out.status.success(), "{out:?}");
    let password = printed_password(&out);
    // A name that is no account is made an admin.
    let made = users_service(&["reset-admin", &store, "rescue"]);
    assert!(made.status.success(), "{made:?}");
    assert!(String::from_utf8_lossy(&made.stdout).starts_with("made admin 'rescue'"));
    let rescue = printed_password(&made);
    let bad = users_service(&["reset-admin", &store, "no spaces allowed"]);
    assert!(!bad.status.success());

    s.spawn_now();
    let c = s.client();
    let admin = s.login("admin", &password);
    let me = c.call_ok(json!({"action": "get_user", "session_token": admin}));
    assert_eq!(
        (me["user"]["role"].as_str(), me["user"]["status"].as_str()),
        (Some("admin"), Some("active"))
    );
    // Whoever reads a printed password sets their own before anything else.
    let r = s.login("rescue", &rescue);
    let audit = json!({"action": "audit_log", "session_token": r, "event": "password_reset"});
    c.call_err(audit.clone(), "password_change_required");
    c.call_ok(json!({"action": "update_user", "session_token": r,
        "update_data": {"password": "a-fresh-phrase-9", "current_password": rescue}}));
    let list = c.call_ok(audit);
    assert_eq!(list["total"], 2, "{list}");
    let detail = list["events"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("status suspended → active"), "{detail}");
}

#[test]
fn a_backup_taken_under_write_load_verifies_and_restores_to_a_working_service() {
    let s = ServiceProcess::start_default();
    let store = s.store.to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("users.backup");
    // Writes go on while the backup is taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (endpoint, stop) = (s.endpoint(), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let c = users_tests::Zmq::connect(&endpoint);
            let mut created = Vec::new();
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let name = format!("load{i:04}");
                let r = c
                    .call(
                        json!({"action": "create_user", "user_data": {"username": name,
                        "email": format!("{name}@example.com"), "password": "l0ad-pw-12"}}),
                    )
                    .unwrap();
                if r["status"] == "success" {
                    created.push(name);
                }
            }
            created
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = users_service(&["backup", &store, backup.to_str().unwrap()]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let created = writer.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(created.len() > 3, "the writes went on: {}", created.len());
    // Never over an existing file.
    let again = users_service(&["backup", &store, backup.to_str().unwrap()]);
    assert!(!again.status.success());
    let said = users_tests::error_line(&again.stderr, "users-service: ");
    assert!(said.contains("it is never overwritten"), "{said}");
    // Its cause is said once, not once by the error and again as its source.
    assert_eq!(said.matches("already exists").count(), 1, "{said}");

    let verified = users_service(&["verify", backup.to_str().unwrap()]);
    assert!(verified.status.success(), "{verified:?}");
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(
        text.contains("sound") && text.contains("no journal"),
        "{text}"
    );

    // Restored beside, it serves the users the backup caught.
    let restored = dir.path().join("restored.json");
    let out = users_service(&[
        "restore",
        backup.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let mut r = ServiceProcess::stopped_in(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        users_tests::ServiceOptions::default(),
    );
    r.store = restored.clone();
    r.spawn_now();
    r.login("admin", ADMIN_PASSWORD);
    r.login(&created[0], "l0ad-pw-12");
    // A store in use is not restored over.
    let busy = users_service(&[
        "restore",
        backup.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );
}

#[test]
fn verify_finds_damage_and_says_where() {
    let mut s = ServiceProcess::start_default();
    s.register("dora", "d0ra-pw-12");
    s.stop();
    let store = s.store.to_str().unwrap().to_owned();
    let ok = users_service(&["verify", &store]);
    assert!(ok.status.success(), "{ok:?}");
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("2 users"),
        "{ok:?}"
    );
    // One changed character in a journal record.
    let journal = format!("{store}.journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&journal, bytes).unwrap();
    let bad = users_service(&["verify", &store]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("journal") && err.contains("damaged"), "{err}");
    let wrong = Command::new(users_tests::bin_path("users-service"))
        .args(["verify", &store])
        .env("USERS_SERVICE_PASSWORD", "not-the-master")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong master password"));
}

#[test]
fn an_export_imported_elsewhere_logs_everyone_in_with_their_old_passwords() {
    let mut s = ServiceProcess::start_default();
    let people = [
        ("erin", "3rin-pw-12"),
        ("finn", "f1nn-pw-12"),
        ("gala", "g4la-pw-12"),
    ];
    for (name, pw) in people {
        s.register(name, pw);
    }
    // And one without a password, who signs in with a passkey.
    let mut phone = crate::passkeys::Device::new();
    crate::passwordless::invited_with_passkey(&s, "hana", &mut phone);
    let store = s.store.to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let sealed = dir.path().join("users.export");
    let clear = dir.path().join("users.json");
    // Beside the running service.
    let out = users_service(&["export", &store, sealed.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&sealed).unwrap();
    assert!(
        !text.contains("erin"),
        "a sealed export holds nothing in clear"
    );
    let out = users_service(&["export", &store, clear.to_str().unwrap(), "--plaintext"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("IN CLEAR"));
    // The original's structure: keyed by username, hex hash and salt.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&clear).unwrap()).unwrap();
    let erin = &doc["erin"];
    assert_eq!(erin["username"], "erin");
    assert!(erin["password_hash"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_hexdigit()));
    assert!(erin["password_iterations"].is_u64() && erin.get("totp").is_none());
    s.stop();

    // Into a new store (sealed), and the clear one refused there: taken names.
    let fresh = dir.path().join("fresh.json");
    let out = users_service(&["import", fresh.to_str().unwrap(), sealed.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 5 users"),
        "{out:?}"
    );
    let again = users_service(&["import", fresh.to_str().unwrap(), clear.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("taken"),
        "{again:?}"
    );
    let mut t = ServiceProcess::stopped_in(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        users_tests::ServiceOptions::default(),
    );
    t.store = fresh;
    t.spawn_now();
    for (name, pw) in people {
        t.login(name, pw);
    }
    t.login("admin", ADMIN_PASSWORD);
    let hana = crate::passkeys::sign_in(&t.client(), &mut phone, 0);
    assert_eq!(hana["user"]["passwordless"], true, "{hana}");
}

#[test]
fn a_restore_cut_short_before_its_journal_is_emptied_is_refused_not_undone() {
    let mut s = ServiceProcess::start_default();
    s.register("hana", "h4na-pw-12");
    let store = s.store.to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("users.backup");
    let out = users_service(&["backup", &store, backup.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    s.register("ivo", "1vo-pw-123");
    s.stop();
    let out = users_service(&["restore", backup.to_str().unwrap(), &store]);
    assert!(out.status.success(), "{out:?}");
    // A crash between the two writes: the old journal is still there.
    let kept = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("kept aside: ")
                .filter(|p| p.contains(".journal."))
                .map(str::to_owned)
        })
        .expect("the journal kept aside");
    std::fs::copy(&kept, format!("{store}.journal")).unwrap();
    let verified = users_service(&["verify", &store]);
    assert!(
        !verified.status.success(),
        "the old journal must not be replayed over the restored users: {verified:?}"
    );
    // Running restore again finishes it.
    let again = users_service(&["restore", backup.to_str().unwrap(), &store]);
    assert!(again.status.success(), "{again:?}");
    let verified = users_service(&["verify", &store]);
    assert!(verified.status.success(), "{verified:?}");
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains("2 users"),
        "{verified:?}"
    );
}

#[test]
fn an_import_refuses_what_the_service_would_not_take_and_writes_nothing() {
    let mut s = ServiceProcess::start_default();
    s.register("jana", "j4na-pw-123");
    let store = s.store.to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let clear = dir.path().join("users.json");
    let out = users_service(&["export", &store, clear.to_str().unwrap(), "--plaintext"]);
    assert!(out.status.success(), "{out:?}");
    s.stop();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&clear).unwrap()).unwrap();
    let good = {
        let mut r = doc["jana"].clone();
        r.as_object_mut().unwrap().remove("id");
        r["username"] = json!("kofi");
        r["email"] = json!("kofi@example.com");
        r
    };
    let fresh = dir.path().join("fresh.json");
    let try_import = |name: &str, text: String, extra: &[&str]| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["import", fresh.to_str().unwrap(), file.to_str().unwrap()];
        args.extend_from_slice(extra);
        users_service(&args)
    };
    let with = |field: &str, value: serde_json::Value| {
        let mut r = good.clone();
        r[field] = value;
        json!({ "kofi": r }).to_string()
    };
    let cases = [
        // A name given twice: a map would keep one and drop the other.
        (
            "twice",
            format!("{{\"kofi\": {good}, \"kofi\": {good}}}"),
            "in the file twice",
        ),
        (
            "iterations",
            with("password_iterations", json!(0)),
            "password_iterations",
        ),
        (
            "huge-iterations",
            with("password_iterations", json!(4_000_000_000u32)),
            "password_iterations",
        ),
        (
            "short-hash",
            with("password_hash", json!("abcd")),
            "password_hash",
        ),
        // No password, and no passkey either: no way in.
        (
            "no-way-in",
            with("password_hash", json!("")),
            "password_hash",
        ),
        ("city", with("city", json!("a\u{7}b")), "control characters"),
        (
            "dob",
            with("date_of_birth", json!("yesterday")),
            "YYYY-MM-DD",
        ),
        (
            "created",
            with("created_at", json!("9".repeat(100))),
            "RFC 3339",
        ),
        (
            "sealed-kdf",
            json!({"format": "users-service-export", "version": 1, "data": "x",
                "kdf": {"algorithm": "pbkdf2-hmac-sha256", "iterations": 4_000_000_000u32,
                        "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}})
            .to_string(),
            "iterations",
        ),
    ];
    for (name, text, expected) in cases {
        let out = try_import(name, text, &[]);
        assert!(!out.status.success(), "{name}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{name}: {out:?}"
        );
        assert!(!fresh.exists(), "{name}: nothing is written");
    }
    // A file that claims no size and never ends.
    let endless = users_service(&[
        "import",
        fresh.to_str().unwrap(),
        "/dev/zero",
        "--max-bytes",
        "1000",
    ]);
    assert!(
        String::from_utf8_lossy(&endless.stderr).contains("--max-bytes"),
        "{endless:?}"
    );
    let big = try_import(
        "big",
        json!({ "kofi": good }).to_string(),
        &["--max-bytes", "100"],
    );
    assert!(
        String::from_utf8_lossy(&big.stderr).contains("--max-bytes"),
        "{big:?}"
    );
    let ok = try_import("good", json!({ "kofi": good }).to_string(), &[]);
    assert!(ok.status.success(), "{ok:?}");
}

#[test]
fn what_a_command_run_as_root_writes_belongs_to_the_stores_owner() {
    use std::os::unix::fs::MetadataExt;
    const NOBODY: u32 = 65534;
    let mut s = ServiceProcess::start_default();
    s.register("kai", "k4i-pw-1234");
    s.stop();
    let dir = s.dir.path().to_owned();
    let owned = |path: &std::path::Path| std::fs::metadata(path).unwrap().uid();
    assert_eq!(owned(&dir), 0, "this test runs as root, as CI does");
    // The store as the service's own user would have it.
    for path in std::iter::once(dir.clone())
        .chain(std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()))
    {
        std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let store = s.store.to_str().unwrap().to_owned();
    let backup = dir.join("users.backup");
    for args in [
        vec!["backup", &store, backup.to_str().unwrap()],
        vec!["restore", backup.to_str().unwrap(), &store],
        vec!["reset-admin", &store],
    ] {
        let out = users_service(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::metadata(&path).unwrap();
        // A backup stays its maker's, wherever it is written.
        let owner = if path == backup { 0 } else { NOBODY };
        assert_eq!((meta.uid(), meta.gid()), (owner, owner), "{path:?}");
    }
}
