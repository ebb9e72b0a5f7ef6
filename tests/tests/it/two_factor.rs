//! Two-factor login: setup, codes taken once, recovery codes, the throttle,
//! and turning it off, by the owner and by an admin.

use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use users_tests::{ServiceProcess, Zmq, ADMIN_PASSWORD};

/// The code for `secret` (base32) at `offset` steps from now.
pub fn code(secret: &str, offset: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).expect("base32");
    let totp = totp_rs::Builder::new()
        .with_secret(bytes)
        .build_noncompliant();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = (now as i64 + offset * 30) as u64;
    totp.generate(at).to_string()
}

fn login(name: &str, password: &str, extra: Value) -> Value {
    let mut credentials = json!({"username": name, "password": password});
    for (k, v) in extra.as_object().unwrap() {
        credentials[k] = v.clone();
    }
    json!({"action": "login", "credentials": credentials})
}

/// Turns two-factor login on for `token`'s account; returns the secret, the
/// recovery codes, and the code that turned it on (spent by that).
pub fn enable(c: &Zmq, token: &str, password: &str) -> (String, Vec<String>, String) {
    let setup = c.call_ok(json!({"action": "totp_setup", "session_token": token}));
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&secret),
        "{uri}"
    );
    assert!(
        setup["qr_svg"].as_str().unwrap().starts_with("<?xml"),
        "{setup}"
    );
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    c.call_err(
        json!({"action": "totp_enable", "session_token": token, "password": password,
            "code": wrong}),
        "invalid_credentials",
    );
    c.call_err(
        json!({"action": "totp_enable", "session_token": token, "password": "not-it-at-all",
            "code": code(&secret, 0)}),
        "wrong_password",
    );
    let used = code(&secret, 0);
    let on = c.call_ok(json!({"action": "totp_enable", "session_token": token,
        "password": password, "code": used}));
    let codes: Vec<String> = on["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    (secret, codes, used)
}

#[test]
fn two_factor_login_from_setup_to_recovery() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("tessa", "t3ss-pw-01");
    let token = s.login("tessa", "t3ss-pw-01");
    // Set up but not confirmed: login does not ask for it.
    c.call_ok(json!({"action": "totp_setup", "session_token": token}));
    s.login("tessa", "t3ss-pw-01");
    let other = s.login("tessa", "t3ss-pw-01");
    let (secret, codes, spent) = enable(&c, &token, "t3ss-pw-01");
    c.call_err(
        json!({"action": "get_user", "session_token": other}),
        "session_invalid",
    );
    assert_eq!(codes.len(), 10);
    let me = c.call_ok(json!({"action": "get_user", "session_token": token}));
    assert_eq!(me["user"]["two_factor"], true);
    assert!(
        !me.to_string().contains(&secret),
        "no reply but setup's carries the secret"
    );
    c.call_err(
        json!({"action": "totp_setup", "session_token": token}),
        "invalid_request",
    );

    // The right password alone gets totp_required; a wrong one stays
    // invalid_credentials, with or without a code.
    let r = c.call_err(login("tessa", "t3ss-pw-01", json!({})), "totp_required");
    assert!(r.get("session_token").is_none());
    c.call_err(
        login("tessa", "wrong-pw-1", json!({})),
        "invalid_credentials",
    );
    c.call_err(
        login(
            "tessa",
            "wrong-pw-1",
            json!({"totp_code": code(&secret, 0)}),
        ),
        "invalid_credentials",
    );
    // A code logs in once: the one enable took is spent already. The next
    // step's is taken now (one step of skew), and then no more.
    let r = c
        .call(login("tessa", "t3ss-pw-01", json!({"totp_code": spent})))
        .unwrap();
    assert_eq!(r["code"], "invalid_credentials", "enable took it: {r}");
    let next = code(&secret, 1);
    let ok = c.call_ok(login("tessa", "t3ss-pw-01", json!({"totp_code": next})));
    assert!(ok["session_token"].is_string());
    let r = c.call_err(
        login("tessa", "t3ss-pw-01", json!({"totp_code": next})),
        "invalid_credentials",
    );
    assert_eq!(r["field"], "totp_code", "{r}");

    // A recovery code works once, in any case.
    let upper = codes[0].to_uppercase();
    c.call_ok(login(
        "tessa",
        "t3ss-pw-01",
        json!({"recovery_code": upper}),
    ));
    c.call_err(
        login("tessa", "t3ss-pw-01", json!({"recovery_code": codes[0]})),
        "invalid_credentials",
    );

    // Turning it off takes the password and a code.
    c.call_err(
        json!({"action": "totp_disable", "session_token": token, "password": "t3ss-pw-01"}),
        "invalid_request",
    );
    c.call_err(
        json!({"action": "totp_disable", "session_token": token, "password": "nope-nope",
            "recovery_code": codes[1]}),
        "wrong_password",
    );
    c.call_ok(json!({"action": "totp_disable", "session_token": token,
        "password": "t3ss-pw-01", "recovery_code": codes[1]}));
    s.login("tessa", "t3ss-pw-01");
}

