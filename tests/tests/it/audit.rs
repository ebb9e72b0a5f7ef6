//! The audit log: every change writes its event, failed logins are recorded
//! without slowing the login, who may read what, paging, retention, and no
//! plaintext on disk or in PostgreSQL.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use users_tests::{PgCluster, ServiceOptions, ServiceProcess, Zmq, ADMIN_PASSWORD};

/// The admin's view of the audit log with `filter`, once `ready` holds
/// (failed logins are written within a second or so).
pub(super) fn audit(c: &Zmq, token: &str, filter: Value, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut req = json!({"action": "audit_log", "session_token": token, "limit": 500});
        for (k, v) in filter.as_object().unwrap() {
            req[k] = v.clone();
        }
        let page = c.call(req).unwrap();
        // Reads are limited per account: a refused one is asked again.
        if page["code"] == "rate_limited" {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        assert_eq!(page["status"], "success", "{page}");
        if ready(&page) || Instant::now() > deadline {
            return page;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Asserts that the audit log's newest 50 events, as `admin` reads them,
/// hold an event of each of `wanted`'s kinds.
pub(super) fn assert_recorded(c: &Zmq, admin: &str, wanted: &[&str]) {
    let page = c.call_ok(json!({"action": "audit_log", "session_token": admin, "limit": 50}));
    let kinds = kinds(&page);
    for kind in wanted {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

pub(super) fn kinds(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn has(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |p| kinds(p).iter().any(|k| k == kind)
}

#[test]
fn each_change_writes_its_event_and_the_file_holds_no_plaintext() {
    let mut s = ServiceProcess::start_default();
    let c = s.client();
    s.register("carla", "c4rla-pw-1");
    let t = s.login("carla", "c4rla-pw-1");
    c.call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"username": "carla2", "city": "Turin"}}));
    c.call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"password": "c4rla-pw-2", "current_password": "c4rla-pw-1"}}));
    let admin = s.admin_token();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "carla2",
        "update_data": {"role": "moderator", "current_password": ADMIN_PASSWORD}}),
    );
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "carla2",
        "update_data": {"password": "c4rla-pw-3", "current_password": ADMIN_PASSWORD}}),
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "carla2", "password": "nope-nope"}}),
        "invalid_credentials",
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "nobody", "password": "nope-nope"}}),
        "invalid_credentials",
    );
    let t = s.login("carla2", "c4rla-pw-3");
    c.call_ok(json!({"action": "logout", "session_token": t}));
    s.register("doomed", "d00med-pw-1");
    let d = s.login("doomed", "d00med-pw-1");
    c.call_ok(json!({"action": "delete_user", "session_token": d, "password": "d00med-pw-1"}));

    let page = audit(&c, &admin, json!({}), has("logout"));
    let all = kinds(&page);
    for kind in [
        "account_created",
        "login_succeeded",
        "login_failed",
        "account_updated",
        "password_changed",
        "password_reset",
        "logout",
        "account_deleted",
    ] {
        assert!(all.iter().any(|k| k == kind), "{kind} missing from {all:?}");
    }
    let events = page["events"].as_array().unwrap();
    let detail = |pred: &dyn Fn(&Value) -> bool| -> String {
        events
            .iter()
            .find(|e| pred(e))
            .map(|e| e["detail"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    let rename = detail(&|e| e["kind"] == "account_updated" && e["actor"] == "carla2");
    assert!(rename.contains("username: carla → carla2"), "{rename}");
    let role = detail(&|e| e["kind"] == "account_updated" && e["actor"] == "admin");
    assert!(role.contains("role: user → moderator"), "{role}");
    // A name that is no account is not kept (it may be a password typed
    // in the wrong field): a fingerprint of it is.
    let unknown = detail(&|e| e["kind"] == "login_failed" && e["target"] == "(unknown account)");
    assert!(unknown.starts_with("no such account (name #"), "{unknown}");
    // Keyed by the store's key: not the plain SHA-256 of the name, which
    // anyone could test guessed passwords against.
    assert!(!unknown.contains("6382b3cc"), "{unknown}");
    assert!(
        !page.to_string().contains("nobody"),
        "the typed name is not kept"
    );
    let wrong = detail(&|e| e["kind"] == "login_failed" && e["target"] == "carla2");
    assert_eq!(wrong, "wrong password");
    let deleted = events
        .iter()
        .find(|e| e["kind"] == "account_deleted")
        .unwrap();
    assert_eq!(deleted["target"], "doomed");
    for e in events {
        assert!(e["at"].is_string() && e["outcome"].is_string(), "{e}");
        assert_eq!(e["client_address"], "127.0.0.1", "{e}");
    }
    // No plaintext: no name, no kind, no detail.
    let file = std::fs::read_to_string(format!("{}.audit", s.store.display())).unwrap();
    for clear in [
        "carla",
        "doomed",
        "nobody",
        "login_failed",
        "wrong password",
        "moderator",
    ] {
        assert!(!file.contains(clear), "{clear} in clear in the audit file");
    }
    // An acknowledged change keeps its event across a restart.
    s.restart();
    let c = s.client();
    let admin = s.admin_token();
    let page = audit(&c, &admin, json!({"event": "account_deleted"}), |_| true);
    assert_eq!(page["total"], 1, "{page}");
}

#[test]
fn who_reads_what_filters_and_pages() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("mona", "m0na-pw-12");
    s.register("nils", "n1ls-pw-12");
    let admin = s.admin_token();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "mona",
        "update_data": {"role": "moderator", "current_password": ADMIN_PASSWORD}}),
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "nils", "password": "wrong-pw-1"}}),
        "invalid_credentials",
    );
    let n = s.login("nils", "n1ls-pw-12");
    let m = s.login("mona", "m0na-pw-12");
    let failed = audit(&c, &admin, json!({"event": "login_failed"}), |p| {
        p["total"] == 1
    });
    assert_eq!(
        failed["events"][0]["detail"], "wrong password",
        "admins see why"
    );
    let by_mod = audit(&c, &m, json!({"event": "login_failed"}), |_| true);
    assert_eq!(by_mod["total"], 1);
    assert!(
        by_mod["events"][0].get("detail").is_none(),
        "moderators do not: {by_mod}"
    );
    // A user sees their own account's events only.
    // Events are written behind the replies: wait for the ones asked about.
    let own = audit(&c, &n, json!({}), |p| {
        kinds(p).contains(&"login_succeeded".to_owned())
    });
    for e in own["events"].as_array().unwrap() {
        assert_eq!(e["target"], "nils", "{e}");
        assert!(
            e.get("detail").is_none() || e["kind"] != "login_failed",
            "{e}"
        );
    }
    assert!(kinds(&own).contains(&"login_succeeded".to_owned()));
    // By username, and page by page with the cursor.
    let mona = audit(&c, &admin, json!({"username": "MONA"}), |p| {
        p["total"].as_u64() >= Some(3)
    });
    assert!(mona["total"].as_u64().unwrap() >= 3, "{mona}");
    let first = audit(&c, &admin, json!({"limit": 2}), |_| true);
    assert_eq!(first["count"], 2);
    let cursor = first["next_cursor"].as_u64().expect("a next page");
    let second = audit(&c, &admin, json!({"limit": 2, "cursor": cursor}), |_| true);
    assert!(second["events"][0]["id"].as_u64().unwrap() < cursor);
    std::thread::sleep(Duration::from_secs(2)); // past the read limit
    c.call_err(
        json!({"action": "audit_log", "session_token": admin, "since": "last week"}),
        "invalid_request",
    );
}

