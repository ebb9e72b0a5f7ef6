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

#[test]
fn common_passwords_in_any_case_the_services_name_and_the_operators_words_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("context-words");
    std::fs::write(&words, "# ours\nAcme Corp\n").unwrap();
    let s = ServiceProcess::start(
        ServiceOptions::default().arg(&["--password-context-words", words.to_str().unwrap()]),
    );
    let c = s.client();
    for (password, rule) in [
        ("Password1", "common"),
        ("PASSWORD123", "common"),
        ("my Users-Service pw", "service"),
        ("usersservice-2026", "service"),
        ("ACME-corp-2026!", "organisation"),
    ] {
        let r = c.call_err(create("olivia", "o@example.com", password), "weak_password");
        let message = r["message"].as_str().unwrap();
        assert!(message.contains(rule), "{password}: {message}");
    }
    c.call_ok(create("olivia", "o@example.com", "Tr1cky-Blue-Heron"));
}

#[test]
fn an_unreadable_context_words_file_stops_the_service_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let port = users_tests::free_port().to_string();
    let store = dir.path().join("users.json");
    let mut child = std::process::Command::new(users_tests::bin_path("users-service"))
        .args([&port, store.to_str().unwrap()])
        .args(["--password-context-words", "/nonexistent/words"])
        .env("USERS_SERVICE_PASSWORD", "master-pw")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let stopped = child.try_wait().unwrap().is_some();
    if !stopped {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(stopped, "it started without its context words");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/words"), "{err}");
}

#[test]
fn a_password_set_by_someone_else_opens_only_its_own_change() {
    let s = ServiceProcess::start(ServiceOptions {
        admin_password: None,
        ..ServiceOptions::default()
    });
    let c = s.client();
    s.register("bob", "b0b-own-pw-1");
    s.register("dora", "d0ra-own-pw-1");
    let r = c.call_ok(json!({"action": "login",
        "credentials": {"username": "admin", "password": "admin123"}}));
    assert_eq!(r["password_change_required"], true);
    let t = r["session_token"].as_str().unwrap().to_owned();
    // What a session with the default password may not do: everything an
    // admin does, and its own profile.
    for req in [
        json!({"action": "list_users", "session_token": t}),
        json!({"action": "get_user", "session_token": t, "username": "bob"}),
        json!({"action": "update_user", "session_token": t, "username": "bob",
            "update_data": {"role": "admin", "current_password": "admin123"}}),
        json!({"action": "update_user", "session_token": t,
            "update_data": {"email": "new@example.com"}}),
        json!({"action": "delete_user", "session_token": t, "username": "bob", "password": "admin123"}),
        json!({"action": "list_sessions", "session_token": t}),
        json!({"action": "audit_log", "session_token": t}),
        json!({"action": "totp_setup", "session_token": t}),
    ] {
        let e = c.call_err(req.clone(), "password_change_required");
        assert!(
            e["message"].as_str().unwrap().contains("update_user"),
            "{req}: {e}"
        );
    }
    // What it may: read itself, check itself, change its password.
    c.call_ok(json!({"action": "get_user", "session_token": t}));
    c.call_ok(json!({"action": "get_user", "session_token": t, "username": "Admin"}));
    c.call_ok(json!({"action": "session_status", "session_token": t}));
    c.call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"password": "a-better-one-9", "current_password": "admin123"}}));
    let admin = s.login("admin", "a-better-one-9");
    c.call_ok(json!({"action": "list_sessions", "session_token": admin}));

    // An admin's reset marks the password to change, unless the admin says not.
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "bob",
        "update_data": {"password": "set-by-admin-1", "current_password": "a-better-one-9"}}),
    );
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "dora",
        "update_data": {"password": "set-by-admin-2", "current_password": "a-better-one-9",
            "password_change_required": false}}),
    );
    let r = c.call_ok(json!({"action": "login",
        "credentials": {"username": "bob", "password": "set-by-admin-1"}}));
    assert_eq!(r["password_change_required"], true);
    let bob = r["session_token"].as_str().unwrap().to_owned();
    c.call_err(
        json!({"action": "list_sessions", "session_token": bob}),
        "password_change_required",
    );
    c.call_ok(json!({"action": "update_user", "session_token": bob,
        "update_data": {"password": "b0bs-own-again", "current_password": "set-by-admin-1"}}));
    let r = c.call_ok(json!({"action": "login",
        "credentials": {"username": "bob", "password": "b0bs-own-again"}}));
    assert!(r.get("password_change_required").is_none(), "{r}");
    let dora = s.login("dora", "set-by-admin-2");
    c.call_ok(json!({"action": "list_sessions", "session_token": dora}));
    // The qualifier goes with a new password only.
    let e = c.call_err(
        json!({"action": "update_user", "session_token": admin, "username": "dora",
            "update_data": {"password_change_required": true}}),
        "invalid_request",
    );
    assert_eq!(e["field"], "password_change_required");
}
