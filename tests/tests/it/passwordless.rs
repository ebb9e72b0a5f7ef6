//! Accounts without a password, over ZeroMQ: an invitee makes one with a
//! passkey (invite_passkey_begin, then invite_accept without a password),
//! signs in with it, and confirms every change with a passkey sign-in made
//! just before, in place of the password; each such sign-in confirms once,
//! and only for its own account.

use crate::passkeys::{sign_in, Device};
use serde_json::{json, Value};
use users_tests::{ServiceProcess, Zmq, ADMIN_PASSWORD};

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("ok")
}

/// An invitation with `role`: its token.
fn invitation(c: &Zmq, admin: &str, role: &str) -> String {
    let made = c.call_ok(json!({"action": "invite_create", "session_token": admin,
        "current_password": ADMIN_PASSWORD, "role": role}));
    made["invite_token"].as_str().unwrap().to_owned()
}

/// invite_passkey_begin for `username`: the reply.
fn begin(c: &Zmq, token: &str, username: &str) -> Value {
    c.call(
        json!({"action": "invite_passkey_begin", "invite_token": token,
        "user_data": {"username": username, "email": format!("{username}@example.com")}}),
    )
    .unwrap()
}

/// invite_accept with `device`'s new passkey from `begun`, and no password.
fn accept(c: &Zmq, token: &str, username: &str, begun: &Value, device: &mut Device) -> Value {
    let credential = device.create(&begun["options"]);
    c.call(json!({"action": "invite_accept", "invite_token": token,
        "user_data": {"username": username, "email": format!("{username}@example.com")},
        "ceremony_id": begun["ceremony_id"], "credential": credential}))
        .unwrap()
}

/// A passkey sign-in of `device`'s `nth` passkey, made to confirm a change:
/// the members a request takes it in.
fn proof(c: &Zmq, device: &mut Device, nth: usize) -> Value {
    let begun = c.call_ok(json!({"action": "passkey_login_begin"}));
    let credential = device.get(&begun["options"], nth);
    json!({"ceremony_id": begun["ceremony_id"], "credential": credential})
}

/// A session from a passkey sign-in with `device`'s first passkey.
fn session_of(c: &Zmq, device: &mut Device) -> String {
    let signed = sign_in(c, device, 0);
    signed["session_token"]
        .as_str()
        .expect("a session")
        .to_owned()
}

/// `request` with the members of `extra` added.
fn with(mut request: Value, extra: &Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    request
}

/// Makes `username`'s account by an admin's invitation, with a new passkey
/// of `device` and no password.
pub fn invited_with_passkey(s: &ServiceProcess, username: &str, device: &mut Device) {
    let c = s.client();
    let token = invitation(&c, &s.admin_token(), "user");
    let begun = begin(&c, &token, username);
    let r = accept(&c, &token, username, &begun, device);
    assert_eq!(code(&r), "ok", "{r}");
}

