//! `rotate-key`: a new master password for a file store (crash-safe, under
//! SIGKILL at random moments) and for a PostgreSQL store (one transaction).

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;
use users_tests::{PgCluster, ServiceOptions, ServiceProcess, MASTER};

/// `users-service ARGS` with `master` as the master password and `new` as
/// the new one (when given).
fn run(args: &[&str], master: &str, new: Option<&str>) -> Command {
    let mut c = Command::new(users_tests::bin_path("users-service"));
    c.args(args)
        .env("USERS_SERVICE_PASSWORD", master)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(new) = new {
        c.env("USERS_SERVICE_NEW_PASSWORD", new);
    }
    c
}

fn output(mut c: Command) -> Output {
    c.output().expect("users-service runs")
}

fn rotate(store: &str, old: &str, new: &str) -> Command {
    run(
        &["rotate-key", store, "--kdf-iterations", "1000"],
        old,
        Some(new),
    )
}

/// Which of `keys` opens the store (`upgrade` opens it as serving does,
/// finishing or undoing an interrupted rotation), and the users it holds.
fn opens_with<'a>(store: &str, keys: [&'a str; 2]) -> (&'a str, usize) {
    let mut refused = Vec::new();
    for key in keys {
        let out = output(run(&["upgrade", store], key, None));
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let users = text
                .split(": ")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no user count in {text}"));
            return (key, users);
        }
        refused.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    panic!("neither key opens the store: {refused:?}");
}

