//! users-service on a real PostgreSQL (`--database`): what it keeps across
//! restarts, that the database holds no secret in clear, compaction, a wrong
//! master password, migrating data in and out, and backing up to a file and
//! restoring from one. Several instances are in `cluster`.

use serde_json::json;
use users_tests::{PgCluster, ServiceOptions, ServiceProcess, MASTER};

fn on(pg: &PgCluster) -> ServiceOptions {
    ServiceOptions::default().arg(&["--database", &pg.url("users"), "--compact-after", "3"])
}

#[test]
fn users_live_in_postgresql_across_restarts_as_ciphertext_only() {
    let pg = PgCluster::start();
    let mut s = ServiceProcess::start(on(&pg));
    s.register("alice", "al1ce-pw-1");
    let t = s.login("alice", "al1ce-pw-1");
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"city": "Lisbon"}}));
    for i in 0..4 {
        s.register(&format!("bob{i}"), "bobpass123");
    }
    s.restart();
    let t = s.login("alice", "al1ce-pw-1");
    let r = s
        .client()
        .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Lisbon");
    let admin = s.admin_token();
    let list = s
        .client()
        .call_ok(json!({"action": "list_users", "session_token": admin, "limit": 100}));
    // The first admin was made once, not again at the restart.
    assert_eq!(list["total"], 6, "{list}");
    // Compaction ran: one snapshot, and of the log only what follows the
    // snapshot before it (kept for instances a little behind).
    let snap: i64 = pg
        .psql("users", "select coalesce(max(seq), 0) from users_snapshot")
        .parse()
        .unwrap();
    assert!(snap > 3, "no second snapshot after several batches");
    assert_eq!(pg.psql("users", "select count(*) from users_snapshot"), "1");
    let oldest: i64 = pg
        .psql("users", "select coalesce(min(seq), 0) from users_log")
        .parse()
        .unwrap();
    assert!(oldest > 1, "the log was never trimmed");
    // Nothing in clear: no name, address, city or hash.
    let dump = pg.psql(
        "users",
        "select string_agg(token, ' ') from (select token from users_log
           union all select token from users_snapshot
           union all select value from users_meta) t",
    );
    // A session is in the log too (every instance must know it): by a
    // hash, inside the ciphertext.
    let live = s.login("alice", "al1ce-pw-1");
    let dump = format!(
        "{dump} {}",
        pg.psql("users", "select string_agg(token, ' ') from users_log")
    );
    for secret in [
        "alice",
        "example.com",
        "Lisbon",
        "password",
        "bob0",
        &t,
        &live,
    ] {
        assert!(!dump.contains(secret), "{secret} in clear in PostgreSQL");
    }
    // The log and the snapshots are Fernet tokens and nothing else; of the
    // header, only the key derivation's salt and count are in clear.
    assert_eq!(
        pg.psql(
            "users",
            "select count(*) from (select token from users_log union all
               select token from users_snapshot) t where token not like 'gAAAAA%'"
        ),
        "0"
    );
}

#[test]
fn a_wrong_master_password_is_refused() {
    let pg = PgCluster::start();
    drop(ServiceProcess::start(on(&pg)));
    let mut wrong = ServiceProcess::stopped_in(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        ServiceOptions {
            master: Some("not-the-master".into()),
            ..on(&pg)
        },
    );
    let status = wrong.run_to_exit().expect("a wrong password exits");
    assert!(!status.success());
    assert!(
        wrong.log_text().contains("wrong master password"),
        "{}",
        wrong.log_text()
    );
    // The log does not carry the database address.
    assert!(!wrong.log_text().contains(&pg.url("users")));
}

/// `users-service migrate --from FROM --to TO` under the test master password.
fn migrate(from: &str, to: &str) -> std::process::Output {
    std::process::Command::new(users_tests::bin_path("users-service"))
        .args([
            "migrate",
            "--kdf-iterations",
            "1000",
            "--from",
            from,
            "--to",
            to,
        ])
        .env("USERS_SERVICE_PASSWORD", users_tests::MASTER)
        .env_remove("USERS_SERVICE_PASSWORD_FILE")
        .output()
        .expect("users-service migrate")
}

