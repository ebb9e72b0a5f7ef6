//! The rules that make admin actions safe and every screen addressable, each
//! tried the way a user would trip over it.

use super::*;
use fantoccini::key::Key;
use users_tests::ADMIN_PASSWORD;

/// The role the service holds for `user`.
fn role_of(ui: &Ui, user: &str) -> String {
    let t = ui.s.admin_token();
    let r =
        ui.s.client()
            .call_ok(json!({"action": "get_user", "session_token": t, "username": user}));
    r["user"]["role"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_changes_need_apply_and_a_confirmation() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("bob", "bobpass12");
    ui.open("/admin/users/bob").await;
    // Signed out: to sign-in, and back to the user's page after it.
    wait_for(&c, "#login-form").await;
    assert_eq!(ui.here().await, "/login?next=%2Fadmin%2Fusers%2Fbob");
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#access-form").await;
    assert_eq!(ui.here().await, "/admin/users/bob");

    // ArrowDown on the focused role select picks another role and sends nothing.
    let updates = ui.requests("update_user");
    let select = element(&c, "user-role").await;
    select
        .send_keys(&char::from(Key::Down).to_string())
        .await
        .unwrap();
    until("the select to move", || async {
        select.prop("value").await.unwrap().as_deref() == Some("moderator")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ui.requests("update_user"), updates, "a request was sent");
    assert_eq!(role_of(&ui, "bob"), "user");

    // Apply asks, naming the user and the change; Esc and Cancel change nothing
    // and give focus back to Apply.
    click(&c, "access-apply").await;
    wait_for(&c, "#access-dialog[open]").await;
    wait_text(&c, "#access-dialog-title", "Make bob a moderator?").await;
    assert_eq!(focused(&c).await, "access-password");
    escape_dialog(&c, "access-dialog").await;
    assert_eq!(focused(&c).await, "access-apply");
    // ...and the select shows the role the service has again.
    let undone = || async { select.prop("value").await.unwrap().as_deref() == Some("user") };
    until("the pick to be undone", undone).await;
    let down = char::from(Key::Down).to_string();
    select.send_keys(&down).await.unwrap();
    click(&c, "access-apply").await;
    wait_for(&c, "#access-dialog[open]").await;
    click(&c, "access-dialog-cancel").await;
    assert_eq!(focused(&c).await, "access-apply");
    until("the pick to be undone", undone).await;
    assert_eq!(ui.requests("update_user"), updates);
    assert_eq!(role_of(&ui, "bob"), "user");
    select.send_keys(&down).await.unwrap();
    // Confirmed with the admin's own password, it is applied.
    click(&c, "access-apply").await;
    wait_for(&c, "#access-dialog[open]").await;
    fill(&c, "access-password", ADMIN_PASSWORD).await;
    click(&c, "access-dialog-confirm").await;
    wait_text(&c, "#meta-role", "Moderator").await;
    assert_eq!(role_of(&ui, "bob"), "moderator");

    // Esc closes the delete dialog, and focus goes back to its button.
    click(&c, "delete-user").await;
    wait_for(&c, "#delete-user-dialog[open]").await;
    assert_eq!(focused(&c).await, "delete-user-name");
    escape_dialog(&c, "delete-user-dialog").await;
    assert_eq!(focused(&c).await, "delete-user");
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_lives_in_its_address() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    for i in 0..3 {
        ui.s.register(&format!("alina{i}"), "alinapass1");
    }
    ui.s.register("dot.user", "dotpass12");
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    click(&c, "nav-users").await;
    wait_text(&c, "#admin-range", "of 5").await;

    // A username with a dot: its page by a click, and again after a reload.
    wait_for(&c, "#row-dot\\.user a")
        .await
        .click()
        .await
        .unwrap();
    wait_text(&c, "#profile-meta", "dot.user").await;
    until("the address", || async {
        ui.here().await == "/admin/users/dot.user"
    })
    .await;
    c.refresh().await.unwrap();
    wait_text(&c, "#profile-meta", "dot.user@example.com").await;
    assert_eq!(c.title().await.unwrap(), "dot.user · Users");
    click(&c, "nav-users").await;
    wait_text(&c, "#admin-range", "of 5").await;

    // The search follows when typing pauses: not a query per keystroke.
    let lists = ui.requests("list_users");
    fill(&c, "admin-search", "alina").await;
    wait_text(&c, "#admin-range", "of 3").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = ui.requests("list_users") - lists;
    assert!(sent <= 2, "{sent} queries for one search");
    element(&c, "admin-role")
        .await
        .select_by_value("user")
        .await
        .unwrap();
    wait_for(&c, "th[aria-sort='ascending']").await;
    click(&c, "sort-created_at").await;
    wait_for(&c, "th[aria-sort='descending'] #sort-created_at").await;
    let with_sort = "/admin/users?q=alina&role=user&sort=created_at&order=desc";
    until("the address to hold the filters", || async {
        ui.here().await == with_sort
    })
    .await;

    // A reload keeps all of it.
    c.refresh().await.unwrap();
    wait_text(&c, "#admin-range", "of 3").await;
    assert_eq!(ui.here().await, with_sort);
    assert_eq!(value(&c, "admin-search").await, "alina");
    assert_eq!(value(&c, "admin-role").await, "user");
    // Back returns to the previous filters, Forward again to these, all on
    // the same page.
    js(&c, "window.samePage = true; return null;").await;
    c.back().await.unwrap();
    until("Back to the unsorted list", || async {
        ui.here().await == "/admin/users?q=alina&role=user"
    })
    .await;
    wait_for(&c, "#sort-username").await;
    assert!(c
        .find(Locator::Css("th[aria-sort='descending']"))
        .await
        .is_err());
    c.back().await.unwrap();
    until("Back to no role filter", || async {
        ui.here().await == "/admin/users?q=alina"
    })
    .await;
    until("the select to follow", || async {
        value(&c, "admin-role").await.is_empty()
    })
    .await;
    c.forward().await.unwrap();
    until("Forward to the role filter", || async {
        ui.here().await == "/admin/users?q=alina&role=user"
    })
    .await;
    assert_eq!(
        js(&c, "return window.samePage === true;").await,
        json!(true)
    );

    // A reply that comes after its screen has gone changes nothing, and the
    // app goes on working.
    watch_errors(&c).await;
    ui.pause_service(true);
    fill(&c, "admin-search", "zzz").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    click(&c, "nav-profile").await;
    wait_for(&c, "#profile-form").await;
    ui.pause_service(false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    click(&c, "nav-credentials").await;
    wait_for(&c, "#username-form").await;
    assert_eq!(errors(&c).await, json!([]));
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unsaved_edits_and_staff_screens_are_guarded() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("carol", "c4rol-pass1");
    ui.open("/login").await;
    login(&c, "carol", "c4rol-pass1").await;
    wait_for(&c, "#profile-form").await;
    // A step in the app's history, for Back to go to. Links inside the app
    // change the screen without loading the page again.
    js(&c, "window.samePage = true; return null;").await;
    click(&c, "nav-credentials").await;
    wait_for(&c, "#username-form").await;
    click(&c, "nav-profile").await;
    wait_for(&c, "#profile-form").await;
    assert_eq!(
        js(&c, "return window.samePage === true;").await,
        json!(true)
    );
    // A link to another screen shows it from the top.
    let scroll = "document.body.style.minHeight = '5000px'; window.scrollTo(0, 2000);
                  const before = window.scrollY;
                  document.getElementById('nav-security').click();
                  return [before, window.scrollY];";
    assert_eq!(js(&c, scroll).await, json!([2000, 0]));
    wait_for(&c, "#two-factor").await;
    js(&c, "document.body.style.minHeight = ''; return null;").await;
    click(&c, "nav-profile").await;
    wait_for(&c, "#profile-form").await;

    // Unsaved edits: leaving by a link asks; staying keeps the edit.
    fill(&c, "p-city", "Faro").await;
    wait_text(&c, "#profile-dirty", "Unsaved changes").await;
    click(&c, "nav-credentials").await;
    stay(&c).await;
    assert_eq!(ui.here().await, "/account/profile");
    assert_eq!(value(&c, "p-city").await, "Faro");
    // Closing the tab asks too (the browser shows its own question).
    let unload = "const e = new Event('beforeunload', {cancelable: true});
                  window.dispatchEvent(e); return e.defaultPrevented;";
    assert_eq!(js(&c, unload).await, json!(true));
    // Back asks too; staying puts the address back and keeps the edit.
    c.back().await.unwrap();
    stay(&c).await;
    until("the address to come back", || async {
        ui.here().await == "/account/profile"
    })
    .await;
    assert_eq!(value(&c, "p-city").await, "Faro");
    // Leaving anyway goes, and then nothing is held back.
    click(&c, "nav-credentials").await;
    c.accept_alert().await.unwrap();
    wait_for(&c, "#username-form").await;
    assert_eq!(js(&c, unload).await, json!(false));
    // Back to another screen, on the same page.
    c.back().await.unwrap();
    wait_for(&c, "#profile-form").await;
    assert_eq!(
        js(&c, "return window.samePage === true;").await,
        json!(true)
    );

    // A non-admin on an admin address sees "not allowed", and nothing is asked
    // of the service.
    let lists = ui.requests("list_users");
    ui.open("/admin/users?role=admin").await;
    wait_text(&c, "#not-allowed", "Not allowed").await;
    ui.open("/admin/users/admin").await;
    wait_text(&c, "#not-allowed", "Not allowed").await;
    assert_eq!(ui.requests("list_users"), lists);
    assert!(c.find(Locator::Id("nav-users")).await.is_err());
    // The bridge counts a request when its answer comes: give one time to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ui.requests_with("get_user", "forbidden"), 0);

    // `next` never leaves the app.
    logout(&c).await;
    ui.open("/login?next=https%3A%2F%2Fevil.example%2F").await;
    login(&c, "carol", "c4rol-pass1").await;
    wait_for(&c, "#profile-form").await;
    assert_eq!(ui.here().await, "/account/profile");
    ui.close().await;
}
