//! The sessions a user sees and ends, and the idle timeout.

use serde_json::json;
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess};

#[test]
fn a_user_sees_their_sessions_and_ends_one_from_another() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("xena", "xena-pw-12");
    let first = s.login("xena", "xena-pw-12");
    let second = s.login("xena", "xena-pw-12");
    let third = s.login("xena", "xena-pw-12");
    let list = c.call_ok(json!({"action": "list_sessions", "session_token": second}));
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{list}");
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    for s in sessions {
        for key in [
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "client_address",
        ] {
            assert!(s[key].is_string(), "{key} in {s}");
        }
        for token in [&first, &second, &third] {
            assert!(!s.to_string().contains(token.as_str()), "never the token");
        }
    }
    // The first session, seen from the second, is the oldest: the last listed.
    let oldest = sessions.last().unwrap()["id"].as_str().unwrap().to_owned();
    let r = c.call_ok(json!({"action": "revoke_session", "session_token": second,
        "session_id": oldest}));
    assert_eq!(r["revoked"], 1);
    c.call_err(
        json!({"action": "get_user", "session_token": first}),
        "session_invalid",
    );
    c.call_err(
        json!({"action": "revoke_session", "session_token": second, "session_id": oldest}),
        "invalid_request",
    );
    // Every other one.
    let r = c.call_ok(json!({"action": "revoke_session", "session_token": second,
        "all_others": true}));
    assert_eq!(r["revoked"], 1);
    c.call_err(
        json!({"action": "get_user", "session_token": third}),
        "session_invalid",
    );
    c.call_ok(json!({"action": "get_user", "session_token": second}));
    c.call_err(
        json!({"action": "revoke_session", "session_token": second}),
        "invalid_request",
    );
}

#[test]
fn only_an_admin_sees_and_ends_anothers_sessions() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("yuri", "yuri-pw-12");
    s.register("zora", "zora-pw-12");
    let y = s.login("yuri", "yuri-pw-12");
    let z = s.login("zora", "zora-pw-12");
    c.call_err(
        json!({"action": "list_sessions", "session_token": y, "username": "zora"}),
        "forbidden",
    );
    c.call_err(
        json!({"action": "revoke_session", "session_token": y, "username": "zora", "all": true}),
        "forbidden",
    );
    let admin = s.admin_token();
    let list = c.call_ok(json!({"action": "list_sessions", "session_token": admin,
        "username": "zora"}));
    assert_eq!(list["username"], "zora");
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    c.call_err(
        json!({"action": "revoke_session", "session_token": admin, "username": "zora"}),
        "invalid_request",
    );
    let r = c.call_ok(json!({"action": "revoke_session", "session_token": admin,
        "username": "zora", "all": true}));
    assert_eq!(r["revoked"], 1);
    c.call_err(
        json!({"action": "get_user", "session_token": z}),
        "session_invalid",
    );
    c.call_ok(json!({"action": "get_user", "session_token": y}));
}

#[test]
fn an_idle_session_ends_and_a_busy_one_does_not() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--session-idle-timeout", "3s"]));
    let c = s.client();
    s.register("abel", "abel-pw-12");
    let busy = s.login("abel", "abel-pw-12");
    let idle = s.login("abel", "abel-pw-12");
    for _ in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        c.call_ok(json!({"action": "get_user", "session_token": busy}));
    }
    c.call_err(
        json!({"action": "get_user", "session_token": idle}),
        "session_invalid",
    );
    let list = c.call_ok(json!({"action": "list_sessions", "session_token": busy}));
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_started_through_the_bridge_shows_the_browser() {
    use users_tests::ws;
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-peer", "127.0.0.1"]));
    let b = users_tests::BridgeProcess::start(&s.endpoint(), &[]);
    s.register("bert", "bert-pw-12");
    let agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
    let mut c = ws::connect_with(&b.ws_url(), &[("User-Agent", agent)])
        .await
        .expect("connect");
    let r = ws::call(
        &mut c,
        json!({"action": "login", "credentials": {"username": "bert", "password": "bert-pw-12"}}),
    )
    .await;
    let token = r["session_token"].as_str().unwrap().to_owned();
    let list = ws::call(
        &mut c,
        json!({"action": "list_sessions", "session_token": token}),
    )
    .await;
    let session = &list["sessions"][0];
    assert_eq!(session["user_agent"], agent, "{list}");
    assert_eq!(session["client_address"], "127.0.0.1", "{list}");
    assert_eq!(session["current"], true);
}

#[test]
fn checking_a_session_does_not_keep_it_from_its_idle_timeout() {
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--session-idle-timeout", "3s"]));
    let c = s.client();
    s.register("cleo", "cl3o-pw-12");
    let t = s.login("cleo", "cl3o-pw-12");
    let status = json!({"action": "session_status", "session_token": t});
    let r = c.call_ok(status.clone());
    assert!(r["expires_at"].is_string(), "{r}");
    let mut codes = Vec::new();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        let r = c.call(status.clone()).unwrap();
        codes.push(r["code"].as_str().unwrap_or("ok").to_owned());
    }
    assert_eq!(codes.first().map(String::as_str), Some("ok"));
    assert_eq!(
        codes.last().map(String::as_str),
        Some("session_invalid"),
        "{codes:?}"
    );
    c.call_err(
        json!({"action": "get_user", "session_token": t}),
        "session_invalid",
    );
}
