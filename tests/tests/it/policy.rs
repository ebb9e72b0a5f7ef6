//! The password policy: common passwords, the account's own names, reuse of
//! the current password, and the caller's password for a reset or a role.

use serde_json::json;
use users_tests::{ServiceOptions, ServiceProcess, ADMIN_PASSWORD};

fn create(name: &str, email: &str, password: &str) -> serde_json::Value {
    json!({"action": "create_user", "user_data": {
        "username": name, "email": email, "password": password}})
}

#[test]
fn common_passwords_and_the_accounts_names_are_refused() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    for common in ["password1", "qwerty123", "iloveyou"] {
        let r = c.call_err(create("olivia", "o@example.com", common), "weak_password");
        assert_eq!(r["field"], "password");
        assert!(r["message"].as_str().unwrap().contains("common"), "{r}");
    }
    let r = c.call_err(
        create("olivia", "o@example.com", "Olivia-2026!"),
        "weak_password",
    );
    assert!(r["message"].as_str().unwrap().contains("username"), "{r}");
    let r = c.call_err(
        create("liv", "oliviaw@example.com", "xx-oliviaw-xx"),
        "weak_password",
    );
    assert!(r["message"].as_str().unwrap().contains("email"), "{r}");
    // The original README's example and test script still pass.
    c.call_ok(create("alice", "alice@example.com", "SecurePass123!"));
    c.call_ok(create("testuser", "test@example.com", "TestPass123"));
    // A rename is checked against the new name, a new password against both.
    let t = s.login("alice", "SecurePass123!");
    c.call_err(
        json!({"action": "update_user", "session_token": t, "update_data": {
            "username": "securepass", "password": "SecurePass999",
            "current_password": "SecurePass123!"}}),
        "weak_password",
    );
}

#[test]
fn the_blocklist_can_be_turned_off() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--password-blocklist", "off"]));
    s.client()
        .call_ok(create("olivia", "o@example.com", "password1"));
}

#[test]
fn a_new_password_equal_to_the_current_one_is_refused() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("hugo", "hugo-pw-1");
    let t = s.login("hugo", "hugo-pw-1");
    let r = c.call_err(
        json!({"action": "update_user", "session_token": t, "update_data": {
            "password": "hugo-pw-1", "current_password": "hugo-pw-1"}}),
        "weak_password",
    );
    assert!(r["message"].as_str().unwrap().contains("differ"), "{r}");
    // An admin's reset is compared with the stored hash.
    let admin = s.admin_token();
    c.call_err(
        json!({"action": "update_user", "session_token": admin, "username": "hugo",
            "update_data": {"password": "hugo-pw-1", "current_password": ADMIN_PASSWORD}}),
        "weak_password",
    );
}

#[test]
fn a_reset_a_role_or_a_status_change_needs_the_callers_own_password() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("ines", "ines-pw-1");
    let admin = s.admin_token();
    for upd in [
        json!({"password": "fresh-pw-2"}),
        json!({"role": "moderator"}),
        json!({"status": "suspended"}),
    ] {
        let r = c.call_err(
            json!({"action": "update_user", "session_token": admin, "username": "ines",
                "update_data": upd.clone()}),
            "invalid_request",
        );
        assert_eq!(r["field"], "current_password");
        let mut wrong = upd.clone();
        wrong["current_password"] = json!("not-the-admins");
        c.call_err(
            json!({"action": "update_user", "session_token": admin, "username": "ines",
                "update_data": wrong}),
            "wrong_password",
        );
        let mut right = upd;
        right["current_password"] = json!(ADMIN_PASSWORD);
        c.call_ok(json!({"action": "update_user", "session_token": admin,
            "username": "ines", "update_data": right}));
    }
    c.call_err(
        json!({"action": "login", "credentials": {"username": "ines", "password": "fresh-pw-2"}}),
        "invalid_credentials",
    );
}

#[test]
fn the_default_admin_password_must_be_changed() {
    let s = ServiceProcess::start(ServiceOptions {
        admin_password: None,
        ..ServiceOptions::default()
    });
    let c = s.client();
    let login = json!({"action": "login",
        "credentials": {"username": "admin", "password": "admin123"}});
    let r = c.call_ok(login);
    assert_eq!(r["password_change_required"], true);
    c.call_ok(
        json!({"action": "update_user", "session_token": r["session_token"],
        "update_data": {"password": "a-better-one-9", "current_password": "admin123"}}),
    );
    let r = c.call_ok(json!({"action": "login",
        "credentials": {"username": "admin", "password": "a-better-one-9"}}));
    assert!(r.get("password_change_required").is_none(), "{r}");
}
