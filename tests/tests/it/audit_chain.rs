//! The audit log's chain: an event of `STORE.audit` taken out, moved or cut
//! off shows in `verify`, which names where, and a log cut short is
//! recorded when the service starts.

use super::audit::{audit, kinds};
use super::ops::users_service;
use serde_json::json;
use users_tests::ServiceProcess;

fn verify_error(store: &str) -> String {
    let out = users_service(&["verify", store]);
    assert!(!out.status.success(), "verify passed: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn verify_names_where_the_audit_chain_breaks_and_start_up_records_a_cut() {
    let mut s = ServiceProcess::start_default();
    for i in 0..4 {
        s.register(&format!("user{i}"), "passw0rd-12");
    }
    s.stop();
    let store = s.store.to_str().unwrap().to_owned();
    let path = format!("{store}.audit");
    let original = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.len() >= 4, "one line per batch: {}", lines.len());
    let write = |lines: &[&str]| {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
    };
    let ok = users_service(&["verify", &store]);
    assert!(ok.status.success(), "{ok:?}");

    // A batch taken out of the middle.
    let mut gap = lines.clone();
    gap.remove(2);
    write(&gap);
    let err = verify_error(&store);
    assert!(
        err.contains("breaks at event") && err.contains("removed or reordered"),
        "{err}"
    );
    // Two batches swapped.
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    write(&swapped);
    let err = verify_error(&store);
    assert!(err.contains("breaks at event"), "{err}");
    // The newest batch cut off: the store sealed it.
    write(&lines[..lines.len() - 1]);
    let err = verify_error(&store);
    assert!(
        err.contains("breaks at event") && err.contains("cut off"),
        "{err}"
    );

    // Started on the log cut short, the service says so in the log itself.
    s.restart_on_same_port();
    let admin = s.admin_token();
    let page = audit(&s.client(), &admin, json!({}), |p| {
        kinds(p).iter().any(|k| k == "audit_chain_broken")
    });
    assert!(
        kinds(&page).iter().any(|k| k == "audit_chain_broken"),
        "{page}"
    );
    // From there on the chain holds again, and verify passes.
    s.stop();
    let ok = users_service(&["verify", &store]);
    assert!(ok.status.success(), "{ok:?}");
}

#[test]
fn on_postgresql_verify_names_a_removed_row_and_start_up_records_a_cut() {
    let pg = users_tests::PgCluster::start();
    let url = pg.url("users");
    let mut s =
        ServiceProcess::start(users_tests::ServiceOptions::default().arg(&["--database", &url]));
    for i in 0..4 {
        s.register(&format!("user{i}"), "passw0rd-12");
    }
    let ok = users_service(&["verify", &url]);
    assert!(ok.status.success(), "{ok:?}");
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("audit events"),
        "{ok:?}"
    );
    s.stop();
    pg.psql("users", "CREATE TABLE kept AS SELECT * FROM users_audit");
    let put_back = "DELETE FROM users_audit; INSERT INTO users_audit SELECT * FROM kept";
    // A row out of the middle.
    pg.psql(
        "users",
        "DELETE FROM users_audit WHERE first_id = \
         (SELECT first_id FROM users_audit ORDER BY first_id OFFSET 2 LIMIT 1)",
    );
    let err = verify_error(&url);
    assert!(
        err.contains("breaks at event") && err.contains("removed or reordered"),
        "{err}"
    );
    pg.psql("users", put_back);
    assert!(users_service(&["verify", &url]).status.success());
    // The newest row cut off.
    pg.psql(
        "users",
        "DELETE FROM users_audit WHERE first_id = (SELECT max(first_id) FROM users_audit)",
    );
    let err = verify_error(&url);
    assert!(err.contains("cut off"), "{err}");
    s.restart_on_same_port();
    let admin = s.admin_token();
    let page = audit(&s.client(), &admin, json!({}), |p| {
        kinds(p).iter().any(|k| k == "audit_chain_broken")
    });
    assert!(
        kinds(&page).iter().any(|k| k == "audit_chain_broken"),
        "{page}"
    );
    assert!(users_service(&["verify", &url]).status.success());

    // Cut while the instance runs: the next batch records the cut rather
    // than sealing over it.
    let broken = |p: &serde_json::Value| {
        kinds(p)
            .iter()
            .filter(|k| *k == "audit_chain_broken")
            .count()
    };
    let before = broken(&audit(&s.client(), &admin, json!({}), |_| true));
    pg.psql(
        "users",
        "DELETE FROM users_audit WHERE first_id = (SELECT max(first_id) FROM users_audit)",
    );
    s.register("late", "passw0rd-12");
    let page = audit(&s.client(), &admin, json!({}), |p| broken(p) > before);
    assert_eq!(broken(&page), before + 1, "{page}");
}
