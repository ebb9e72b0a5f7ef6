//! list_users: paging, filters and order on the server; the public view and its limits.

use serde_json::json;
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess};

#[test]
fn list_users_pages_filters_and_sorts_on_the_server() {
    let s = ServiceProcess::start_default();
    for i in 0..12 {
        s.register(&format!("member{i:02}"), "memberpw");
    }
    let admin = s.admin_token();
    let c = s.client();
    let r = c.call_ok(json!({"action": "list_users", "session_token": admin,
        "limit": 5, "offset": 5, "sort": "username", "role": "user"}));
    assert_eq!(r["total"], 12);
    assert_eq!(r["count"], 5);
    assert_eq!(r["users"][0]["username"], "member05");
    let r = c.call_ok(json!({"action": "list_users", "session_token": admin,
        "search": "MEMBER1", "sort": "-username"}));
    assert_eq!(r["total"], 2);
    assert_eq!(r["users"][0]["username"], "member11");
    let r =
        c.call_ok(json!({"action": "list_users", "session_token": admin, "status": "suspended"}));
    assert_eq!(r["total"], 0);
    // Without parameters: everyone, as the original.
    assert_eq!(c.call_ok(json!({"action": "list_users"}))["count"], 13);
}

#[test]
fn anonymous_lists_are_rate_limited_per_peer_and_cached_until_a_change() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--public-list-rate", "2"]));
    let c = s.client();
    let anonymous = json!({"action": "list_users", "limit": 5});
    // At once, so that no token comes back while they are read.
    let codes = users_tests::pipelined(&s.endpoint(), &vec![anonymous.clone(); 10]);
    let limited = codes.iter().filter(|r| r["code"] == "rate_limited").count();
    assert!(
        limited >= 5,
        "a burst of 4 is allowed, then 2 a second: {codes:?}"
    );
    // A change shows in the next anonymous page: nothing stale is served.
    std::thread::sleep(Duration::from_millis(1100));
    let before = c.call_ok(anonymous.clone());
    s.register("aaron", "aar0n-pw");
    let after = c.call_ok(anonymous.clone());
    assert_eq!(after["total"], before["total"].as_u64().unwrap() + 1);
    assert_eq!(after["users"][0]["username"], "aaron");
    // With a session, the limit does not apply.
    let token = s.login("aaron", "aar0n-pw");
    for _ in 0..10 {
        c.call_ok(json!({"action": "list_users", "session_token": token, "limit": 5}));
    }
}

#[test]
fn public_list_off_needs_a_session() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--public-list", "off"]));
    let c = s.client();
    c.call_err(json!({"action": "list_users"}), "session_invalid");
    s.register("bea", "beapass1");
    let token = s.login("bea", "beapass1");
    let r = c.call_ok(json!({"action": "list_users", "session_token": token}));
    assert_eq!(r["view"], "public");
}

#[test]
fn without_staff_a_list_orders_and_filters_by_public_fields_only() {
    let s = ServiceProcess::start_default();
    s.register("probe", "pr0be-pw-1");
    let user = s.login("probe", "pr0be-pw-1");
    let admin = s.admin_token();
    let c = s.client();
    // Anonymous and with a user's session alike: the order or the membership
    // would tell a hidden field (an email, a last login, a suspension).
    for session in [None, Some(user.as_str())] {
        for (member, value, field) in [
            ("sort", "email", "sort"),
            ("sort", "-last_login", "sort"),
            ("sort", "created_at", "sort"),
            ("status", "suspended", "status"),
        ] {
            let mut req = json!({"action": "list_users", member: value});
            if let Some(t) = session {
                req["session_token"] = json!(t);
            }
            let r = c.call_err(req, "invalid_request");
            assert_eq!(r["field"], field, "{member}={value}: {r}");
        }
        for sort in ["username", "-full_name", "role"] {
            let mut req = json!({"action": "list_users", "sort": sort, "search": "PRO"});
            if let Some(t) = session {
                req["session_token"] = json!(t);
            }
            assert_eq!(c.call_ok(req)["total"], 1, "{sort}");
        }
    }
    // Staff may order and filter by anything.
    let r = c.call_ok(json!({"action": "list_users", "session_token": admin,
        "sort": "-last_login", "status": "active"}));
    assert_eq!(r["total"], 2);
}
