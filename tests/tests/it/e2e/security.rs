//! The account-security screens in the browser: two-factor login from setup
//! to a recovery code, ending a session from another browser, the audit
//! log, the first admin's default password, and the strength hint.

use super::*;
use crate::two_factor::code;
use users_tests::ADMIN_PASSWORD;

/// Signs in and waits for the signed-in header.
async fn sign_in(c: &Client, user: &str, password: &str) {
    login(c, user, password).await;
    wait_text(c, "#whoami", user).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_factor_login_from_setup_to_a_recovery_code() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("gwen", "gw3n-pw-12");
    ui.open("/login").await;
    sign_in(&c, "gwen", "gw3n-pw-12").await;
    click(&c, "nav-security").await;
    click(&c, "totp-start").await;
    wait_for(&c, "#totp-qr").await;
    let grouped = element(&c, "totp-secret").await.text().await.unwrap();
    // Shown in groups of four, to read and type.
    assert!(
        grouped.starts_with(&format!("{} ", &grouped[..4])),
        "{grouped}"
    );
    let secret = grouped.replace(' ', "");
    assert_eq!(secret.len(), 32, "a 160-bit key in base32: {secret}");
    shot(&c, "20-two-factor-setup").await;
    // A wrong code is refused next to its field.
    fill(&c, "totp-code", "000000").await;
    fill(&c, "totp-password", "gw3n-pw-12").await;
    click(&c, "totp-enable").await;
    if code(&secret, 0) != "000000" {
        wait_text(&c, "#totp-code-error", "wrong").await;
    }
    fill(&c, "totp-code", &code(&secret, 0)).await;
    fill(&c, "totp-password", "gw3n-pw-12").await;
    click(&c, "totp-enable").await;
    wait_for(&c, "#recovery-codes li").await;
    let mut codes = Vec::new();
    for li in c
        .find_all(Locator::Css("#recovery-codes li"))
        .await
        .unwrap()
    {
        codes.push(li.text().await.unwrap());
    }
    assert_eq!(codes.len(), 10);
    let download = element(&c, "recovery-download")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(download.starts_with("data:text/plain"), "{download}");
    axe_both(&c, "recovery codes").await;
    shot(&c, "21-recovery-codes").await;
    // Only the codes show until they are saved.
    assert!(c.find(Locator::Id("totp-on")).await.is_err());
    click(&c, "recovery-done").await;
    wait_for(&c, "#totp-on").await;

    // Signing in now asks for a code.
    logout(&c).await;
    login(&c, "gwen", "gw3n-pw-12").await;
    wait_for(&c, "#login-code").await;
    assert_eq!(focused(&c).await, "login-code");
    shot(&c, "22-login-code").await;
    fill(&c, "login-code", &code(&secret, 1)).await;
    click(&c, "login-submit").await;
    wait_text(&c, "#whoami", "gwen").await;

    // ...or a recovery code instead, once.
    logout(&c).await;
    for (css, outcome) in [
        ("#whoami", "gwen"),
        ("#login-recovery-error", "used already"),
    ] {
        login(&c, "gwen", "gw3n-pw-12").await;
        click(&c, "login-use-recovery").await;
        fill(&c, "login-recovery", &codes[0]).await;
        click(&c, "login-submit").await;
        wait_text(&c, css, outcome).await;
        if css == "#whoami" {
            logout(&c).await;
        }
    }
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_ended_from_another_browser_goes_back_to_sign_in() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("hedy", "h3dy-pw-12");
    // The other browser: a second Chromium with a profile of its own.
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium",
               "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-dev-shm-usage", "--window-size=1000,800",
                        format!("--user-data-dir={}", profile.path().display())]}),
    );
    let other = ClientBuilder::new(plain_http())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", ui._driver.port))
        .await
        .expect("a second Chromium session");
    other.goto(&ui.url("/login")).await.unwrap();
    sign_in(&other, "hedy", "h3dy-pw-12").await;
    click(&other, "nav-profile").await;
    wait_for(&other, "#profile-form").await;

    ui.open("/login").await;
    sign_in(&c, "hedy", "h3dy-pw-12").await;
    click(&c, "nav-security").await;
    wait_for(&c, "#sessions-table tr.current").await;
    let rows = c
        .find_all(Locator::Css("#sessions-table tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "this browser and the other");
    shot(&c, "23-sessions").await;
    let end = wait_for(&c, "#sessions-table button[id^='revoke-']").await;
    end.click().await.unwrap();
    wait_text(&c, "#sessions .notice", "Signed out").await;
    // The other browser's page notices on its own, and goes to sign-in.
    wait_text(&other, ".notice", "Please log in again").await;
    wait_for(&other, "#login-form").await;
    other.close().await.unwrap();
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_reads_the_audit_log() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("ivan", "1van-pw-12");
    ui.s.client().call_err(
        json!({"action": "login", "credentials": {"username": "ivan", "password": "not-his-pw"}}),
        "invalid_credentials",
    );
    ui.open("/login").await;
    sign_in(&c, "admin", ADMIN_PASSWORD).await;
    click(&c, "nav-audit").await;
    wait_for(&c, "#audit-table tbody tr").await;
    element(&c, "audit-event")
        .await
        .select_by_value("login_failed")
        .await
        .unwrap();
    fill(&c, "audit-user", "ivan").await;
    click(&c, "audit-apply").await;
    wait_text(&c, "#audit-count", "1 event matches").await;
    wait_text(&c, "#audit-table tbody tr", "wrong password").await;
    shot(&c, "24-audit").await;
    // The user page ends the user's sessions.
    ui.s.login("ivan", "1van-pw-12");
    ui.open("/admin/users/ivan").await;
    click(&c, "end-sessions").await;
    wait_text(&c, "#danger-zone .notice", "Ended 1 session of ivan.").await;
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_admin_password_is_changed_first_and_hints_show_strength() {
    let ui = Ui::start_with(ServiceOptions {
        admin_password: None,
        ..ServiceOptions::default()
    })
    .await;
    let c = ui.c.clone();
    ui.open("/login").await;
    sign_in(&c, "admin", "admin123").await;
    wait_for(&c, "#first-password-why").await;
    // Nothing else shows until it is changed.
    ui.open("/admin/users").await;
    wait_for(&c, "#first-password-why").await;
    fill(&c, "cred-current", "admin123").await;
    fill(&c, "cred-new", "abcdef").await;
    wait_text(&c, "#cred-strength", "Weak").await;
    fill(&c, "cred-new", "a long and unusual phrase 9").await;
    wait_text(&c, "#cred-strength", "Strong").await;
    axe_both(&c, "first password").await;
    shot(&c, "25-first-password").await;
    fill(&c, "cred-confirm", "a long and unusual phrase 9").await;
    click(&c, "password-save").await;
    wait_for(&c, "#user-table").await;
    logout(&c).await;
    sign_in(&c, "admin", "a long and unusual phrase 9").await;
    wait_for(&c, "#profile-form").await;
    // The register form hints too.
    logout(&c).await;
    click(&c, "nav-register").await;
    fill(&c, "reg-username", "quinn").await;
    fill(&c, "reg-password", "quinn2026").await;
    wait_text(&c, "#reg-strength", "Weak").await;
    ui.close().await;
}