#[test]
fn an_invitee_makes_an_account_with_a_passkey_and_confirms_with_it() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    let token = invitation(&c, &admin, "user");

    // Only with an open invitation, and for a name no account has.
    assert_eq!(code(&begin(&c, "not-a-token", "nina")), "invite_invalid");
    assert_eq!(code(&begin(&c, &token, "admin")), "username_taken");
    let begun = begin(&c, &token, "nina");
    let options = &begun["options"];
    assert_eq!(options["user"]["name"], "nina", "{options}");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );

    // Nor for an address the invitation is not for: checked before any
    // device makes a passkey.
    let bound = c.call_ok(json!({"action": "invite_create", "session_token": admin,
        "current_password": ADMIN_PASSWORD, "role": "user", "email": "nell@example.com"}));
    let bound = bound["invite_token"].as_str().unwrap();
    let r = begin(&c, bound, "nina");
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("email")),
        "{r}"
    );

    // The passkey is for the name, and the invitation, it was made for.
    let mut phone = Device::new();
    let other = invitation(&c, &admin, "user");
    let r = accept(&c, &other, "nina", &begun, &mut Device::new());
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("ceremony_id")),
        "{r}"
    );
    let r = accept(&c, &token, "nora", &begun, &mut phone);
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("username")),
        "{r}"
    );
    // No password and no passkey is no account.
    let r = c
        .call(json!({"action": "invite_accept", "invite_token": token,
            "user_data": {"username": "nina", "email": "nina@example.com"}}))
        .unwrap();
    assert_eq!(r["field"], "password", "{r}");
    let begun = begin(&c, &token, "nina");
    let r = accept(&c, &token, "nina", &begun, &mut phone);
    assert_eq!(code(&r), "ok", "{r}");
    // An invitation works once.
    assert_eq!(code(&begin(&c, &token, "nina2")), "invite_invalid");
    let mut again = Device::new();
    let r = accept(&c, &token, "nina", &begun, &mut again);
    assert_eq!(code(&r), "invite_invalid", "{r}");

    // No password signs in to it; its passkey does, as both factors.
    for password in ["Anything-2026x", "nina@example.com"] {
        let r = c
            .call(json!({"action": "login", "credentials": {"username": "nina", "password": password}}))
            .unwrap();
        assert_eq!(code(&r), "invalid_credentials", "{r}");
    }
    let signed = sign_in(&c, &mut phone, 1);
    assert_eq!(code(&signed), "ok", "{signed}");
    assert_eq!(signed["user"]["passwordless"], true, "{signed}");
    let nina = signed["session_token"].as_str().unwrap().to_owned();

    // Its last passkey stays: it is the only way in.
    let list = c.call_ok(json!({"action": "passkey_list", "session_token": nina}));
    let id = list["passkeys"][0]["id"].clone();
    let r = c
        .call(with(
            json!({"action": "passkey_delete", "session_token": nina, "passkey_id": id}),
            &proof(&c, &mut phone, 1),
        ))
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("passkey_id")),
        "{r}"
    );

    // A change that takes a confirmation: none given, another account's
    // passkey, a replayed sign-in, then its own.
    let set = json!({"action": "update_user", "session_token": nina,
        "update_data": {"password": "Chosen-pw-2026"}});
    let r = c.call(set.clone()).unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("current_password"))
    );
    let mut other = Device::new();
    s.register("olga", "Secret-ol-2026");
    let olga = s.login("olga", "Secret-ol-2026");
    crate::passkeys::add(&c, (&olga, "Secret-ol-2026"), &mut other, "Olga's");
    let r = c
        .call(with(set.clone(), &proof(&c, &mut other, 0)))
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("wrong_password", Some("credential")),
        "{r}"
    );
    let mine = proof(&c, &mut phone, 1);
    let r = c.call(with(set.clone(), &mine)).unwrap();
    assert_eq!(code(&r), "ok", "{r}");
    assert!(r["user"].get("passwordless").is_none(), "{r}");
    let r = c.call(with(set.clone(), &mine)).unwrap();
    assert_eq!(code(&r), "wrong_password", "a sign-in confirms once: {r}");
    // Confirmed with a passkey, the new password must still differ.
    let r = c.call(with(set, &proof(&c, &mut phone, 1))).unwrap();
    assert_eq!(r["field"], "password", "{r}");
    assert!(r["message"].as_str().unwrap().contains("differ"), "{r}");
    s.login("nina", "Chosen-pw-2026");

    // Deleting the account, with a passkey.
    let delete = json!({"action": "delete_user", "session_token": nina});
    c.call_ok(with(delete, &proof(&c, &mut phone, 1)));
    crate::audit::assert_recorded(
        &c,
        &admin,
        &[
            "invite_accepted",
            "passkey_added",
            "passkey_login",
            "account_deleted",
        ],
    );
}

