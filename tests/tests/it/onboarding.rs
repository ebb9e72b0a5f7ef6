//! Invitations and recovery links over ZeroMQ: single use, expiry, roles,
//! `--registration`, and both across two instances of one PostgreSQL store.

use crate::cluster::pair;
use serde_json::{json, Value};
use std::time::Duration;
use users_tests::{PgCluster, ServiceOptions, ServiceProcess, Zmq, ADMIN_PASSWORD};

fn invite(c: &Zmq, admin: &str, extra: Value) -> Value {
    let mut req = json!({"action": "invite_create", "session_token": admin,
        "current_password": ADMIN_PASSWORD, "role": "user"});
    for (k, v) in extra.as_object().unwrap() {
        req[k] = v.clone();
    }
    c.call(req).unwrap()
}

fn accept(c: &Zmq, token: &str, name: &str) -> Value {
    c.call(
        json!({"action": "invite_accept", "invite_token": token, "user_data": {
        "username": name, "email": format!("{name}@example.com"), "password": "Fresh-pw-2026"}}),
    )
    .unwrap()
}

fn token_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("ok")
}

#[test]
fn an_invitation_makes_one_account_with_its_role() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    let made = invite(
        &c,
        &admin,
        json!({"role": "moderator", "note": "for Mo", "expires_in": "72h"}),
    );
    let token = token_of(&made, "invite_token");
    let id = token_of(&made, "invite_id");
    assert!(token.len() >= 43, "at least 128 random bits: {token}");
    assert!(
        made["expires_at"].as_str().unwrap().ends_with('Z'),
        "{made}"
    );

    let list = c.call_ok(json!({"action": "invite_list", "session_token": admin}));
    let listed = &list["invitations"][0];
    assert_eq!(
        (
            listed["invite_id"].as_str(),
            listed["role"].as_str(),
            listed["note"].as_str()
        ),
        (Some(id.as_str()), Some("moderator"), Some("for Mo"))
    );
    assert_eq!(listed["created_by"], "admin");
    assert!(
        !list.to_string().contains(&token[17..]),
        "the token is never listed"
    );

    assert_eq!(code(&accept(&c, &token, "moe")), "ok");
    let mo = s.login("moe", "Fresh-pw-2026");
    let me = c.call_ok(json!({"action": "get_user", "session_token": mo}));
    assert_eq!(
        (me["user"]["role"].as_str(), me["user"]["status"].as_str()),
        (Some("moderator"), Some("active"))
    );
    // Once only, and gone from the list.
    assert_eq!(code(&accept(&c, &token, "moe2")), "invite_invalid");
    let list = c.call_ok(json!({"action": "invite_list", "session_token": admin}));
    assert_eq!(list["invitations"], json!([]));
    // With a prefix, the link and its QR code come too; only http(s) ones.
    let linked = invite(
        &c,
        &admin,
        json!({"link_prefix": "https://users.example/invite/"}),
    );
    let link = linked["link"].as_str().unwrap();
    assert_eq!(
        link,
        format!(
            "https://users.example/invite/{}",
            token_of(&linked, "invite_token")
        )
    );
    assert!(
        linked["qr_svg"].as_str().unwrap().starts_with("<?xml"),
        "{linked}"
    );
    let r = invite(&c, &admin, json!({"link_prefix": "javascript:alert(1)//"}));
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("link_prefix"))
    );
    // Nothing the service logs holds the token.
    assert!(!s.log_text().contains(&token[17..]));

    crate::audit::assert_recorded(
        &c,
        &admin,
        &["invite_created", "invite_accepted", "account_created"],
    );
}

