//! users-service on a real PostgreSQL (`--database`): what it keeps across
//! restarts, that the database holds no secret in clear, compaction, and that
//! a second instance is refused while following other instances' writes is
//! not built yet.

use serde_json::json;
use users_tests::{PgCluster, ServiceOptions, ServiceProcess};

fn on(pg: &PgCluster) -> ServiceOptions {
    ServiceOptions::default().arg(&["--database", &pg.url("users"), "--compact-after", "3"])
}

#[test]
fn users_live_in_postgresql_across_restarts_as_ciphertext_only() {
    let pg = PgCluster::start();
    let mut s = ServiceProcess::start(on(&pg));
    s.register("alice", "alicepass1");
    let t = s.login("alice", "alicepass1");
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"city": "Lisbon"}}));
    for i in 0..4 {
        s.register(&format!("bob{i}"), "bobpass123");
    }
    s.restart();
    let t = s.login("alice", "alicepass1");
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
    // Compaction ran: a snapshot, and no log row it holds.
    let snap: i64 = pg
        .psql("users", "select coalesce(max(seq), 0) from users_snapshot")
        .parse()
        .unwrap();
    assert!(snap > 0, "no snapshot after several batches");
    assert_eq!(
        pg.psql(
            "users",
            &format!("select count(*) from users_log where seq <= {snap}")
        ),
        "0"
    );
    // Nothing in clear: no name, address, city or hash.
    let dump = pg.psql(
        "users",
        "select string_agg(token, ' ') from (select token from users_log
           union all select token from users_snapshot
           union all select value from users_meta) t",
    );
    for secret in ["alice", "example.com", "Lisbon", "password", "bob0"] {
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
fn a_second_instance_and_a_wrong_master_password_are_refused() {
    let pg = PgCluster::start();
    let s = ServiceProcess::start(on(&pg));
    let mut second = s.sibling(on(&pg));
    let status = second.run_to_exit().expect("the second instance exits");
    assert!(!status.success());
    assert!(
        second
            .log_text()
            .contains("another users-service is using this database"),
        "{}",
        second.log_text()
    );
    drop(s);
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
