//! Every flow of the UI, as a new user and then as an admin would go through
//! them, with axe-core on the states the screen walk ([`super::finish`])
//! does not reach: filled-in forms, errors, the confirmation dialog.

use super::parts::split_parts;
use super::*;
use fantoccini::key::Key;
use users_tests::ADMIN_PASSWORD;

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_journey() {
    let mut ui = Ui::start().await;
    let c = ui.c.clone();
    ui.open("/").await;
    // `/` signed out is the sign-in screen.
    wait_for(&c, "#login-form").await;
    assert_eq!(ui.here().await, "/login");
    assert_eq!(c.title().await.unwrap(), "Log in · Users");
    shot(&c, "01-login").await;

    // Register, then log in from the keyboard.
    click(&c, "nav-register").await;
    wait_for(&c, "#register-form").await;
    assert_eq!(ui.here().await, "/register");
    fill(&c, "reg-username", "e2e_user").await;
    fill(&c, "reg-email", "e2e@example.com").await;
    fill(&c, "reg-password", "firstpass1").await;
    fill(&c, "reg-confirm", "firstpass1").await;
    fill(&c, "reg-fullname", "End To End").await;
    axe_both(&c, "register").await;
    shot(&c, "02-register").await;
    click(&c, "register-submit").await;
    wait_text(&c, "#flash", "Account e2e_user created").await;
    assert_eq!(ui.here().await, "/login");
    // Signed out, the browser has fetched none of the signed-in screens' code.
    assert_eq!(split_parts(&c).await, Vec::<String>::new());
    // The username is filled in; the password field takes the password and
    // Enter submits the form.
    element(&c, "login-password")
        .await
        .send_keys(&format!("firstpass1{}", char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for(&c, "#profile-form").await;
    wait_text(&c, "#whoami", "e2e_user").await;
    assert_eq!(ui.here().await, "/account/profile");
    assert_eq!(c.title().await.unwrap(), "Profile · Users");
    let current = wait_for(&c, "#nav-profile[aria-current='page']").await;
    assert_eq!(current.text().await.unwrap(), "Profile");
    // The account's screens came with the first of them; the Security page
    // and the staff's screens did not.
    let parts = split_parts(&c).await;
    assert!(
        parts.iter().any(|p| p.starts_with("split_account-")),
        "{parts:?}"
    );
    assert!(
        !parts
            .iter()
            .any(|p| p.starts_with("split_admin-") || p.starts_with("split_security-")),
        "{parts:?}"
    );

    // The profile: the date of birth is a date input.
    fill(&c, "p-city", "Lisbon").await;
    fill(&c, "p-phone", "+351 555 0100").await;
    let dob = element(&c, "p-date_of_birth").await;
    assert_eq!(dob.attr("type").await.unwrap().as_deref(), Some("date"));
    js(
        &c,
        "const d = document.getElementById('p-date_of_birth');
         d.value = '1990-05-17'; d.dispatchEvent(new Event('input', {bubbles: true}));",
    )
    .await;
    click(&c, "profile-save").await;
    wait_text(&c, "#profile-form .notice", "Profile saved.").await;
    // Focus went to the outcome, not back to the page.
    assert_ne!(
        js(&c, "return document.activeElement === document.body").await,
        json!(true)
    );
    shot(&c, "03-profile").await;
    let t = ui.s.login("e2e_user", "firstpass1");
    let r =
        ui.s.client()
            .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Lisbon");
    assert_eq!(r["user"]["date_of_birth"], "1990-05-17");

    // A reload keeps the session and the screen.
    c.refresh().await.unwrap();
    wait_for(&c, "#profile-form").await;
    wait_text(&c, "#whoami", "e2e_user").await;
    assert_eq!(ui.here().await, "/account/profile");

    // Username, email and password; a wrong current password is tied to its field.
    click(&c, "nav-credentials").await;
    wait_for(&c, "#username-form").await;
    fill(&c, "cred-username", "e2e_renamed").await;
    click(&c, "username-save").await;
    wait_text(&c, "#username-form .notice", "Username changed.").await;
    fill(&c, "cred-email", "renamed@example.com").await;
    click(&c, "email-save").await;
    wait_text(&c, "#email-form .notice", "Email changed.").await;
    fill(&c, "cred-current", "wrong-current").await;
    fill(&c, "cred-new", "secondpass2").await;
    fill(&c, "cred-confirm", "secondpass2").await;
    click(&c, "password-save").await;
    wait_text(&c, "#cred-current-error", "Password is incorrect").await;
    let current = element(&c, "cred-current").await;
    assert_eq!(
        current.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        current.attr("aria-describedby").await.unwrap().as_deref(),
        Some("cred-current-error")
    );
    assert_eq!(focused(&c).await, "cred-current");
    // The Show button reveals the password, and hides it again.
    click(&c, "cred-current-show").await;
    assert_eq!(current.attr("type").await.unwrap().as_deref(), Some("text"));
    click(&c, "cred-current-show").await;
    assert_eq!(
        current.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    fill(&c, "cred-current", "firstpass1").await;
    click(&c, "password-save").await;
    wait_text(&c, "#password-form .notice", "Password changed.").await;
    axe_both(&c, "credentials").await;
    shot(&c, "04-credentials").await;
    logout(&c).await;
    assert_eq!(ui.here().await, "/login");
    login(&c, "e2e_renamed", "secondpass2").await;
    wait_text(&c, "#whoami", "e2e_renamed").await;

    // A session ended elsewhere returns to sign-in with a message, and back here after.
    let other = ui.s.login("e2e_renamed", "secondpass2");
    ui.s.client()
        .call_ok(json!({"action": "update_user", "session_token": other,
        "update_data": {"current_password": "secondpass2", "password": "thirdpass3"}}));
    click(&c, "profile-save").await;
    wait_text(&c, "#flash", "Your session has expired or was ended").await;
    wait_for(&c, "#login-form").await;
    assert_eq!(ui.here().await, "/login?next=%2Faccount%2Fprofile");

    // A wrong password and a duplicate username each show their error.
    login(&c, "e2e_renamed", "not-the-password").await;
    wait_text(&c, "#login-form .notice", "Invalid username or password").await;
    shot(&c, "05-login-error").await;
    click(&c, "nav-register").await;
    fill(&c, "reg-username", "admin").await;
    fill(&c, "reg-email", "someone@example.com").await;
    fill(&c, "reg-password", "whatever-7x").await;
    fill(&c, "reg-confirm", "whatever-7x").await;
    click(&c, "register-submit").await;
    wait_text(&c, "#reg-username-error", "Username already exists").await;
    shot(&c, "06-register-duplicate").await;

    // An admin finds the user, suspends them on their page; they cannot log in.
    click(&c, "nav-login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    click(&c, "nav-users").await;
    wait_for(&c, "#row-e2e_renamed").await;
    let parts = split_parts(&c).await;
    assert!(
        parts.iter().any(|p| p.starts_with("split_admin-")),
        "{parts:?}"
    );
    fill(&c, "admin-search", "renamed").await;
    wait_text(&c, "#admin-range", "of 1").await;
    shot(&c, "07-admin").await;
    wait_for(&c, "#row-e2e_renamed a")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#access-form").await;
    assert_eq!(ui.here().await, "/admin/users/e2e_renamed");
    assert_eq!(c.title().await.unwrap(), "e2e_renamed · Users");
    shot(&c, "11-user-page").await;
    element(&c, "user-status")
        .await
        .select_by_value("suspended")
        .await
        .unwrap();
    click(&c, "access-apply").await;
    wait_text(&c, "#access-dialog-title", "Suspend e2e_renamed?").await;
    fill(&c, "access-password", ADMIN_PASSWORD).await;
    axe_both(&c, "confirmation dialog").await;
    shot(&c, "12-dialog").await;
    click(&c, "access-dialog-confirm").await;
    wait_text(&c, "#access-form .notice", "Updated e2e_renamed.").await;
    wait_text(&c, "#meta-status", "Suspended").await;
    ui.s.client().call_err(json!({"action": "login", "credentials": {"username": "e2e_renamed", "password": "thirdpass3"}}),
        "invalid_credentials");
    // And back to active.
    element(&c, "user-status")
        .await
        .select_by_value("active")
        .await
        .unwrap();
    click(&c, "access-apply").await;
    wait_text(&c, "#access-dialog-title", "Reactivate e2e_renamed?").await;
    fill(&c, "access-password", ADMIN_PASSWORD).await;
    click(&c, "access-dialog-confirm").await;
    wait_text(&c, "#meta-status", "Active").await;

    // The admin edits the user's profile and sets a password.
    fill(&c, "p-city", "Porto").await;
    click(&c, "profile-save").await;
    wait_text(&c, "#profile-form .notice", "Profile saved.").await;
    fill(&c, "reset-password", "adminset4").await;
    fill(&c, "reset-confirm", "adminset4").await;
    fill(&c, "reset-own-password", ADMIN_PASSWORD).await;
    click(&c, "reset-save").await;
    wait_text(&c, "#reset-form .notice", "Password set for e2e_renamed.").await;
    let t = ui.s.login("e2e_renamed", "adminset4");
    let r =
        ui.s.client()
            .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Porto");

    // An admin deletes another user: their username typed, their own password.
    ui.s.register("doomed", "d00med-pw1");
    ui.open("/admin/users/doomed").await;
    click(&c, "delete-user").await;
    let confirm = element(&c, "delete-user-dialog-confirm").await;
    assert!(
        !confirm.is_enabled().await.unwrap(),
        "enabled before typing"
    );
    fill(&c, "delete-user-name", "doomed").await;
    fill(&c, "delete-user-password", "not-my-password").await;
    click(&c, "delete-user-dialog-confirm").await;
    wait_text(&c, "#delete-user-password-error", "Password is incorrect").await;
    fill(&c, "delete-user-password", ADMIN_PASSWORD).await;
    click(&c, "delete-user-dialog-confirm").await;
    wait_text(&c, "#flash", "Deleted doomed.").await;
    assert_eq!(ui.here().await, "/admin/users");
    ui.s.client().call_err(
        json!({"action": "login", "credentials": {"username": "doomed", "password": "d00med-pw1"}}),
        "invalid_credentials",
    );
    logout(&c).await;

    // Deleting one's own account asks in a modal dialog.
    // A password an admin set is changed before anything else.
    login(&c, "e2e_renamed", "adminset4").await;
    wait_for(&c, "#first-password-why").await;
    fill(&c, "cred-current", "adminset4").await;
    fill(&c, "cred-new", "my-own-choice-5").await;
    fill(&c, "cred-confirm", "my-own-choice-5").await;
    click(&c, "password-save").await;
    wait_for(&c, "#profile-form").await;
    click(&c, "nav-delete").await;
    fill(&c, "del-password", "my-own-choice-5").await;
    click(&c, "delete-submit").await;
    wait_for(&c, "#delete-self[open]").await;
    assert_eq!(focused(&c).await, "delete-self-cancel");
    shot(&c, "08-account").await;
    click(&c, "delete-self-confirm").await;
    wait_text(&c, "#flash", "Your account has been deleted.").await;
    assert_eq!(ui.here().await, "/login");
    ui.s.client().call_err(json!({"action": "login", "credentials": {"username": "e2e_renamed", "password": "adminset4"}}),
        "invalid_credentials");

    // The screens for lost addresses.
    ui.open("/no/such/screen").await;
    wait_text(&c, "#not-found", "Page not found").await;
    wait_for(&c, "#not-found a").await.click().await.unwrap();
    wait_for(&c, "#login-form").await;

    // A lost connection shows, and comes back by itself.
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    ui.b.stop();
    wait_text(&c, "#connection-banner", "Reconnecting…").await;
    // It stays through each attempt, rather than coming and going.
    for _ in 0..20 {
        let text = wait_for(&c, "#connection-banner")
            .await
            .text()
            .await
            .unwrap();
        assert!(text.contains("Reconnecting…"), "the banner went: {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(&c, "10-offline").await;
    ui.b.restart();
    wait_text(&c, "#conn-state", "Connected").await;
    click(&c, "profile-save").await;
    wait_text(&c, "#profile-form .notice", "Profile saved.").await;
    ui.close().await;
}