/// Adds `n` users (alice's record under other names) to the stopped
/// service's store, so that a rotation takes long enough to be cut short.
fn add_users(store: &str, dir: &Path, n: usize) {
    let clear = dir.join("alice.json");
    let out = output(run(
        &["export", store, clear.to_str().unwrap(), "--plaintext"],
        MASTER,
        None,
    ));
    assert!(out.status.success(), "{out:?}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&clear).unwrap()).unwrap();
    let mut record = doc["alice"].clone();
    record.as_object_mut().unwrap().remove("id");
    let mut many = serde_json::Map::new();
    for i in 0..n {
        let name = format!("bulk{i:06}");
        record["username"] = json!(name);
        record["email"] = json!(format!("{name}@example.com"));
        many.insert(name, record.clone());
    }
    let file = dir.join("bulk.json");
    std::fs::write(&file, serde_json::to_vec(&many).unwrap()).unwrap();
    let out = output(run(
        &["import", store, file.to_str().unwrap()],
        MASTER,
        None,
    ));
    assert!(out.status.success(), "{out:?}");
}

fn audit_events(store: &str, key: &str) -> usize {
    let out = output(run(&["verify", store], key, None));
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.trim()
        .split(", ")
        .find_map(|p| p.strip_suffix(" audit events"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

#[test]
fn a_rotation_killed_at_any_moment_leaves_a_store_one_of_the_two_keys_opens() {
    let mut s = ServiceProcess::start_default();
    s.register("alice", "4lice-pw-12");
    s.stop();
    let store = s.store.to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    add_users(&store, dir.path(), 5_000);
    let users = 5_002;
    let mut events = audit_events(&store, MASTER);

    // Refusals first: the same password, and the wrong old one.
    let same = output(rotate(&store, MASTER, MASTER));
    assert!(!same.status.success());
    assert!(String::from_utf8_lossy(&same.stderr).contains("is the current one"));
    let wrong = output(rotate(&store, "not-the-master", "key-x"));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong master password"));
    assert_eq!(
        audit_events(&store, MASTER),
        events,
        "a refusal leaves nothing staged"
    );

    // One whole rotation, timed: the kills fall across that span.
    let started = Instant::now();
    let out = output(rotate(&store, MASTER, "key-0"));
    let span = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("{users} users")),
        "{out:?}"
    );
    assert_eq!(opens_with(&store, ["key-0", MASTER]), ("key-0", users));
    events += 1;
    assert_eq!(
        audit_events(&store, "key-0"),
        events,
        "the rotation is recorded"
    );

    let mut current = "key-0".to_owned();
    let (mut old_kept, mut new_taken) = (0, 0);
    const KILLS: u32 = 12;
    for i in 1..=KILLS {
        let next = format!("key-{i}");
        // Spread over the span, each moved by up to a tenth of it at random.
        let jitter = rand::random::<f64>() * 0.1;
        let at = span.mul_f64(f64::from(i) / f64::from(KILLS + 1) + jitter - 0.05);
        let mut child = rotate(&store, &current, &next).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        let (key, n) = opens_with(&store, [&current, &next]);
        assert_eq!(n, users, "after a kill at {at:?}, every user is there");
        if key == next {
            events += 1;
        }
        assert_eq!(
            audit_events(&store, key),
            events,
            "every audit event, and the rotation's once"
        );
        if key == next {
            new_taken += 1;
        } else {
            old_kept += 1;
        }
        current = key.to_owned();
    }
    eprintln!("{KILLS} kills: {old_kept} kept the old key, {new_taken} took the new one");

    // The store serves with the key it has, and alice logs in.
    let mut s = s.sibling(ServiceOptions {
        master: Some(current.clone()),
        ..ServiceOptions::default()
    });
    s.spawn_now();
    s.login("alice", "4lice-pw-12");
}

#[test]
fn a_store_with_a_key_file_gets_a_new_random_key_in_it() {
    let mut s = ServiceProcess::start(ServiceOptions {
        master: None,
        ..ServiceOptions::default()
    });
    let store = s.store.to_str().unwrap().to_owned();
    let key_file = format!("{store}.key");
    let old = std::fs::read_to_string(&key_file).unwrap();
    let rotate_with_key_file = || {
        let mut c = Command::new(users_tests::bin_path("users-service"));
        c.args(["rotate-key", &store, "--kdf-iterations", "1000"]);
        c.output().unwrap()
    };
    // Refused while the service runs.
    let busy = rotate_with_key_file();
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"));
    s.stop();
    let out = rotate_with_key_file();
    assert!(out.status.success(), "{out:?}");
    let new = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new, old);
    assert!(!output(run(&["verify", &store], &old, None))
        .status
        .success());
    assert!(output(run(&["verify", &store], &new, None))
        .status
        .success());
    let leftovers: Vec<_> = std::fs::read_dir(Path::new(&store).parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rotating") || n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_database_rotates_in_one_transaction_and_not_under_a_running_instance() {
    let pg = PgCluster::start();
    let url = pg.url("users");
    let on = || ServiceOptions::default().arg(&["--database", &url]);
    let mut s = ServiceProcess::start(on());
    s.register("alice", "4lice-pw-12");
    let busy = output(rotate(&url, MASTER, "pg-key-1"));
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("stop every instance"),
        "{busy:?}"
    );
    s.stop();
    let tokens = |pg: &PgCluster| {
        pg.psql(
            "users",
            "select string_agg(token, ' ' order by token) from (select token from users_log \
             union all select token from users_snapshot union all select token from users_audit) t",
        )
    };
    let before = tokens(&pg);
    let started = Instant::now();
    let out = output(rotate(&url, MASTER, "pg-key-0"));
    let span = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    assert_ne!(tokens(&pg), before, "every token is new");
    // Killed at random moments: the transaction committed, or not at all.
    let dir = tempfile::tempdir().unwrap();
    let opens = |key: &str, n: usize| {
        let probe = dir.path().join(format!("probe-{n}-{key}"));
        output(run(&["export", &url, probe.to_str().unwrap()], key, None))
            .status
            .success()
    };
    let mut current = "pg-key-0".to_owned();
    for i in 1..=4 {
        let next = format!("pg-key-{i}");
        let mut child = rotate(&url, &current, &next).spawn().unwrap();
        std::thread::sleep(span.mul_f64(rand::random::<f64>() * 1.2));
        let _ = child.kill();
        let _ = child.wait();
        match (opens(&current, i), opens(&next, i)) {
            (true, false) => {}
            (false, true) => current = next,
            both => panic!("after a kill: old and new key open: {both:?}"),
        }
    }
    let mut s = s.sibling(ServiceOptions {
        master: Some(current.clone()),
        ..on()
    });
    s.spawn_now();
    s.login("alice", "4lice-pw-12");
    let c = s.client();
    let admin = s.admin_token();
    let log = c.call_ok(json!({"action": "audit_log", "session_token": admin}));
    assert!(log["total"].as_u64().unwrap() >= 2, "{log}");
    let rotations =
        c.call_ok(json!({"action": "audit_log", "session_token": admin, "event": "key_rotated"}));
    assert!(rotations["total"].as_u64().unwrap() >= 1, "{rotations}");
    s.stop();
    let mut old = s.sibling(ServiceOptions {
        master: Some(MASTER.into()),
        ..on()
    });
    assert!(!old.run_to_exit().unwrap().success());
    assert!(old.log_text().contains("wrong master password"));
}

#[test]
fn an_instance_the_rotation_missed_writes_nothing_under_the_old_key() {
    let pg = PgCluster::start();
    let url = pg.url("users");
    let on = || ServiceOptions::default().arg(&["--database", &url]);
    // A snapshot at the log's end, so that the next instance starts from it
    // with no batch of the log read: nothing it holds tells it a batch it
    // has was re-encrypted.
    let mut first = ServiceProcess::start(on().arg(&["--compact-after", "1"]));
    first.register("alice", "4lice-pw-12");
    first.stop();
    let mut a = first.sibling(on());
    a.spawn_now();
    // Frozen, with its connections ended: the rotation cannot see it.
    let signal = |sig: &str| {
        let pid = a.pid().unwrap().to_string();
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    pg.psql(
        "users",
        "select count(pg_terminate_backend(pid)) from pg_stat_activity \
         where application_name = 'users-service'",
    );
    let out = output(rotate(&url, MASTER, "pg-key-new"));
    signal("-CONT");
    assert!(out.status.success(), "{out:?}");
    // Its next write meets the new key's batch and fails.
    let r = a
        .client()
        .call(
            json!({"action": "create_user", "user_data": {"username": "mallory",
            "email": "mallory@example.com", "password": "m4llory-pw-1"}}),
        )
        .unwrap();
    assert_eq!(r["status"], "error", "{r}");
    a.kill();
    let mut b = a.sibling(ServiceOptions {
        master: Some("pg-key-new".into()),
        ..on()
    });
    b.spawn_now();
    b.login("alice", "4lice-pw-12");
    b.register("bob", "b0b-pw-1234");
}
