//! Passkeys in Chromium with its virtual authenticator, through the
//! WebDriver WebAuthn extension commands: add one on the Security page,
//! sign out, and sign in with it; rename and remove it.
//!
//! The page is opened at `http://localhost`: a passkey's relying party is
//! a name (the service's default, `localhost`), never an address.

use super::checks::Post;
use super::*;

/// A platform authenticator that keeps discoverable credentials and
/// verifies its user (a fingerprint that always matches); its id.
async fn virtual_authenticator(c: &Client) -> String {
    let added = c
        .issue_cmd(Post(
            "webauthn/authenticator",
            json!({"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true}),
        ))
        .await
        .expect("WebDriver's virtual authenticator");
    added.as_str().unwrap_or_default().to_owned()
}

/// The UI at `http://localhost:PORT`, which the service takes passkeys
/// from, in a browser with a virtual authenticator; and that origin.
async fn with_authenticator() -> (Ui, Client, String) {
    let port = users_tests::free_port();
    let origin = format!("http://localhost:{port}");
    let opts = ServiceOptions::default().arg(&["--webauthn-origin", &origin]);
    let ui = Ui::start_on(port, opts).await;
    let c = ui.c.clone();
    virtual_authenticator(&c).await;
    (ui, c, origin)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_added_in_the_browser_signs_in_without_a_password() {
    let (ui, c, origin) = with_authenticator().await;
    ui.s.register("petra", "Secret-pt-2026");
    c.goto(&format!("{origin}/login")).await.unwrap();
    wait_for(&c, "#conn-state[data-conn='up']").await;
    // The username field offers passkeys in its autofill.
    wait_for(&c, "#login-username[autocomplete='username webauthn']").await;
    login(&c, "petra", "Secret-pt-2026").await;
    wait_text(&c, "#whoami", "petra").await;
    click(&c, "nav-security").await;
    wait_for(&c, "#passkeys-none").await;
    // Named, and confirmed with the password; the wrong one is refused.
    fill(&c, "passkey-name", "Laptop").await;
    fill(&c, "passkey-password", "not-the-one-1").await;
    click(&c, "passkey-add").await;
    wait_text(&c, "#passkey-password-error", "incorrect").await;
    fill(&c, "passkey-password", "Secret-pt-2026").await;
    click(&c, "passkey-add").await;
    wait_text(&c, "#passkeys-list", "Laptop").await;
    wait_text(&c, "#passkey-form .notice", "added").await;
    checks::axe(&c, "security with a passkey").await;
    shot(&c, "26-passkeys").await;

    // The button. The virtual authenticator answers an autofill's request
    // (conditional mediation) at once, as if the passkey had been picked:
    // this page is told the browser offers none, so the button is what
    // signs in.
    js(
        &c,
        "PublicKeyCredential.isConditionalMediationAvailable = async () => false",
    )
    .await;
    // The first visit's sign-in page waited in the autofill too.
    let begun = ui.requests("passkey_login_begin");
    logout(&c).await;
    click(&c, "login-passkey").await;
    wait_text(&c, "#whoami", "petra").await;
    assert_eq!(ui.requests("passkey_login_begin"), begun + 1);

    // The username field's autofill, on a page loaded afresh: the sign-in
    // waiting there completes without a click, often before the sign-in
    // form could be seen, so only the outcome is waited for.
    logout(&c).await;
    c.goto(&format!("{origin}/login")).await.unwrap();
    wait_text(&c, "#whoami", "petra").await;
    assert_eq!(ui.requests("passkey_login_begin"), begun + 2);

    // Renamed, then removed with the password.
    click(&c, "nav-security").await;
    wait_text(&c, "#passkeys-list", "Laptop").await;
    let rename = wait_for(&c, "#passkeys-list button[id^='passkey-rename-']").await;
    rename.click().await.unwrap();
    let field = wait_for(&c, "#passkeys-list input").await;
    field.clear().await.unwrap();
    field.send_keys("Work laptop\n").await.unwrap();
    wait_text(&c, "#passkeys-list", "Work laptop").await;
    let remove = wait_for(&c, "#passkeys-list button[id^='passkey-remove-']").await;
    remove.click().await.unwrap();
    fill(&c, "passkey-remove-password", "Secret-pt-2026").await;
    click(&c, "passkey-remove-confirm").await;
    wait_for(&c, "#passkeys-none").await;
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_insecure_page_says_why_there_are_no_passkeys() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    let insecure = format!("http://{INSECURE_HOST}:{}", ui.b.port);
    c.goto(&format!("{insecure}/login")).await.unwrap();
    wait_for(&c, "#conn-state[data-conn='up']").await;
    wait_text(&c, "#passkey-unavailable", "HTTPS").await;
    assert!(c
        .find(fantoccini::Locator::Id("login-passkey"))
        .await
        .is_err());
    ui.s.register("sam", "Secret-sm-2026");
    login(&c, "sam", "Secret-sm-2026").await;
    wait_text(&c, "#whoami", "sam").await;
    click(&c, "nav-security").await;
    wait_text(&c, "#passkeys-unavailable", "HTTPS").await;
    assert!(c
        .find(fantoccini::Locator::Id("passkey-add"))
        .await
        .is_err());
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitee_who_chooses_a_passkey_has_no_password_and_confirms_with_it() {
    let (ui, c, origin) = with_authenticator().await;
    let made = ui.s.client().call_ok(json!({"action": "invite_create",
        "session_token": ui.s.admin_token(), "current_password": users_tests::ADMIN_PASSWORD, "role": "user"}));
    let token = made["invite_token"].as_str().unwrap();
    c.goto(&format!("{origin}/invite/{token}")).await.unwrap();
    wait_for(&c, "#conn-state[data-conn='up']").await;
    wait_text(&c, "h1", "You are invited").await;
    // The button signs in below, not the autofill.
    js(
        &c,
        "PublicKeyCredential.isConditionalMediationAvailable = async () => false",
    )
    .await;
    // A passkey instead of a password: the password fields go.
    click(&c, "reg-way-passkey").await;
    until("the password fields to go", || async {
        c.find(fantoccini::Locator::Id("reg-password"))
            .await
            .is_err()
    })
    .await;
    checks::axe(&c, "invitation with a passkey").await;
    fill(&c, "reg-username", "nika").await;
    fill(&c, "reg-email", "nika@example.com").await;
    click(&c, "register-submit").await;
    wait_text(&c, ".notice", "Sign in with it").await;
    click(&c, "login-passkey").await;
    wait_text(&c, "#whoami", "nika").await;

    // Its only passkey cannot be removed; another is added in two presses,
    // the first confirming with the passkey it has.
    click(&c, "nav-security").await;
    wait_for(&c, "#passkeys-last").await;
    // Nor is there a password to add a code to.
    wait_text(&c, "#totp-passkeys-only", "no password").await;
    assert!(c
        .find(fantoccini::Locator::Css(
            "#passkeys-list [id^='passkey-remove-']"
        ))
        .await
        .is_err());
    wait_text(&c, "#passkey-password", "passkey").await;
    fill(&c, "passkey-name", "Second").await;
    click(&c, "passkey-add").await;
    wait_text(&c, "#passkey-form .notice", "Confirmed").await;
    wait_text(&c, "#passkey-add", "Make the passkey").await;
    // This virtual device holds the account's passkey already.
    click(&c, "passkey-add").await;
    wait_text(&c, "#passkey-form .notice", "already").await;

    // No password to type: a change is confirmed with the passkey.
    click(&c, "nav-credentials").await;
    wait_text(&c, "#cred-current", "passkey").await;
    wait_text(&c, "#password-save", "Set a password").await;
    fill(&c, "cred-new", "Chosen-nk-2026").await;
    fill(&c, "cred-confirm", "Chosen-nk-2026").await;
    click(&c, "password-save").await;
    wait_text(&c, "#password-form .notice", "Password changed").await;
    // Now it has one, which the form asks for from here on.
    wait_for(&c, "input#cred-current").await;
    logout(&c).await;
    login(&c, "nika", "Chosen-nk-2026").await;
    wait_text(&c, "#whoami", "nika").await;
    ui.close().await;
}
