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
