//! Invitations and recovery links in the browser: an admin makes one, with
//! its link and QR code; the invitee makes their account at the link, and a
//! user who forgot their password chooses a new one.

use super::*;
use users_tests::ADMIN_PASSWORD;

#[tokio::test(flavor = "multi_thread")]
async fn a_recovery_link_from_an_admin_lets_a_user_choose_a_password() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("rita", "Secret-rt-2026");
    let before = ui.s.login("rita", "Secret-rt-2026");
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_text(&c, "#whoami", "admin").await;
    ui.open("/admin/users/rita").await;
    click(&c, "recovery-create").await;
    fill(&c, "recovery-password", ADMIN_PASSWORD).await;
    click(&c, "recovery-dialog-confirm").await;
    wait_for(&c, "#recovery-qr").await;
    let link = value(&c, "recovery-link").await;
    let prefix = ui.url("/reset/");
    assert!(link.starts_with(&prefix), "{link}");
    shot(&c, "27-recovery-link").await;
    logout(&c).await;

    c.goto(&link).await.unwrap();
    wait_for(&c, "#reset-form").await;
    assert_eq!(c.title().await.unwrap(), "Choose a new password · Users");
    fill(&c, "reset-password", "rita").await;
    fill(&c, "reset-confirm", "rita").await;
    click(&c, "reset-submit").await;
    wait_for(&c, "#reset-password[aria-invalid='true']").await;
    fill(&c, "reset-password", "Chosen-by-me-9").await;
    fill(&c, "reset-confirm", "Chosen-by-me-9").await;
    click(&c, "reset-submit").await;
    wait_text(&c, "#flash", "Your new password is set").await;
    login(&c, "rita", "Chosen-by-me-9").await;
    wait_text(&c, "#whoami", "rita").await;
    offered_a_passkey(&ui).await;
    // The sessions from before ended; the link works once.
    ui.s.client().call_err(
        json!({"action": "get_user", "session_token": before}),
        "session_invalid",
    );
    logout(&c).await;
    c.goto(&link).await.unwrap();
    wait_for(&c, "#reset-form").await;
    fill(&c, "reset-password", "Another-one-88").await;
    fill(&c, "reset-confirm", "Another-one-88").await;
    click(&c, "reset-submit").await;
    wait_text(&c, "#reset-form .notice", "does not work").await;
    ui.close().await;
}

/// After the first sign-in: the Security page, at adding a passkey.
async fn offered_a_passkey(ui: &Ui) {
    until("the Security page", || async {
        ui.here().await == "/account/security?add=passkey"
    })
    .await;
    until("the passkey's name field focused", || async {
        focused(&ui.c).await == "passkey-name"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_made_in_the_browser_makes_an_account_with_its_role() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_text(&c, "#whoami", "admin").await;
    click(&c, "nav-invitations").await;
    wait_for(&c, "#invites-none").await;
    element(&c, "invite-role")
        .await
        .select_by_value("moderator")
        .await
        .unwrap();
    fill(&c, "invite-note", "for Mo").await;
    fill(&c, "invite-password", ADMIN_PASSWORD).await;
    click(&c, "invite-create").await;
    wait_for(&c, "#invite-qr").await;
    let link = value(&c, "invite-link").await;
    assert!(link.starts_with(&ui.url("/invite/")), "{link}");
    wait_text(&c, "#invites-table", "for Mo").await;
    checks::axe(&c, "invitations").await;
    shot(&c, "28-invitations").await;
    logout(&c).await;

    c.goto(&link).await.unwrap();
    wait_for(&c, "#register-form").await;
    wait_text(&c, "h1", "You are invited").await;
    fill(&c, "reg-username", "moe").await;
    fill(&c, "reg-email", "mo@example.com").await;
    fill(&c, "reg-password", "Moderates-77").await;
    fill(&c, "reg-confirm", "Moderates-77").await;
    click(&c, "register-submit").await;
    wait_text(&c, "#flash", "add a passkey").await;
    login(&c, "moe", "Moderates-77").await;
    wait_text(&c, "#whoami", "moe").await;
    offered_a_passkey(&ui).await;
    // A moderator: the user list, not the invitations.
    wait_for(&c, "#nav-users").await;
    assert!(c
        .find(fantoccini::Locator::Id("nav-invitations"))
        .await
        .is_err());
    // Spent: the link makes no second account.
    logout(&c).await;
    c.goto(&link).await.unwrap();
    wait_for(&c, "#register-form").await;
    fill(&c, "reg-username", "moe2").await;
    fill(&c, "reg-email", "mo2@example.com").await;
    fill(&c, "reg-password", "Moderates-77").await;
    fill(&c, "reg-confirm", "Moderates-77").await;
    click(&c, "register-submit").await;
    wait_text(&c, "#register-form .notice", "does not work").await;
    ui.close().await;
}
