//! What keeps the UI finished: every screen at a phone's and a desktop's
//! widths, in both themes, checked for sideways scrolling, broken button
//! labels, axe-core findings and (on a phone) how far down the screen
//! starts; and the traps the browser review found, each tried as a user
//! would fall into it. The walk's screenshots are the README's gallery
//! (`scripts/screenshots` copies them to `docs/screenshots/`).

use super::*;
use fantoccini::key::Key;
use users_tests::ADMIN_PASSWORD;

/// The widths every screen is tried at: two phones and a desktop.
const WIDTHS: [u32; 3] = [320, 375, 1280];

/// The widths the gallery keeps.
const GALLERY: [u32; 2] = [375, 1280];

/// On a 375 px phone, the screen's title is at most this far from the top.
const PHONE_TITLE_TOP: f64 = 130.0;

/// The visible buttons whose short label (up to 24 characters) breaks over
/// two lines or more, as `id: label`.
async fn broken_labels(c: &Client) -> Value {
    js(
        c,
        "return [...document.querySelectorAll('button, .button')].filter(b => b.offsetParent !== null).flatMap(b => {
           const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
           const rects = []; let text = '';
           for (let n = walker.nextNode(); n; n = walker.nextNode()) {
             if (n.parentElement.closest('.visually-hidden') || !n.textContent.trim()) continue;
             text += n.textContent;
             const r = document.createRange(); r.selectNodeContents(n);
             rects.push(...r.getClientRects());
           }
           // A second line starts below the bottom of the first; a smaller
           // mark (a sort arrow) on the same line does not.
           const bottom = Math.min(...rects.map(r => r.bottom));
           const broken = rects.some(r => r.top >= bottom - 1);
           return text.trim().length <= 24 && broken ? [b.id + ': ' + text.trim()] : [];
         });",
    )
    .await
}

/// How far the screen's title is from the top of the page.
async fn title_top(c: &Client) -> f64 {
    js(
        c,
        "const t = document.querySelector('main .page-title');
         return t ? t.getBoundingClientRect().top + window.scrollY : 9999;",
    )
    .await
    .as_f64()
    .unwrap()
}

/// Checks the screen on show at every width in both themes, and keeps its
/// screenshots for the gallery as `<name>-<width>-<theme>.png`.
async fn check_screen(c: &Client, name: &str) {
    let gallery = workspace().join("target/e2e-screenshots/gallery");
    std::fs::create_dir_all(&gallery).unwrap();
    for width in WIDTHS {
        c.set_window_size(width, 800).await.unwrap();
        for dark in [false, true] {
            prefer_dark(c, dark).await;
            let theme = if dark { "dark" } else { "light" };
            let at = format!("{name} at {width} px, {theme}");
            // A layout settles within a frame or two of a resize.
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert_eq!(overflow(c).await, "", "{at} scrolls sideways");
            assert_eq!(
                broken_labels(c).await,
                json!([]),
                "{at}: a button label breaks"
            );
            if width == 375 {
                let top = title_top(c).await;
                assert!(
                    top <= PHONE_TITLE_TOP,
                    "{at}: the title starts {top} px down"
                );
            }
            axe(c, &at).await;
            if GALLERY.contains(&width) {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(gallery.join(format!("{name}-{width}-{theme}.png")), png).unwrap();
            }
        }
    }
    prefer_dark(c, false).await;
    c.set_window_size(1280, 900).await.unwrap();
}

