//! What refused requests leave in the audit log: access refused to a role
//! or on an account that does not exist, failed confirmations, unknown
//! session tokens and rate limits, each bounded so that it cannot flood
//! the log.

use super::audit::{audit, kinds};
use serde_json::{json, Value};
use users_tests::ServiceProcess;

fn of_kind<'a>(page: &'a Value, kind: &str) -> Vec<&'a Value> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[test]
fn refused_actions_and_failed_confirmations_are_recorded() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("alice", "al1ce-pw-1");
    s.register("bob", "b0b-pass-1");
    let bob = s.login("bob", "b0b-pass-1");
    // A user reading and changing someone else.
    c.call_err(
        json!({"action": "get_user", "session_token": bob, "username": "alice"}),
        "forbidden",
    );
    c.call_err(
        json!({"action": "update_user", "session_token": bob, "username": "alice",
            "update_data": {"city": "Oslo"}}),
        "forbidden",
    );
    // An admin asking for an account that is not there: recorded, but not
    // by the name typed, which may be anything.
    let admin = s.admin_token();
    c.call_err(
        json!({"action": "get_user", "session_token": admin, "username": "Secret-Typed-1"}),
        "not_found",
    );
    // Wrong confirmations: a password change, a deletion, a code.
    c.call_err(
        json!({"action": "update_user", "session_token": bob,
            "update_data": {"password": "b0b-pass-2", "current_password": "wrong-wrong"}}),
        "wrong_password",
    );
    c.call_err(
        json!({"action": "delete_user", "session_token": bob, "password": "wrong-wrong"}),
        "wrong_password",
    );
    c.call_ok(json!({"action": "totp_setup", "session_token": bob}));
    c.call_err(
        json!({"action": "totp_enable", "session_token": bob, "code": "000000",
            "password": "b0b-pass-1"}),
        "invalid_credentials",
    );

    let done = |p: &Value| {
        of_kind(p, "access_denied").len() >= 3 && of_kind(p, "confirmation_failed").len() >= 3
    };
    let page = audit(&c, &admin, json!({}), done);
    let denied = of_kind(&page, "access_denied");
    assert_eq!(denied.len(), 3, "{page}");
    let by_bob: Vec<_> = denied.iter().filter(|e| e["actor"] == "bob").collect();
    assert_eq!(by_bob.len(), 2, "{denied:?}");
    assert!(by_bob
        .iter()
        .all(|e| e["target"] == "alice" && e["outcome"] == "failure"));
    let details: Vec<&str> = by_bob
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.iter().any(|d| d.starts_with("get_user")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.starts_with("update_user")),
        "{details:?}"
    );
    let missing = denied.iter().find(|e| e["actor"] == "admin").unwrap();
    assert_eq!(missing["target"], "(unknown account)", "{missing}");
    assert!(
        !page.to_string().to_lowercase().contains("secret-typed-1"),
        "{page}"
    );
    let confirmations: Vec<String> = of_kind(&page, "confirmation_failed")
        .iter()
        .map(|e| {
            assert_eq!(e["actor"], "bob");
            e["detail"].as_str().unwrap().to_owned()
        })
        .collect();
    for what in ["update_user", "delete_user", "totp_enable"] {
        assert!(
            confirmations.iter().any(|d| d.starts_with(what)),
            "{confirmations:?}"
        );
    }
    // Bob sees those about his own account, and Alice what Bob tried on hers.
    let alice = s.login("alice", "al1ce-pw-1");
    let own = audit(&c, &alice, json!({}), |_| true);
    assert_eq!(of_kind(&own, "access_denied").len(), 2, "{own}");
}

#[test]
fn unknown_sessions_and_rate_limits_are_recorded_once_a_minute() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    for i in 0..50 {
        let token = format!("made-up-token-{i}");
        c.call_err(
            json!({"action": "get_user", "session_token": token}),
            "session_invalid",
        );
    }
    s.register("carol", "car0l-pw-1");
    let carol = s.login("carol", "car0l-pw-1");
    let mut refused = 0;
    for _ in 0..30 {
        let r = c
            .call(json!({"action": "audit_log", "session_token": carol}))
            .unwrap();
        refused += usize::from(r["code"] == "rate_limited");
    }
    assert!(refused > 10, "the audit log's rate per reader");
    let admin = s.admin_token();
    let page = audit(&c, &admin, json!({}), |p| {
        kinds(p).iter().any(|k| k == "session_rejected")
            && kinds(p).iter().any(|k| k == "rate_limited")
    });
    let rejected = of_kind(&page, "session_rejected");
    assert_eq!(rejected.len(), 1, "one a minute per client: {page}");
    assert!(rejected[0]["client_address"].is_string(), "{}", rejected[0]);
    let limited: Vec<_> = of_kind(&page, "rate_limited")
        .into_iter()
        .filter(|e| e["actor"] == "carol")
        .collect();
    assert_eq!(limited.len(), 1, "one a minute per account: {page}");
    assert!(limited[0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("audit_log"));
}