#[test]
fn invitations_refuse_what_they_should() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("bob", "Secret-bb-2026");
    let bob = s.login("bob", "Secret-bb-2026");
    // Admins only, with their own password, and a lifetime of at most 7 days.
    assert_eq!(
        code(&invite(
            &c,
            &bob,
            json!({"current_password": "Secret-bb-2026"})
        )),
        "forbidden"
    );
    assert_eq!(
        code(&invite(
            &c,
            &admin,
            json!({"current_password": "wrong-one-1"})
        )),
        "wrong_password"
    );
    for bad in ["8d", "soon", "0s"] {
        let r = invite(&c, &admin, json!({"expires_in": bad}));
        assert_eq!(
            (code(&r), r["field"].as_str()),
            ("invalid_request", Some("expires_in")),
            "{bad}"
        );
    }
    assert_eq!(
        code(
            &c.call(json!({"action": "invite_list", "session_token": bob}))
                .unwrap()
        ),
        "forbidden"
    );

    // An invitation for an address takes only that address.
    let for_ann = token_of(
        &invite(&c, &admin, json!({"email": "Ann@Example.com"})),
        "invite_token",
    );
    let r = accept(&c, &for_ann, "someone");
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("email"))
    );
    assert_eq!(code(&accept(&c, &for_ann, "ann")), "ok");

    // Revoked, expired, made up: one answer.
    let revoked = invite(&c, &admin, json!({}));
    c.call_ok(json!({"action": "invite_revoke", "session_token": admin,
        "invite_id": revoked["invite_id"]}));
    assert_eq!(
        code(&accept(&c, &token_of(&revoked, "invite_token"), "rev")),
        "invite_invalid"
    );
    let r = c
        .call(json!({"action": "invite_revoke", "session_token": admin, "invite_id": "nope"}))
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("invite_id"))
    );
    let short = token_of(
        &invite(&c, &admin, json!({"expires_in": "1s"})),
        "invite_token",
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(code(&accept(&c, &short, "late")), "invite_invalid");
    let mut forged = token_of(&invite(&c, &admin, json!({})), "invite_token");
    // One character of the secret changed (to another, whatever it was).
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(code(&accept(&c, &forged, "forger")), "invite_invalid");
    assert_eq!(code(&accept(&c, "garbage", "garbage")), "invite_invalid");

    // An invitation works only while the admin who made it is one.
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "bob",
        "update_data": {"role": "admin", "current_password": ADMIN_PASSWORD}}),
    );
    let bob_admin = s.login("bob", "Secret-bb-2026");
    let from_bob = token_of(
        &invite(
            &c,
            &bob_admin,
            json!({"current_password": "Secret-bb-2026"}),
        ),
        "invite_token",
    );
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "bob",
        "update_data": {"role": "user", "current_password": ADMIN_PASSWORD}}),
    );
    assert_eq!(code(&accept(&c, &from_bob, "via-bob")), "invite_invalid");
    // Nor when promoted again: a demotion ends them for good.
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "bob",
        "update_data": {"role": "admin", "current_password": ADMIN_PASSWORD}}),
    );
    assert_eq!(code(&accept(&c, &from_bob, "via-bob")), "invite_invalid");
    // A recovery link works only while its admin is one too.
    let bob_admin = s.login("bob", "Secret-bb-2026");
    s.register("erin", "Secret-er-2026");
    let link = reset_link(
        &c,
        &bob_admin,
        "erin",
        json!({"current_password": "Secret-bb-2026"}),
    );
    let link = token_of(&link, "reset_token");
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "bob",
        "update_data": {"status": "suspended", "current_password": ADMIN_PASSWORD}}),
    );
    assert_eq!(code(&redeem(&c, &link, "Taken-over-77")), "reset_invalid");
    // Whether an email is taken is no one's business but admins'.
    let erin = s.login("erin", "Secret-er-2026");
    let r = invite(
        &c,
        &erin,
        json!({"email": "erin@example.com", "current_password": "Secret-er-2026"}),
    );
    assert_eq!(code(&r), "forbidden");
}

#[test]
fn registration_invite_and_closed() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--registration", "invite"]));
    let c = s.client();
    let admin = s.admin_token();
    assert_eq!(
        code(&s.register("anyone", "anyone-pw-1")),
        "registration_closed"
    );
    let by_admin = c
        .call(
            json!({"action": "create_user", "session_token": admin, "user_data": {
        "username": "made", "email": "made@example.com", "password": "made-pw-2026"}}),
        )
        .unwrap();
    assert_eq!(code(&by_admin), "ok");
    let made = s.login("made", "made-pw-2026");
    let by_user = c
        .call(
            json!({"action": "create_user", "session_token": made, "user_data": {
        "username": "other", "email": "other@example.com", "password": "other-pw-2026"}}),
        )
        .unwrap();
    assert_eq!(code(&by_user), "forbidden");
    let token = token_of(&invite(&c, &admin, json!({})), "invite_token");
    assert_eq!(code(&accept(&c, &token, "invited")), "ok");

    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--registration", "closed"]));
    let c = s.client();
    let admin = s.admin_token();
    assert_eq!(
        code(&s.register("anyone", "anyone-pw-1")),
        "registration_closed"
    );
    let token = token_of(&invite(&c, &admin, json!({})), "invite_token");
    assert_eq!(code(&accept(&c, &token, "invited")), "registration_closed");
}

fn reset_link(c: &Zmq, admin: &str, user: &str, extra: Value) -> Value {
    let mut req = json!({"action": "reset_link_create", "session_token": admin,
        "current_password": ADMIN_PASSWORD, "username": user});
    for (k, v) in extra.as_object().unwrap() {
        req[k] = v.clone();
    }
    c.call(req).unwrap()
}