#[test]
fn migrate_copies_every_user_both_ways_and_leaves_the_source_as_it_was() {
    let pg = PgCluster::start();
    let mut file = ServiceProcess::start_default();
    file.register("alice", "al1ce-pw-1");
    let t = file.login("alice", "al1ce-pw-1");
    file.client()
        .call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"city": "Lisbon"}}));
    file.stop();
    let store = file.store.to_string_lossy().into_owned();
    let journal = format!("{store}.journal");
    let before = (
        std::fs::read(&store).unwrap(),
        std::fs::read(&journal).unwrap(),
    );

    let out = migrate(&store, &pg.url("users"));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("copied 2 users"), "{said}");
    assert!(
        !said.contains(&pg.url("users")),
        "the URL was printed: {said}"
    );
    let after = (
        std::fs::read(&store).unwrap(),
        std::fs::read(&journal).unwrap(),
    );
    assert!(before == after, "the source file changed");

    // Everyone logs in on PostgreSQL with their old password.
    let mut db = ServiceProcess::start(on(&pg));
    let t = db.login("alice", "al1ce-pw-1");
    let r = db
        .client()
        .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Lisbon");
    db.admin_token();
    db.stop();

    // A destination with users already is refused.
    let again = migrate(&store, &pg.url("users"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not new"));

    // And back into a new file.
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let back = dir.path().join("users.json");
    let out = migrate(&pg.url("users"), &back.to_string_lossy());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filed = ServiceProcess::start_in(dir, ServiceOptions::default());
    filed.login("alice", "al1ce-pw-1");
    filed.admin_token();
}

/// `users-service ARGS` under the test master password.
fn pg_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(users_tests::bin_path("users-service"))
        .args(args)
        .env("USERS_SERVICE_PASSWORD", MASTER)
        .output()
        .expect("users-service runs")
}

#[test]
fn a_database_backs_up_to_a_file_and_restores_from_it() {
    let pg = PgCluster::start();
    let url = pg.url("users");
    let on = || ServiceOptions::default().arg(&["--database", &url]);
    let mut s = ServiceProcess::start(on());
    s.register("alice", "4lice-pw-12");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db.backup");
    let file_arg = file.to_str().unwrap();
    // Beside the running instance.
    let out = pg_cli(&["backup", &url, file_arg, "--kdf-iterations", "1000"]);
    assert!(out.status.success(), "{out:?}");
    let verified = pg_cli(&["verify", file_arg]);
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains("2 users"),
        "{verified:?}"
    );
    s.register("carol", "c4rol-pw-12");
    let busy = pg_cli(&["restore", file_arg, &url]);
    assert!(String::from_utf8_lossy(&busy.stderr).contains("stop every instance"));
    s.stop();
    let old_end: i64 = pg
        .psql("users", "select greatest(max(seq), 0) from users_log")
        .parse()
        .unwrap();
    let out = pg_cli(&["restore", file_arg, &url, "--kdf-iterations", "1000"]);
    assert!(out.status.success(), "{out:?}");
    // An instance left running from before writes one more snapshot, of
    // its state then: the restored one is newer, and stays.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let cipher =
        users_service::postgres::open_key(&mut client, MASTER, 1000, &mut rand::rng()).unwrap();
    let stale = users_service::State {
        users: vec![],
        sessions: vec![],
    };
    users_service::postgres::snapshot::write(&mut client, &cipher, old_end, &stale).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let aside = text
        .lines()
        .find_map(|l| l.strip_prefix("kept aside: "))
        .unwrap_or_else(|| panic!("{text}"));
    let kept = pg_cli(&["verify", aside]);
    assert!(
        String::from_utf8_lossy(&kept.stdout).contains("3 users"),
        "the users before the restore: {kept:?}"
    );
    let mut s = s.sibling(on());
    s.spawn_now();
    s.login("alice", "4lice-pw-12");
    let c = s.client();
    let r = c
        .call(json!({"action": "login", "username": "carol", "password": "c4rol-pw-12"}))
        .unwrap();
    assert_eq!(r["status"], "error", "carol came after the backup: {r}");
    let admin = s.admin_token();
    let log = c
        .call_ok(json!({"action": "audit_log", "session_token": admin, "event": "store_restored"}));
    assert_eq!(log["total"], 1, "{log}");
    s.register("dave", "d4ve-pw-123");
}
