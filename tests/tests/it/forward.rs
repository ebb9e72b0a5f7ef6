//! Forward authentication through a real bridge and service: the sign-in
//! cookie (`POST /auth/session`), what `/auth/verify` and `/auth/forward`
//! answer a proxy, roles per host, the ticket's limits (never a session
//! token; it ends with its session within a second), `POST /auth/logout`,
//! the audit log and `/metrics`.

use crate::audit::{audit, kinds};
use serde_json::json;
use std::time::{Duration, Instant};
use users_tests::{http_request, BridgeProcess, HttpResponse, ServiceProcess};

const RULES: [&str; 6] = [
    "--protect",
    "wiki.example.lan=user,admin",
    "--protect",
    "*.admin.example.lan=admin",
    "--trusted-proxy",
    "127.0.0.1",
];

fn start(extra: &[&str]) -> (ServiceProcess, BridgeProcess) {
    let s = crate::bridge::service();
    let b = BridgeProcess::start(&s.endpoint(), &[&RULES[..], extra].concat());
    (s, b)
}

/// The cookie `POST /auth/session` sets for `token`: its `name=value`,
/// and the whole `Set-Cookie`.
fn sign_in_cookie(b: &BridgeProcess, token: &str) -> (String, String) {
    let origin = format!("http://127.0.0.1:{}", b.port);
    let bearer = format!("Bearer {token}");
    let r = http_request(
        b.port,
        "POST",
        "/auth/session",
        &[("Origin", &origin), ("Authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(r.status, 204, "{r:?}");
    let set = r.header("set-cookie").expect("Set-Cookie").to_owned();
    let pair = set.split(';').next().unwrap().trim().to_owned();
    (pair, set)
}

/// `path` as a trusted proxy asks about `host`, with `cookie` if any.
fn ask(
    b: &BridgeProcess,
    path: &str,
    host: &str,
    cookie: Option<&str>,
    html: bool,
) -> HttpResponse {
    let mut h = vec![
        ("X-Forwarded-Host", host),
        ("X-Forwarded-Uri", "/page?x=1"),
        ("X-Forwarded-Proto", "https"),
    ];
    if let Some(c) = cookie {
        h.push(("Cookie", c));
    }
    if html {
        h.push(("Accept", "text/html,application/xhtml+xml"));
    }
    http_request(b.port, "GET", path, &h).unwrap()
}

#[test]
fn the_cookie_tells_a_proxy_who_is_signed_in_and_where_they_may_go() {
    let (s, b) = start(&["--public-url", "https://users.example.lan"]);
    s.register("ann", "Secret-an-2026");
    let token = s.login("ann", "Secret-an-2026");

    // Only a page of an allowed origin gets the cookie, with a session.
    let bearer = format!("Bearer {token}");
    let no_origin = http_request(
        b.port,
        "POST",
        "/auth/session",
        &[("Authorization", &bearer)],
    );
    assert_eq!(no_origin.unwrap().status, 403);
    let foreign = [
        ("Origin", "https://evil.example"),
        ("Authorization", bearer.as_str()),
    ];
    assert_eq!(
        http_request(b.port, "POST", "/auth/session", &foreign)
            .unwrap()
            .status,
        403
    );
    let origin = format!("http://127.0.0.1:{}", b.port);
    let no_token = http_request(b.port, "POST", "/auth/session", &[("Origin", &origin)]);
    assert_eq!(no_token.unwrap().status, 401);
    let (cookie, set) = sign_in_cookie(&b, &token);
    for part in [
        "users_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set.contains(part), "{set}");
    }
    // The UI's public address is an https one.
    assert!(set.contains("Secure"), "{set}");
    let ticket = cookie.trim_start_matches("users_session=");
    assert!(!ticket.is_empty() && ticket != token);
    // Sign-in goes back to a protected app, and nowhere else.
    let back = |rd: &str| {
        let path = format!("/auth/session?rd={rd}");
        let h = [
            ("Origin", origin.as_str()),
            ("Authorization", bearer.as_str()),
        ];
        http_request(b.port, "POST", &path, &h).unwrap()
    };
    let home = back("https%3A%2F%2Fwiki.example.lan%2Fdoc%3Fa%3D1");
    assert_eq!(home.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&home.body).unwrap();
    assert_eq!(body["redirect"], "https://wiki.example.lan/doc?a=1");
    for away in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fwiki.example.lan%2F",
        "javascript%3Aalert(1)",
    ] {
        let r = back(away);
        assert_eq!(r.status, 204, "{away}");
        assert!(r.body.is_empty());
    }

    // No sign-in: 401, or for a browser at /auth/forward, sign-in and back.
    assert_eq!(
        ask(&b, "/auth/verify", "wiki.example.lan", None, true).status,
        401
    );
    assert_eq!(
        ask(&b, "/auth/forward", "wiki.example.lan", None, false).status,
        401
    );
    let away = ask(&b, "/auth/forward", "wiki.example.lan", None, true);
    assert_eq!(away.status, 302);
    assert_eq!(
        away.header("location"),
        Some("https://users.example.lan/login?rd=https%3A%2F%2Fwiki.example.lan%2Fpage%3Fx%3D1")
    );
    let bad = ask(
        &b,
        "/auth/verify",
        "wiki.example.lan",
        Some("users_session=forged"),
        false,
    );
    assert_eq!(bad.status, 401);

    // Signed in: who, for the app; a host for admins only, or that no rule
    // names, is refused.
    for path in ["/auth/verify", "/auth/forward"] {
        let ok = ask(&b, path, "Wiki.Example.lan:443", Some(&cookie), true);
        assert_eq!(ok.status, 200, "{path}: {ok:?}");
        assert_eq!(ok.header("remote-user"), Some("ann"));
        assert_eq!(ok.header("remote-email"), Some("ann@example.com"));
        assert_eq!(ok.header("remote-role"), Some("user"));
        assert_eq!(ok.header("remote-groups"), Some("user"));
    }
    assert_eq!(
        ask(
            &b,
            "/auth/verify",
            "grafana.admin.example.lan",
            Some(&cookie),
            false
        )
        .status,
        403
    );
    assert_eq!(
        ask(&b, "/auth/verify", "other.lan", Some(&cookie), false).status,
        403
    );
    assert_eq!(ask(&b, "/auth/verify", "other.lan", None, true).status, 403);

    // The ticket is no session token, over ZeroMQ or the bridge's /ws.
    s.client().call_err(
        json!({"action": "get_user", "session_token": ticket}),
        "session_invalid",
    );

    // A logout elsewhere ends it within a second.
    s.client()
        .call_ok(json!({"action": "logout", "session_token": token}));
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut status = 200;
    while Instant::now() < deadline && status == 200 {
        status = ask(&b, "/auth/verify", "wiki.example.lan", Some(&cookie), false).status;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 401, "still signed in a second after the logout");

    let metrics = users_tests::http_get(b.port, "/metrics").unwrap().1;
    for result in ["allowed", "no_sign_in", "denied"] {
        let line = format!("users_bridge_forward_auth_total{{result=\"{result}\"}} ");
        let n: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "{result}: {metrics}");
    }
}

#[test]
fn roles_decide_hosts_and_the_cookie_logout_ends_the_session() {
    let (s, b) = start(&["--cookie-domain", ".example.lan"]);
    let admin = s.admin_token();
    let (cookie, set) = sign_in_cookie(&b, &admin);
    assert!(set.contains("Domain=example.lan"), "{set}");
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let ok = ask(
        &b,
        "/auth/verify",
        "grafana.admin.example.lan",
        Some(&cookie),
        false,
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("remote-role"), Some("admin"));
    assert_eq!(
        ask(&b, "/auth/verify", "wiki.example.lan", Some(&cookie), false).status,
        200
    );

    // The first verification for each host is in the audit log, once.
    ask(&b, "/auth/verify", "wiki.example.lan", Some(&cookie), false);
    let c = s.client();
    let page = audit(&c, &admin, json!({"event": "ticket_used"}), |p| {
        kinds(p).len() >= 2
    });
    assert_eq!(kinds(&page), ["ticket_used", "ticket_used"], "{page}");
    let issued = audit(&c, &admin, json!({"event": "ticket_issued"}), |p| {
        !kinds(p).is_empty()
    });
    assert_eq!(kinds(&issued), ["ticket_issued"]);

    // Logging out with the cookie alone ends the session and clears it.
    let out = http_request(b.port, "POST", "/auth/logout", &[("Cookie", &cookie)]).unwrap();
    assert_eq!(out.status, 204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.contains("users_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    c.call_err(
        json!({"action": "get_user", "session_token": admin}),
        "session_invalid",
    );
    assert_eq!(
        ask(&b, "/auth/verify", "wiki.example.lan", Some(&cookie), false).status,
        401
    );
}

#[test]
fn a_trusted_proxy_names_the_host_last_or_not_at_all() {
    let (s, b) = start(&[]);
    s.register("cleo", "Secret-cl-2026");
    let (cookie, _) = sign_in_cookie(&b, &s.login("cleo", "Secret-cl-2026"));
    let asked = |forwarded: Option<&str>| {
        let mut h = vec![("Cookie", cookie.as_str())];
        if let Some(f) = forwarded {
            h.push(("X-Forwarded-Host", f));
        }
        http_request(b.port, "GET", "/auth/verify", &h)
            .unwrap()
            .status
    };
    // The entry the proxy added is the last; a client's comes before it.
    assert_eq!(asked(Some("wiki.example.lan, other.lan")), 403);
    assert_eq!(asked(Some("other.lan, wiki.example.lan")), 200);
    assert_eq!(asked(Some("wiki.example.lan.")), 200);
    // A proxy that names no host asks about none.
    assert_eq!(asked(None), 403);
    // The bridge refuses what is no domain or address at start-up.
    for (flag, bad) in [("--cookie-domain", "."), ("--public-url", "users.lan")] {
        let out = std::process::Command::new(users_tests::bin_path("users-bridge"))
            .args([flag, bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {bad}");
    }
}

#[test]
fn forwarded_headers_count_only_from_a_trusted_proxy() {
    let s = crate::bridge::service();
    let b = BridgeProcess::start(&s.endpoint(), &RULES[..4]);
    s.register("boris", "Secret-xy-2026");
    let token = s.login("boris", "Secret-xy-2026");
    let (cookie, _) = sign_in_cookie(&b, &token);
    // The host asked about is the request's own (127.0.0.1), which no rule
    // names, whatever X-Forwarded-Host says.
    assert_eq!(
        ask(&b, "/auth/verify", "wiki.example.lan", Some(&cookie), false).status,
        403
    );
}

#[test]
fn a_ticket_ends_when_its_session_is_revoked_or_its_account_suspended() {
    let (s, b) = start(&[]);
    s.register("dora", "Secret-dr-2026");
    let first = s.login("dora", "Secret-dr-2026");
    let second = s.login("dora", "Secret-dr-2026");
    let (of_first, _) = sign_in_cookie(&b, &first);
    let (of_second, _) = sign_in_cookie(&b, &second);
    let status =
        |cookie: &str| ask(&b, "/auth/verify", "wiki.example.lan", Some(cookie), false).status;
    assert_eq!(status(&of_first), 200);
    assert_eq!(status(&of_second), 200);
    // Signed out everywhere else, from the second session: the first's
    // ticket ends (within the second the bridge may keep an answer).
    let c = s.client();
    c.call_ok(json!({"action": "revoke_session", "session_token": second, "all_others": true}));
    std::thread::sleep(crate::forward::FRESH_PLUS);
    assert_eq!(status(&of_first), 401);
    assert_eq!(status(&of_second), 200);
    // Suspended by an admin: every ticket of the account ends.
    let admin = s.admin_token();
    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "dora",
        "update_data": {"status": "suspended", "current_password": users_tests::ADMIN_PASSWORD}}),
    );
    std::thread::sleep(crate::forward::FRESH_PLUS);
    assert_eq!(status(&of_second), 401);
}

/// Past the second for which the bridge may keep an answer.
const FRESH_PLUS: Duration = Duration::from_millis(1100);