#[test]
fn an_admin_without_a_password_confirms_as_an_admin_with_a_passkey() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    let token = invitation(&c, &admin, "admin");
    let mut key = Device::new();
    let begun = begin(&c, &token, "ada");
    assert_eq!(code(&accept(&c, &token, "ada", &begun, &mut key)), "ok");
    let ada = session_of(&c, &mut key);

    let invite = json!({"action": "invite_create", "session_token": ada, "role": "user"});
    let r = c.call(invite.clone()).unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("current_password"))
    );
    let made = c.call_ok(with(invite, &proof(&c, &mut key, 0)));
    assert!(made["invite_token"].is_string(), "{made}");

    s.register("umar", "Secret-um-2026");
    let link = json!({"action": "reset_link_create", "session_token": ada, "username": "umar"});
    let made = c.call_ok(with(link, &proof(&c, &mut key, 0)));
    assert!(made["reset_token"].is_string(), "{made}");
    let role = json!({"action": "update_user", "session_token": ada, "username": "umar",
        "update_data": {"role": "moderator"}});
    let r = c.call_ok(with(role, &proof(&c, &mut key, 0)));
    assert_eq!(r["user"]["role"], "moderator", "{r}");
    let everyone = json!({"action": "revoke_session", "session_token": ada, "everyone": true});
    c.call_ok(with(everyone, &proof(&c, &mut key, 0)));
    // The old admin's session was among everyone's.
    let r = c
        .call(json!({"action": "get_user", "session_token": admin}))
        .unwrap();
    assert_eq!(code(&r), "session_invalid", "{r}");
}

#[test]
fn a_passkey_made_for_an_invitation_is_refused_anywhere_else() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    let token = invitation(&c, &admin, "user");
    let begun = begin(&c, &token, "ivan");
    let mut device = Device::new();
    let credential = device.create(&begun["options"]);
    // Not a passkey_register_finish's ceremony, for any session.
    s.register("vera", "Secret-ve-2026");
    let vera = s.login("vera", "Secret-ve-2026");
    let r = c
        .call(
            json!({"action": "passkey_register_finish", "session_token": vera,
            "ceremony_id": begun["ceremony_id"], "credential": credential}),
        )
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("ceremony_id")),
        "{r}"
    );
    // Nor a sign-in's, as a confirmation.
    let r = c
        .call(json!({"action": "delete_user", "session_token": vera,
            "ceremony_id": begun["ceremony_id"], "credential": credential}))
        .unwrap();
    assert_eq!(code(&r), "wrong_password", "{r}");
    // Under --registration closed, no ceremony begins.
    let mut options = users_tests::ServiceOptions::default();
    options
        .args
        .extend(["--registration".into(), "closed".into()]);
    let closed = ServiceProcess::start(options);
    let r = begin(&closed.client(), &token, "ivan");
    assert_eq!(code(&r), "registration_closed", "{r}");
}

#[test]
fn a_spent_passkey_sign_in_replayed_counts_as_a_wrong_guess() {
    let s = ServiceProcess::start(
        users_tests::ServiceOptions::default().arg(&["--throttle-failures", "3"]),
    );
    let c = s.client();
    s.register("rhea", "Secret-rh-2026");
    let token = s.login("rhea", "Secret-rh-2026");
    let mut laptop = Device::new();
    crate::passkeys::add(&c, (&token, "Secret-rh-2026"), &mut laptop, "Laptop");
    let begin = json!({"action": "passkey_register_begin", "session_token": token});
    let begun = c.call_ok(json!({"action": "passkey_login_begin"}));
    // Each time a new signature of the device's, for the one ceremony (an
    // authenticator without a counter could even send the same one).
    let mut signed = || {
        let credential = laptop.get(&begun["options"], 0);
        json!({"ceremony_id": begun["ceremony_id"], "credential": credential})
    };
    c.call_ok(with(begin.clone(), &signed()));
    // Spent, it is refused as a wrong guess, not counted a success that
    // clears the guesses: past the free failures the session ends.
    for _ in 0..3 {
        let r = c.call(with(begin.clone(), &signed())).unwrap();
        assert_eq!(
            (code(&r), r["field"].as_str()),
            ("wrong_password", Some("credential")),
            "{r}"
        );
    }
    let _ = c.call(with(begin.clone(), &signed())).unwrap();
    let r = c
        .call(json!({"action": "get_user", "session_token": token}))
        .unwrap();
    assert_eq!(code(&r), "session_invalid", "{r}");
}