#[test]
fn events_past_the_retention_are_dropped() {
    let mut s = ServiceProcess::start(ServiceOptions::default().arg(&["--audit-retention", "2s"]));
    s.register("olga", "0lga-pw-12");
    // A later batch: the newest stays past the retention, as the chain's head.
    s.login("olga", "0lga-pw-12");
    std::thread::sleep(Duration::from_secs(3));
    s.restart();
    let c = s.client();
    s.register("otto", "0tto-pw-12");
    let admin = s.admin_token();
    let page = audit(&c, &admin, json!({"event": "account_created"}), |p| {
        p["total"].as_u64() >= Some(1)
    });
    let targets: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["otto"], "{page}");
}

#[test]
fn on_postgresql_events_go_in_the_batch_as_ciphertext() {
    let pg = PgCluster::start();
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--database", &pg.url("users")]));
    let c = s.client();
    s.register("petra", "p3tra-pw-1");
    let admin = s.admin_token();
    let page = audit(&c, &admin, json!({"event": "account_created"}), |p| {
        p["total"].as_u64() >= Some(1)
    });
    assert_eq!(page["events"][0]["target"], "petra", "{page}");
    let dump = pg.psql("users", "select string_agg(token, ' ') from users_audit");
    assert!(!dump.is_empty());
    for clear in ["petra", "account_created"] {
        assert!(!dump.contains(clear), "{clear} in clear");
    }
}