#[test]
fn wrong_codes_count_against_the_throttle() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("uwe", "uwe-pw-12");
    let token = s.login("uwe", "uwe-pw-12");
    let (secret, _, _) = enable(&c, &token, "uwe-pw-12");
    let wrong = |n: u32| {
        format!(
            "{:06}",
            (code(&secret, 0).parse::<u32>().unwrap() + n) % 1_000_000
        )
    };
    let codes: Vec<String> = (1..=8)
        .map(|n| {
            let r = c
                .call(login("uwe", "uwe-pw-12", json!({"totp_code": wrong(n)})))
                .unwrap();
            r["code"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(
        codes.iter().any(|c| c == "rate_limited"),
        "wrong codes are failures: {codes:?}"
    );
}

#[test]
fn an_admin_turns_off_a_users_two_factor_with_their_own_password() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("vera", "vera-pw-12");
    let token = s.login("vera", "vera-pw-12");
    enable(&c, &token, "vera-pw-12");
    let other = {
        s.register("walt", "walt-pw-12");
        s.login("walt", "walt-pw-12")
    };
    c.call_err(
        json!({"action": "totp_disable", "session_token": other, "username": "vera",
            "password": "walt-pw-12"}),
        "forbidden",
    );
    let admin = s.admin_token();
    c.call_err(
        json!({"action": "totp_disable", "session_token": admin, "username": "vera",
            "password": "not-the-admins"}),
        "wrong_password",
    );
    c.call_ok(
        json!({"action": "totp_disable", "session_token": admin, "username": "vera",
        "password": ADMIN_PASSWORD}),
    );
    s.login("vera", "vera-pw-12");
}

#[test]
fn totp_setup_is_limited_per_account() {
    let s = ServiceProcess::start_default();
    s.register("setter", "s3tter-pw-1");
    s.register("other", "0ther-pw-12");
    let token = s.login("setter", "s3tter-pw-1");
    let other = s.login("other", "0ther-pw-12");
    let setup = |t: &str| json!({"action": "totp_setup", "session_token": t});
    // At once, so that no token comes back while they are read.
    let replies = users_tests::pipelined(&s.endpoint(), &vec![setup(&token); 4]);
    let limited: Vec<_> = replies
        .iter()
        .filter(|r| r["code"] == "rate_limited")
        .collect();
    assert!(limited.len() >= 2, "a burst of 2 is allowed: {replies:?}");
    assert!(limited.iter().all(|r| r["retry_after"].as_u64() > Some(0)));
    // Another account has its own share.
    s.client().call_ok(setup(&other));
}

#[test]
fn a_role_that_must_use_two_factor_may_only_set_it_up_until_it_has() {
    let s = ServiceProcess::start(
        users_tests::ServiceOptions::default().arg(&["--require-two-factor", "moderator"]),
    );
    let c = s.client();
    s.register("molly", "m0lly-pw-12");
    s.register("ursula", "urs-pw-123");
    let admin = s.admin_token();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "molly",
        "update_data": {"role": "moderator", "current_password": ADMIN_PASSWORD}}),
    );
    let t = s.login("molly", "m0lly-pw-12");
    for req in [
        json!({"action": "list_users", "session_token": t}),
        json!({"action": "list_sessions", "session_token": t}),
        json!({"action": "audit_log", "session_token": t}),
        json!({"action": "get_user", "session_token": t, "username": "ursula"}),
        json!({"action": "update_user", "session_token": t, "update_data": {"city": "Oslo"}}),
    ] {
        let e = c.call_err(req.clone(), "two_factor_required");
        assert!(
            e["message"].as_str().unwrap().contains("totp_setup"),
            "{req}: {e}"
        );
    }
    c.call_ok(json!({"action": "get_user", "session_token": t}));
    c.call_ok(json!({"action": "session_status", "session_token": t}));
    enable(&c, &t, "m0lly-pw-12");
    c.call_ok(json!({"action": "list_sessions", "session_token": t}));
    c.call_ok(json!({"action": "get_user", "session_token": t, "username": "ursula"}));
    // Roles not named are as before.
    let u = s.login("ursula", "urs-pw-123");
    c.call_ok(json!({"action": "list_sessions", "session_token": u}));
}

#[test]
fn a_default_password_is_changed_before_the_required_second_factor_is_set_up() {
    let s = ServiceProcess::start(users_tests::ServiceOptions {
        admin_password: None,
        ..users_tests::ServiceOptions::default().arg(&["--require-two-factor", "admin"])
    });
    let c = s.client();
    let t = s.login("admin", "admin123");
    c.call_err(
        json!({"action": "totp_setup", "session_token": t}),
        "password_change_required",
    );
    c.call_ok(json!({"action": "update_user", "session_token": t,
        "update_data": {"password": "a-good-phrase-7", "current_password": "admin123"}}));
    c.call_err(
        json!({"action": "list_sessions", "session_token": t}),
        "two_factor_required",
    );
    enable(&c, &t, "a-good-phrase-7");
    c.call_ok(json!({"action": "list_sessions", "session_token": t}));
}