#[test]
fn a_moderator_does_not_see_who_has_no_password() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let mut phone = Device::new();
    invited_with_passkey(&s, "pia", &mut phone);
    s.register("moss", "Secret-xq-2026");
    let admin = s.admin_token();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "moss",
        "current_password": ADMIN_PASSWORD, "update_data": {"role": "moderator",
        "current_password": ADMIN_PASSWORD}}),
    );
    let mo = s.login("moss", "Secret-xq-2026");
    let seen = c.call_ok(json!({"action": "get_user", "session_token": mo, "username": "pia"}));
    assert!(seen["user"].get("passwordless").is_none(), "{seen}");
    let seen = c.call_ok(json!({"action": "get_user", "session_token": admin, "username": "pia"}));
    assert_eq!(seen["user"]["passwordless"], true, "{seen}");
}

#[test]
fn a_role_that_needs_two_factors_has_them_with_passkeys_alone() {
    // Users must sign in with two factors: a password alone is one, an
    // account without a password signs in with passkeys only, each two.
    let mut options = users_tests::ServiceOptions::default();
    options
        .args
        .extend(["--require-two-factor".into(), "user".into()]);
    let s = ServiceProcess::start(options);
    let c = s.client();
    let mut phone = Device::new();
    invited_with_passkey(&s, "tove", &mut phone);
    let tove = session_of(&c, &mut phone);
    c.call_ok(json!({"action": "list_sessions", "session_token": tove}));
    s.register("ulla", "Secret-ul-2026");
    let ulla = s.login("ulla", "Secret-ul-2026");
    let r = c
        .call(json!({"action": "list_sessions", "session_token": ulla}))
        .unwrap();
    assert_eq!(code(&r), "two_factor_required", "{r}");
}

#[test]
fn a_confirmation_names_only_the_accounts_passkeys_and_signs_no_one_in() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let mut phone = Device::new();
    invited_with_passkey(&s, "cora", &mut phone);
    let cora = session_of(&c, &mut phone);
    let begun = c.call_ok(json!({"action": "passkey_confirm_begin", "session_token": cora}));
    let options = &begun["options"];
    assert_eq!(
        options["allowCredentials"].as_array().map(Vec::len),
        Some(1),
        "{options}"
    );
    assert_eq!(options["userVerification"], "required", "{options}");
    let credential = phone.get(options, 0);
    let confirmed = json!({"ceremony_id": begun["ceremony_id"], "credential": credential});
    // It signs no one in.
    let r = c
        .call(with(json!({"action": "passkey_login_finish"}), &confirmed))
        .unwrap();
    assert_eq!(code(&r), "invalid_credentials", "{r}");
    // Nor does it confirm for another account's session.
    s.register("dora", "Secret-dr-2026");
    let dora = s.login("dora", "Secret-dr-2026");
    let r = c
        .call(with(
            json!({"action": "delete_user", "session_token": dora}),
            &confirmed,
        ))
        .unwrap();
    assert_eq!(code(&r), "wrong_password", "{r}");
    let r = c
        .call(json!({"action": "passkey_confirm_begin", "session_token": dora}))
        .unwrap();
    assert_eq!(
        code(&r),
        "invalid_request",
        "no passkey, no confirmation: {r}"
    );
    // It confirms its own account's change, once.
    let set = json!({"action": "update_user", "session_token": cora,
        "update_data": {"password": "Chosen-cr-2026"}});
    c.call_ok(with(set.clone(), &confirmed));
    let r = c.call(with(set, &confirmed)).unwrap();
    assert_eq!(code(&r), "wrong_password", "{r}");
}

#[test]
fn a_confirmation_signed_before_a_later_sign_in_is_refused() {
    // An authenticator's counter only rises: an assertion older than the
    // last one the account has seen is a copied authenticator's.
    let s = ServiceProcess::start_default();
    let c = s.client();
    let mut phone = Device::new();
    invited_with_passkey(&s, "iris", &mut phone);
    let iris = session_of(&c, &mut phone);
    let begun = c.call_ok(json!({"action": "passkey_confirm_begin", "session_token": iris}));
    let held = phone.get(&begun["options"], 0);
    assert_eq!(code(&sign_in(&c, &mut phone, 0)), "ok");
    let set = json!({"action": "update_user", "session_token": iris,
        "update_data": {"password": "Chosen-ir-2026"}});
    let late = json!({"ceremony_id": begun["ceremony_id"], "credential": held});
    let r = c.call(with(set, &late)).unwrap();
    assert_eq!(code(&r), "wrong_password", "{r}");
}
