//! The parts of the app split off for the signed-in screens (web/src/lazy.rs):
//! fetched when first needed, and a part that cannot be fetched says so and
//! offers a reload, without stopping the app.

use super::*;

/// The split-off wasm files this page has fetched so far.
pub async fn split_parts(c: &Client) -> Vec<String> {
    let names = js(
        c,
        "return performance.getEntriesByType('resource')
           .map(e => new URL(e.name).pathname.slice(1))
           .filter(n => n.endsWith('.wasm') && !n.startsWith('users-web-'))",
    )
    .await;
    serde_json::from_value(names).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_that_cannot_be_downloaded_says_so_and_a_reload_brings_it() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("nadia", "Secret-nd-2026");
    ui.open("/login").await;
    wait_for(&c, "#conn-state[data-conn='up']").await;
    watch_errors(&c).await;
    // The network fails for the account's part, as it would for a page
    // opened before the server got a newer build (whose parts have other
    // names).
    js(
        &c,
        "const f = window.fetch;
         window.fetch = (u, o) => String(u).includes('split_account-')
           ? Promise.reject(new TypeError('offline')) : f(u, o);",
    )
    .await;
    login(&c, "nadia", "Secret-nd-2026").await;
    wait_text(&c, ".load-failed", "Couldn't load this screen").await;
    // The app did not stop: no panic, and the header still answers.
    let theme = element(&c, "theme-toggle").await;
    let before = theme.attr("aria-pressed").await.unwrap();
    theme.click().await.unwrap();
    assert_ne!(theme.attr("aria-pressed").await.unwrap(), before);
    assert_eq!(errors(&c).await, json!([]));
    // Retry loads the page afresh, and the session resumes on it.
    click(&c, "screen-retry").await;
    wait_for(&c, "#profile-form").await;
    let parts = split_parts(&c).await;
    assert!(
        parts.iter().any(|p| p.starts_with("split_account-")),
        "{parts:?}"
    );
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_move_during_a_download_keeps_the_last_screen_and_a_shown_screen_gets_focus() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.open("/login").await;
    wait_for(&c, "#conn-state[data-conn='up']").await;
    // The staff's part is held back until the test lets it go.
    js(
        &c,
        "const f = window.fetch;
         const held = new Promise(r => { window.__release = r; });
         window.fetch = (u, o) => String(u).includes('split_admin-')
           ? held.then(() => f(u, o)) : f(u, o);",
    )
    .await;
    login(&c, "admin", users_tests::ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    click(&c, "nav-users").await;
    wait_text(&c, "main .card", "Loading…").await;
    // Moved on before the part came: the profile shows, and stays when the
    // download then finishes.
    click(&c, "nav-profile").await;
    wait_for(&c, "#profile-form").await;
    js(&c, "window.__release()").await;
    until("the staff's part to arrive", || async {
        split_parts(&c)
            .await
            .iter()
            .any(|p| p.starts_with("split_admin-"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ui.here().await, "/account/profile");
    wait_for(&c, "#profile-form").await;
    assert!(c.find(Locator::Css("#row-admin")).await.is_err());
    // The list, once shown, has focus on its title, as any new screen.
    click(&c, "nav-users").await;
    wait_for(&c, "#row-admin").await;
    until("focus on the list's title", || async {
        js(
            &c,
            "return document.activeElement.classList.contains('page-title')",
        )
        .await
            == json!(true)
    })
    .await;
    ui.close().await;
}