/// Opens `path` and waits for `ready` (a CSS selector) before checking it.
async fn visit(ui: &Ui, path: &str, ready: &str, name: &str) {
    ui.open(path).await;
    wait_for(&ui.c, ready).await;
    check_screen(&ui.c, name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_screen_at_every_width_in_both_themes() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    for (name, full) in [("alice", "Alice Example"), ("bob", "Bob Builder")] {
        ui.s.register(name, "walk-pass-12");
        let t = ui.s.login(name, "walk-pass-12");
        ui.s.client()
            .call_ok(json!({"action": "update_user", "session_token": t,
            "update_data": {"full_name": full, "city": "Lisbon"}}));
    }
    // A long name and address, which must wrap or be cut, never widen a page.
    let long = "a_very_long_username_of_32_chars";
    ui.s.register(long, "longpass-12");

    // Signed out.
    visit(&ui, "/login", "#login-form", "login").await;
    visit(&ui, "/register", "#register-form", "register").await;
    visit(&ui, "/no/such/page", "#not-found", "not-found").await;
    visit(&ui, "/invite/made.up", "#register-form", "invite").await;
    visit(&ui, "/reset/made.up", "#reset-form", "reset").await;

    // A user.
    ui.open("/login").await;
    login(&c, "alice", "walk-pass-12").await;
    wait_for(&c, "#profile-form").await;
    visit(&ui, "/account/profile", "#profile-form", "profile").await;
    visit(&ui, "/account/credentials", "#password-form", "credentials").await;
    visit(&ui, "/account/security", "#sessions-table", "security").await;
    click(&c, "totp-start").await;
    wait_for(&c, "#totp-qr").await;
    // A six-digit code's field is as wide as a code, not as the form.
    let width = js(
        &c,
        "return document.getElementById('totp-code').getBoundingClientRect().width",
    )
    .await;
    assert!(
        width.as_f64().unwrap() < 160.0,
        "the code field is {width} px wide"
    );
    check_screen(&c, "security-two-factor-setup").await;
    visit(&ui, "/account/delete", "#delete-form", "delete-account").await;
    visit(&ui, "/admin/users", "#not-allowed", "not-allowed").await;
    logout(&c).await;

    // An admin.
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    visit(&ui, "/admin/users", "#row-alice", "admin-users").await;
    visit(
        &ui,
        "/admin/users?q=zzzz",
        "#users-clear",
        "admin-users-empty",
    )
    .await;
    visit(
        &ui,
        &format!("/admin/users/{long}"),
        "#access-form",
        "admin-user",
    )
    .await;
    visit(&ui, "/admin/audit", "#audit-table", "audit").await;
    visit(&ui, "/admin/invitations", "#invites-none", "invitations").await;
    // The phone's menu, open.
    c.set_window_size(375, 800).await.unwrap();
    ui.open("/admin/users").await;
    click(&c, "menu-toggle").await;
    wait_for(&c, "#header-menu.open #nav-audit").await;
    let toggle = element(&c, "menu-toggle").await;
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    axe(&c, "the phone's menu").await;
    // Esc closes it, and focus goes back to Menu.
    element(&c, "nav-audit")
        .await
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .unwrap();
    until("Esc to close the menu", || async {
        toggle.attr("aria-expanded").await.unwrap().as_deref() == Some("false")
    })
    .await;
    assert_eq!(focused(&c).await, "menu-toggle");
    click(&c, "menu-toggle").await;
    wait_for(&c, "#header-menu.open #nav-audit").await;
    click(&c, "nav-audit").await;
    wait_for(&c, "#audit-form").await;
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false"),
        "the menu stayed open"
    );
    c.set_window_size(1280, 900).await.unwrap();
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_keeps_the_role_dialog_and_the_choice() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    ui.s.register("dave", "dave-pass-12");
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    ui.open("/admin/users/dave").await;
    element(&c, "user-role")
        .await
        .select_by_value("admin")
        .await
        .unwrap();
    click(&c, "access-apply").await;
    wait_for(&c, "#access-dialog[open]").await;
    // A dialog that asks for a password starts on it.
    assert_eq!(focused(&c).await, "access-password");
    fill(&c, "access-password", "not-my-password").await;
    element(&c, "access-password")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    wait_text(&c, "#access-password-error", "Password is incorrect").await;
    wait_text(&c, "#access-dialog", "Nothing was changed.").await;
    wait_for(&c, "#access-dialog[open]").await;
    assert_eq!(value(&c, "user-role").await, "admin", "the choice was lost");
    assert_eq!(focused(&c).await, "access-password");
    assert_eq!(
        value(&c, "access-password").await,
        "",
        "the wrong password stayed"
    );
    // Typed again, it is applied.
    fill(&c, "access-password", ADMIN_PASSWORD).await;
    click(&c, "access-dialog-confirm").await;
    wait_text(&c, "#meta-role", "Admin").await;
    wait_text(&c, "#access-form .notice", "Updated dave.").await;
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_that_failed_while_the_service_was_away_recovers_by_itself() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    for i in 0..3 {
        ui.s.register(&format!("user{i}"), "userpass-12");
    }
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    ui.open("/admin/users").await;
    wait_text(&c, "#admin-range", "of 4").await;
    ui.pause_service(true);
    click(&c, "sort-email").await;
    // The old rows go, and one line says why, with Retry.
    wait_text(&c, "#users-whole", "Couldn't load users.").await;
    wait_for(&c, "#users-retry").await;
    let rows = c
        .find_all(Locator::Css("#user-table tbody tr[id^='row-']"))
        .await
        .unwrap();
    assert!(
        rows.is_empty(),
        "{} stale rows under the new sort",
        rows.len()
    );
    assert!(
        c.find(Locator::Id("admin-range")).await.is_err(),
        "the range stayed"
    );
    // The header says what is wrong: the service, not the connection.
    wait_text(&c, "#conn-state", "Service unavailable").await;
    ui.pause_service(false);
    // Nobody clicks anything: the list comes back by itself.
    wait_for(&c, "#row-user0").await;
    wait_text(&c, "#admin-range", "of 4").await;
    wait_text(&c, "#conn-state", "Connected").await;
    assert_eq!(ui.here().await, "/admin/users?sort=email");
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn focus_stays_on_the_audit_page_and_sessions_name_the_browser() {
    let ui = Ui::start().await;
    let c = ui.c.clone();
    // More events than a page holds.
    for i in 0..30 {
        ui.s.register(&format!("member{i:02}"), "memberpass-12");
    }
    ui.s.login("member00", "memberpass-12");
    ui.open("/login").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    // The sign-in's last event, its cookie's ticket, is in the log before
    // the newest page is taken.
    until("the sign-in cookie's ticket", || async {
        ui.requests_with("forward_ticket", "success") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ui.open("/admin/audit").await;
    wait_for(&c, "#audit-table tbody tr").await;
    let first_row = || async {
        wait_for(&c, "#audit-table tbody tr")
            .await
            .text()
            .await
            .unwrap()
    };
    let newest = first_row().await;
    for (button, shows_newest) in [
        ("audit-older", false),
        ("audit-newer", true),
        ("audit-apply", true),
    ] {
        // A second apart: the service limits how often one account reads
        // the log, and a refused read must not pass for a page.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        click(&c, button).await;
        until(&format!("focus on the count after {button}"), || async {
            focused(&c).await == "audit-count"
        })
        .await;
        // The count, not a failure in its place, and the page asked for.
        wait_text(&c, "#audit-count", "events match").await;
        assert_eq!(
            first_row().await == newest,
            shows_newest,
            "the page after {button}"
        );
    }
    // Filters live in the address: a reload keeps them. (A second apart:
    // the service limits how often one account reads the log.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fill(&c, "audit-user", "member00").await;
    click(&c, "audit-apply").await;
    until("the address to hold the filter", || async {
        ui.here().await == "/admin/audit?user=member00"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.refresh().await.unwrap();
    wait_for(&c, "#audit-table tbody tr").await;
    assert_eq!(value(&c, "audit-user").await, "member00");
    // "To" before "From" is said, not answered with nothing.
    js(
        &c,
        "for (const [id, v] of [['audit-since', '2026-12-02'], ['audit-until', '2026-12-01']]) {
              const d = document.getElementById(id); d.value = v;
              d.dispatchEvent(new Event('input', {bubbles: true})); } return null;",
    )
    .await;
    click(&c, "audit-apply").await;
    wait_text(&c, "#audit-until-error", "before").await;

    // Sessions: this browser by name, a program's as an unknown device.
    ui.open("/account/security").await;
    wait_for(&c, "#sessions-table tr.current").await;
    let current = wait_for(&c, "#sessions-table tr.current td").await;
    assert_eq!(current.text().await.unwrap(), "Chrome on Linux");
    let ua = current.attr("title").await.unwrap().unwrap_or_default();
    assert!(
        ua.starts_with("Mozilla/5.0"),
        "the full user agent is in the title: {ua}"
    );
    ui.s.login("admin", ADMIN_PASSWORD);
    ui.open("/account/security").await;
    wait_text(&c, "#sessions-table", "Unknown device").await;
    assert!(!c.source().await.unwrap().contains("A program (no browser)"));
    ui.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_fails_leaves_no_browser_behind() {
    let ui = Ui::start().await;
    ui.open("/login").await;
    let profile = ui.profile();
    assert!(
        browser_runs(&profile),
        "no browser on {}",
        profile.display()
    );
    // Dropped without close(), as when a test panics.
    drop(ui);
    until("the browser to end", || async { !browser_runs(&profile) }).await;
}
