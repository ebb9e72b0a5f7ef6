//! Sessions: what ends them, and what keeps them.

use serde_json::json;
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess, ADMIN_PASSWORD};

#[test]
fn sessions_follow_password_changes_renames_and_deletion() {
    let s = ServiceProcess::start_default();
    s.register("frank", "fr4nk-pw1");
    let t1 = s.login("frank", "fr4nk-pw1");
    let t2 = s.login("frank", "fr4nk-pw1");
    let c = s.client();
    // A rename keeps both sessions.
    c.call_ok(json!({"action": "update_user", "session_token": t1, "update_data": {"username": "franky"}}));
    c.call_ok(json!({"action": "get_user", "session_token": t2}));
    // The password change needs the current password...
    c.call_err(
        json!({"action": "update_user", "session_token": t1,
        "update_data": {"password": "fr4nk-pw2"}}),
        "invalid_request",
    );
    let r = c.call_err(
        json!({"action": "update_user", "session_token": t1,
        "update_data": {"password": "fr4nk-pw2", "current_password": "bad-guess"}}),
        "wrong_password",
    );
    assert_eq!(r["field"], "current_password");
    // ...and ends every other session.
    c.call_ok(json!({"action": "update_user", "session_token": t1,
        "update_data": {"password": "fr4nk-pw2", "current_password": "fr4nk-pw1"}}));
    c.call_ok(json!({"action": "get_user", "session_token": t1}));
    c.call_err(
        json!({"action": "get_user", "session_token": t2}),
        "session_invalid",
    );
    // Deletion needs the password and ends every session.
    let t3 = s.login("franky", "fr4nk-pw2");
    c.call_err(
        json!({"action": "delete_user", "session_token": t1, "password": "fr4nk-pw1"}),
        "wrong_password",
    );
    c.call_ok(json!({"action": "delete_user", "session_token": t1, "password": "fr4nk-pw2"}));
    c.call_err(
        json!({"action": "get_user", "session_token": t3}),
        "session_invalid",
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "franky", "password": "fr4nk-pw2"}}),
        "invalid_credentials",
    );
}

#[test]
fn admin_suspension_ends_sessions_and_blocks_login() {
    let s = ServiceProcess::start_default();
    s.register("gina", "ginapass");
    let g = s.login("gina", "ginapass");
    let admin = s.admin_token();
    let c = s.client();
    let r = c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "gina",
        "update_data": {"status": "suspended", "current_password": ADMIN_PASSWORD}}),
    );
    assert_eq!(r["user"]["status"], "suspended");
    c.call_err(
        json!({"action": "get_user", "session_token": g}),
        "session_invalid",
    );
    c.call_err(
        json!({"action": "login", "credentials": {"username": "gina", "password": "ginapass"}}),
        "invalid_credentials",
    );
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "gina",
        "update_data": {"status": "active", "current_password": ADMIN_PASSWORD}}),
    );
    s.login("gina", "ginapass");
    // An admin resets another's password without knowing it, then deletes the account.
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "gina",
        "update_data": {"password": "resetpw1", "current_password": ADMIN_PASSWORD}}),
    );
    s.login("gina", "resetpw1");
    c.call_err(
        json!({"action": "delete_user", "session_token": admin, "username": "gina",
        "password": "not-admins"}),
        "wrong_password",
    );
    c.call_ok(
        json!({"action": "delete_user", "session_token": admin, "username": "gina",
        "password": ADMIN_PASSWORD}),
    );
}

#[test]
fn sessions_expire() {
    // Long enough for the login and the first call on a slow machine.
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--session-lifetime", "3s"]));
    let t = s.admin_token();
    let c = s.client();
    c.call_ok(json!({"action": "get_user", "session_token": t}));
    std::thread::sleep(Duration::from_millis(3200));
    c.call_err(
        json!({"action": "get_user", "session_token": t}),
        "session_invalid",
    );
    assert_eq!(
        c.call_ok(json!({"action": "health_check"}))["active_sessions"],
        0
    );
}

#[test]
fn an_account_has_at_most_its_share_of_sessions() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--max-sessions-per-user", "2"]));
    s.register("hana", "hanapass1");
    let tokens: Vec<String> = (0..3).map(|_| s.login("hana", "hanapass1")).collect();
    let get = |t: &str| {
        s.client()
            .call(json!({"action": "get_user", "session_token": t}))
            .unwrap()
    };
    assert_eq!(
        get(&tokens[0])["code"],
        "session_invalid",
        "the oldest ended"
    );
    for t in &tokens[1..] {
        assert_eq!(get(t)["status"], "success");
    }
    // The admin's own sessions are not touched.
    let admin = s.login("admin", ADMIN_PASSWORD);
    assert_eq!(get(&admin)["status"], "success");
}

#[test]
fn an_admin_ends_every_session_of_every_user_but_their_own() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("ann", "ann-pw-123");
    s.register("ben", "ben-pw-123");
    let ann = s.login("ann", "ann-pw-123");
    let ben = s.login("ben", "ben-pw-123");
    let admin = s.admin_token();
    let admin_elsewhere = s.admin_token();
    let everyone = |token: &str, password: Option<&str>| {
        let mut req = json!({"action": "revoke_session", "session_token": token, "everyone": true});
        if let Some(p) = password {
            req["current_password"] = json!(p);
        }
        req
    };
    c.call_err(everyone(&ann, Some("ann-pw-123")), "forbidden");
    let e = c.call_err(everyone(&admin, None), "invalid_request");
    assert_eq!(e["field"], "current_password");
    c.call_err(everyone(&admin, Some("not-the-password")), "wrong_password");
    let r = c.call_ok(everyone(&admin, Some(ADMIN_PASSWORD)));
    assert_eq!(r["revoked"], 3, "{r}");
    for t in [&ann, &ben, &admin_elsewhere] {
        c.call_err(
            json!({"action": "get_user", "session_token": t}),
            "session_invalid",
        );
    }
    c.call_ok(json!({"action": "get_user", "session_token": admin}));
    // One way at a time.
    let mut both = everyone(&admin, Some(ADMIN_PASSWORD));
    both["all_others"] = json!(true);
    c.call_err(both, "invalid_request");
}
