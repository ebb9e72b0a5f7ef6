use serde_json::json;
use users_tests::{ServiceProcess, ADMIN_PASSWORD};

#[test]
fn authorization_rules() {
    let s = ServiceProcess::start_default();
    s.register("user1", "userpass1");
    s.register("user2", "userpass2");
    s.register("mod1", "modpass1");
    let admin = s.admin_token();
    let c = s.client();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "mod1",
        "update_data": {"role": "moderator", "current_password": ADMIN_PASSWORD}}),
    );
    let u1 = s.login("user1", "userpass1");
    let m = s.login("mod1", "modpass1");

    // A user reads and changes only their own record.
    c.call_err(
        json!({"action": "get_user", "session_token": u1, "username": "user2"}),
        "forbidden",
    );
    c.call_err(
        json!({"action": "update_user", "session_token": u1, "username": "user2",
        "update_data": {"full_name": "x"}}),
        "forbidden",
    );
    c.call_err(
        json!({"action": "delete_user", "session_token": u1, "username": "user2",
        "password": "userpass1"}),
        "forbidden",
    );
    // Role and status in a normal user's update are refused.
    c.call_err(
        json!({"action": "update_user", "session_token": u1,
        "update_data": {"role": "admin"}}),
        "forbidden",
    );
    c.call_err(
        json!({"action": "update_user", "session_token": u1,
        "update_data": {"status": "active"}}),
        "forbidden",
    );
    // Moderators read, but do not change.
    let r = c.call_ok(json!({"action": "get_user", "session_token": m, "username": "user2"}));
    assert_eq!(r["user"]["email"], "user2@example.com");
    c.call_err(
        json!({"action": "update_user", "session_token": m, "username": "user2",
        "update_data": {"status": "suspended"}}),
        "forbidden",
    );
    // Admins act on others; unknown names are not_found.
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "user2",
        "update_data": {"full_name": "Set By Admin"}}),
    );
    c.call_err(
        json!({"action": "get_user", "session_token": admin, "username": "ghost"}),
        "not_found",
    );

    // Views of list_users.
    let public = c.call_ok(json!({"action": "list_users"}));
    assert_eq!(public["view"], "public");
    for u in public["users"].as_array().unwrap() {
        let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["full_name", "role", "username"]);
    }
    let as_user = c.call_ok(json!({"action": "list_users", "session_token": u1}));
    assert_eq!(as_user["view"], "public");
    for tok in [&admin, &m] {
        let r = c.call_ok(json!({"action": "list_users", "session_token": tok}));
        assert_eq!(r["view"], "admin");
        assert_eq!(r["total"], 4);
        let first = &r["users"][0];
        assert!(first["email"].is_string());
        assert!(first.get("password_hash").is_none() && first.get("password_salt").is_none());
    }
}

#[test]
fn the_last_active_admin_stays() {
    let s = ServiceProcess::start_default();
    let admin = s.admin_token();
    let c = s.client();
    for upd in [
        json!({"role": "user", "current_password": ADMIN_PASSWORD}),
        json!({"status": "suspended", "current_password": ADMIN_PASSWORD}),
        json!({"status": "inactive", "current_password": ADMIN_PASSWORD}),
    ] {
        c.call_err(
            json!({"action": "update_user", "session_token": admin, "update_data": upd}),
            "last_admin",
        );
    }
    c.call_err(
        json!({"action": "delete_user", "session_token": admin, "password": ADMIN_PASSWORD}),
        "last_admin",
    );
    // With a second admin, the first may step down.
    s.register("second", "2nd-admin-pw");
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "second",
        "update_data": {"role": "admin", "current_password": ADMIN_PASSWORD}}),
    );
    c.call_ok(json!({"action": "update_user", "session_token": admin,
        "update_data": {"role": "user", "current_password": ADMIN_PASSWORD}}));
    let second = s.login("second", "2nd-admin-pw");
    c.call_err(json!({"action": "update_user", "session_token": second, "update_data": {"role": "moderator", "current_password": "2nd-admin-pw"}}),
        "last_admin");
}