#[test]
fn reading_the_audit_log_is_limited_per_account() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    let codes: Vec<String> = (0..10)
        .map(|_| {
            let r = c
                .call(json!({"action": "audit_log", "session_token": admin}))
                .unwrap();
            r["code"].as_str().unwrap_or("ok").to_owned()
        })
        .collect();
    assert!(codes.iter().any(|c| c == "rate_limited"), "{codes:?}");
    assert_eq!(codes[0], "ok");
}

#[test]
fn a_read_counts_at_most_a_thousand_matches_and_pages_on_by_cursor() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("busy", "bu5y-pw-12");
    let t = s.login("busy", "bu5y-pw-12");
    let changes: Vec<Value> = (0..1100)
        .map(|i| {
            json!({"action": "update_user", "session_token": t,
                "update_data": {"city": format!("City {i}")}})
        })
        .collect();
    let replies = users_tests::pipelined(&s.endpoint(), &changes);
    assert!(replies.iter().all(|r| r["status"] == "success"));
    let admin = s.admin_token();
    let page = audit(
        &c,
        &admin,
        json!({"event": "account_updated", "limit": 100}),
        |p| p["total"].as_u64() >= Some(1000),
    );
    assert_eq!(
        (page["total"].as_u64(), &page["total_capped"]),
        (Some(1000), &json!(true)),
        "{}",
        page["total"]
    );
    assert_eq!(page["count"], 100);
    // Past the thousand, the cursor goes on.
    let mut cursor = page["next_cursor"].clone();
    let mut seen = 100;
    while cursor.is_u64() {
        let next = audit(
            &c,
            &admin,
            json!({"event": "account_updated", "limit": 500, "cursor": cursor}),
            |_| true,
        );
        seen += next["count"].as_u64().unwrap();
        cursor = next["next_cursor"].clone();
    }
    assert_eq!(seen, 1100);
    // Reads are limited per account: after a pause, one more is taken.
    std::thread::sleep(Duration::from_millis(1100));
    let far = c.call_err(
        json!({"action": "audit_log", "session_token": admin, "offset": 10_001}),
        "invalid_request",
    );
    assert_eq!(far["field"], "offset", "{far}");
}

#[test]
fn on_postgresql_reads_go_through_keyed_digests_and_older_rows_are_indexed_at_start() {
    let pg = PgCluster::start();
    let mut s =
        ServiceProcess::start(ServiceOptions::default().arg(&["--database", &pg.url("users")]));
    let c = s.client();
    s.register("petra", "p3tra-pw-1");
    s.register("quinn", "qu1nn-pw-1");
    let quinn = s.login("quinn", "qu1nn-pw-1");
    for i in 0..5 {
        c.call_ok(json!({"action": "update_user", "session_token": quinn,
            "update_data": {"city": format!("City {i}")}}));
    }
    // Every row has its keys: 16 bytes each, digests that name no one.
    let lengths = pg.psql(
        "users",
        "select min(octet_length(k)) || '-' || max(octet_length(k)) from users_audit, unnest(keys) k",
    );
    assert_eq!(lengths, "16-16");
    assert_eq!(
        pg.psql(
            "users",
            "select count(*) from users_audit where keys is null"
        ),
        "0"
    );
    let dump = pg.psql(
        "users",
        "select string_agg(encode(k, 'escape'), ' ') from users_audit, unnest(keys) k",
    );
    for clear in ["petra", "quinn", "account_updated"] {
        assert!(!dump.contains(clear), "{clear} in clear");
    }
    let petra = s.login("petra", "p3tra-pw-1");
    let own = |c: &users_tests::Zmq, token: &str| {
        audit(c, token, json!({"mine": true}), |p| {
            p["total"].as_u64() >= Some(2)
        })
    };
    let mine = own(&c, &petra);
    assert!(
        mine["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["target"] == "petra"),
        "{mine}"
    );
    assert_eq!(mine["total"], 2, "created and signed in: {mine}");
    // Rows as a release before the index wrote them: found all the same,
    // and indexed when an instance starts.
    pg.psql("users", "update users_audit set keys = null");
    assert_eq!(own(&c, &petra)["total"], 2);
    s.restart();
    assert_eq!(
        pg.psql(
            "users",
            "select count(*) from users_audit where keys is null"
        ),
        "0"
    );
    let petra = s.login("petra", "p3tra-pw-1");
    assert!(own(&s.client(), &petra)["total"].as_u64() >= Some(2));
}