fn redeem(c: &Zmq, token: &str, password: &str) -> Value {
    c.call(json!({"action": "reset_redeem", "reset_token": token, "password": password}))
        .unwrap()
}

#[test]
fn a_recovery_link_sets_a_password_once_and_ends_every_session() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("carol", "Secret-cw-2026");
    let before = s.login("carol", "Secret-cw-2026");
    let made = reset_link(&c, &admin, "carol", json!({"expires_in": "30m"}));
    assert_eq!(made["username"], "carol");
    let token = token_of(&made, "reset_token");

    // The policy applies, and a refused password does not spend the link.
    let weak = redeem(&c, &token, "carol");
    assert_eq!(
        (code(&weak), weak["field"].as_str()),
        ("weak_password", Some("password"))
    );
    c.call_ok(json!({"action": "reset_redeem", "reset_token": token, "password": "New-cw-pw-77"}));
    c.call_err(
        json!({"action": "get_user", "session_token": before}),
        "session_invalid",
    );
    s.login("carol", "New-cw-pw-77");
    c.call_err(
        json!({"action": "login", "credentials": {"username": "carol",
        "password": "Secret-cw-2026"}}),
        "invalid_credentials",
    );
    assert_eq!(code(&redeem(&c, &token, "Another-pw-8")), "reset_invalid");

    // A new link replaces the old; a password changed meanwhile spends it.
    let first = token_of(&reset_link(&c, &admin, "carol", json!({})), "reset_token");
    let second = token_of(&reset_link(&c, &admin, "carol", json!({})), "reset_token");
    assert_eq!(code(&redeem(&c, &first, "Another-pw-8")), "reset_invalid");
    let carol = s.login("carol", "New-cw-pw-77");
    c.call_ok(
        json!({"action": "update_user", "session_token": carol, "update_data": {
        "password": "Own-choice-99", "current_password": "New-cw-pw-77"}}),
    );
    assert_eq!(code(&redeem(&c, &second, "Another-pw-8")), "reset_invalid");
    let short = token_of(
        &reset_link(&c, &admin, "carol", json!({"expires_in": "1s"})),
        "reset_token",
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(code(&redeem(&c, &short, "Another-pw-8")), "reset_invalid");
    assert_eq!(
        code(&redeem(&c, "garbage", "Another-pw-8")),
        "reset_invalid"
    );
    assert!(!s.log_text().contains(&token[37..]));

    crate::audit::assert_recorded(&c, &admin, &["reset_link_created", "reset_link_used"]);
}

#[test]
fn recovery_links_are_for_admins_and_keep_two_factor_login() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("dave", "Secret-dv-2026");
    let dave = s.login("dave", "Secret-dv-2026");
    let r = reset_link(
        &c,
        &dave,
        "dave",
        json!({"current_password": "Secret-dv-2026"}),
    );
    assert_eq!(code(&r), "forbidden");
    assert_eq!(
        code(&reset_link(&c, &admin, "nobody", json!({}))),
        "not_found"
    );
    assert_eq!(
        code(&reset_link(
            &c,
            &admin,
            "dave",
            json!({"current_password": "nope-nope-1"})
        )),
        "wrong_password"
    );
    let r = reset_link(&c, &admin, "dave", json!({"expires_in": "25h"}));
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("expires_in"))
    );

    crate::two_factor::enable(&c, &dave, "Secret-dv-2026");
    let token = token_of(&reset_link(&c, &admin, "dave", json!({})), "reset_token");
    c.call_ok(json!({"action": "reset_redeem", "reset_token": token, "password": "New-dv-pw-77"}));
    c.call_err(
        json!({"action": "login", "credentials": {"username": "dave",
        "password": "New-dv-pw-77"}}),
        "totp_required",
    );
}

#[test]
fn invitations_and_links_work_across_instances() {
    let pg = PgCluster::start();
    let (a, b) = pair(&pg, &[]);
    let admin = a.admin_token();
    let made = invite(&a.client(), &admin, json!({"role": "moderator"}));
    // Made on one instance, used on the other at once, and then spent on both.
    let token = token_of(&made, "invite_token");
    assert_eq!(code(&accept(&b.client(), &token, "across")), "ok");
    assert_eq!(
        code(&accept(&a.client(), &token, "again")),
        "invite_invalid"
    );
    let link = token_of(
        &reset_link(&b.client(), &admin, "across", json!({})),
        "reset_token",
    );
    a.client().call_ok(
        json!({"action": "reset_redeem", "reset_token": link, "password": "Xross-pw-777"}),
    );
    assert_eq!(
        code(&redeem(&b.client(), &link, "Again-pw-777")),
        "reset_invalid"
    );
    b.login("across", "Xross-pw-777");
}
