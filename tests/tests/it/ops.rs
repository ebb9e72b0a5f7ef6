//! The operator's commands on a real store: reset-admin.

use serde_json::json;
use std::process::{Command, Output};
use users_tests::{ServiceProcess, ADMIN_PASSWORD, MASTER};

fn users_service(args: &[&str]) -> Output {
    Command::new(users_tests::bin_path("users-service"))
        .args(args)
        .env("USERS_SERVICE_PASSWORD", MASTER)
        .output()
        .expect("users-service runs")
}

/// The password reset-admin printed.
fn printed_password(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' '))
        .unwrap_or_else(|| panic!("no password in {text}"))
        .to_owned()
}

#[test]
fn reset_admin_gets_an_admin_back_in() {
    let mut s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("boss", "b0ss-pw-12");
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "boss",
        "update_data": {"role": "admin", "current_password": ADMIN_PASSWORD}}),
    );
    let boss = s.login("boss", "b0ss-pw-12");
    c.call_ok(
        json!({"action": "update_user", "session_token": boss, "username": "admin",
        "update_data": {"status": "suspended", "current_password": "b0ss-pw-12"}}),
    );
    let store = s.store.to_str().unwrap().to_owned();

    // Refused while the service has the store open, touching nothing.
    let busy = users_service(&["reset-admin", &store]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );

    s.stop();
    let out = users_service(&["reset-admin", &store]);
    assert!(out.status.success(), "{out:?}");
    let password = printed_password(&out);
    // A name that is no account is made an admin.
    let made = users_service(&["reset-admin", &store, "rescue"]);
    assert!(made.status.success(), "{made:?}");
    assert!(String::from_utf8_lossy(&made.stdout).starts_with("made admin 'rescue'"));
    let rescue = printed_password(&made);
    let bad = users_service(&["reset-admin", &store, "no spaces allowed"]);
    assert!(!bad.status.success());

    s.spawn_now();
    let c = s.client();
    let admin = s.login("admin", &password);
    let me = c.call_ok(json!({"action": "get_user", "session_token": admin}));
    assert_eq!(
        (me["user"]["role"].as_str(), me["user"]["status"].as_str()),
        (Some("admin"), Some("active"))
    );
    let r = s.login("rescue", &rescue);
    let list =
        c.call_ok(json!({"action": "audit_log", "session_token": r, "event": "password_reset"}));
    assert_eq!(list["total"], 2, "{list}");
    let detail = list["events"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("status suspended → active"), "{detail}");
}
