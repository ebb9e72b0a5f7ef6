//! How the UI looks and holds up: the themes, the layout at a desktop's and a
//! phone's width, and what it says while the service is away.

use super::*;
use users_tests::ADMIN_PASSWORD;

async fn background(c: &Client) -> String {
    js(c, "return getComputedStyle(document.body).backgroundColor")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

const LIGHT_BG: &str = "rgb(245, 246, 248)";
const DARK_BG: &str = "rgb(18, 21, 28)";

/// The contrast ratio (WCAG 2) of the focused `#id`'s outline against the
/// page's and the card's background.
async fn focus_ring_contrast(c: &Client, id: &str) -> f64 {
    let script = format!(
        "const el = document.getElementById('{id}'); el.focus();
         const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
         const lum = ([r, g, b]) => {{
           const f = v => {{ v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }};
           return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
         }};
         const ratio = (a, b) => {{ const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); }};
         if (getComputedStyle(el).outlineStyle === 'none') return 0;
         const ring = rgb(getComputedStyle(el).outlineColor);
         const card = rgb(getComputedStyle(el.closest('.card') || document.body).backgroundColor);
         const page = rgb(getComputedStyle(document.body).backgroundColor);
         return Math.min(ratio(ring, card), ratio(ring, page));"
    );
    js(c, &script).await.as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn themes_layout_and_the_service_banner() {
    let mut ui = Ui::start().await;
    let c = ui.c.clone();

    // Dark mode follows prefers-color-scheme...
    prefer_dark(&c, true).await;
    ui.open("/login").await;
    until("the dark theme", || async {
        background(&c).await == DARK_BG
    })
    .await;
    shot(&c, "13-dark-login").await;
    prefer_dark(&c, false).await;
    until("the light theme", || async {
        background(&c).await == LIGHT_BG
    })
    .await;
    // Focus rings stand out 3:1 in both themes.
    for dark in [false, true] {
        prefer_dark(&c, dark).await;
        let ratio = focus_ring_contrast(&c, "login-username").await;
        assert!(
            ratio >= 3.0,
            "focus ring contrast {ratio:.2} (dark: {dark})"
        );
    }
    prefer_dark(&c, false).await;
    // ...until the toggle chooses, which is remembered. The page hears of
    // the preference's change by an event: wait for it.
    let toggle = element(&c, "theme-toggle").await;
    until("the toggle to show the light theme", || async {
        toggle.attr("aria-pressed").await.ok().flatten().as_deref() == Some("false")
    })
    .await;
    toggle.click().await.unwrap();
    until("the dark theme", || async {
        background(&c).await == DARK_BG
    })
    .await;
    c.refresh().await.unwrap();
    wait_for(&c, "#login-form").await;
    assert_eq!(background(&c).await, DARK_BG, "the choice was forgotten");
    assert_eq!(
        element(&c, "theme-toggle")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    axe(&c, "login (dark, chosen)").await;

    // Lots of users, some with long names, at desktop and phone widths.
    let long = "a_very_long_username_that_goes_on_and_on_x";
    ui.s.register(&long[..32], "longpass12");
    for i in 0..25 {
        ui.s.register(&format!("user{i:02}"), "userpass12");
    }
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    ui.open("/admin/users").await;
    wait_text(&c, "#admin-range", "of 27").await;
    shot(&c, "14-dark-admin").await;
    let tallest = js(
        &c,
        "return Math.max(...[...document.querySelectorAll('#user-table tbody tr')]
            .map(r => r.getBoundingClientRect().height))",
    )
    .await;
    assert!(
        tallest.as_f64().unwrap() <= 48.0,
        "a row is {tallest} px tall at 1280 px"
    );
    assert_eq!(
        overflow(&c).await,
        "",
        "the page scrolls sideways at 1280 px"
    );
    // Role and status show once each per row.
    let cells = js(
        &c,
        "return document.querySelector('#user-table tbody tr').querySelectorAll('.cell-role, .cell-status').length",
    )
    .await;
    assert_eq!(cells, json!(2));
    // The pager keeps focus on the link used.
    click(&c, "page-next").await;
    wait_text(&c, "#admin-range", "21–27 of 27").await;
    assert_eq!(focused(&c).await, "page-next");
    assert_eq!(ui.here().await, "/admin/users?page=2");
    click(&c, "page-prev").await;
    wait_text(&c, "#admin-range", "1–20 of 27").await;
    assert_eq!(focused(&c).await, "page-prev");
    for width in [375, 320] {
        c.set_window_size(width, 800).await.unwrap();
        for path in [
            "/admin/users",
            &format!("/admin/users/{}", &long[..32]),
            "/account/credentials",
        ] {
            ui.open(path).await;
            wait_for(&c, ".page-title").await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(
                overflow(&c).await,
                "",
                "{path} scrolls sideways at {width} px"
            );
            if width == 375 && path.starts_with("/admin/users/") {
                shot(&c, "09-phone-user").await;
            }
        }
    }
    c.set_window_size(1280, 900).await.unwrap();

    // A service that is away when the page opens shows at once.
    ui.s.stop();
    c.goto(&ui.url("/login")).await.unwrap();
    wait_text(&c, "#connection-banner", "The service is unavailable").await;
    // The header agrees: the connection is up, the service is not.
    wait_text(&c, "#conn-state", "Service unavailable").await;
    ui.s.restart_on_same_port();
    banner_clears(&c).await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;

    // A reload while the service does not answer waits for it, and keeps the
    // session (the first attempt fails at the bridge's request timeout).
    ui.pause_service(true);
    c.refresh().await.unwrap();
    wait_text(&c, "main", "Restoring your session").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ui.pause_service(false);
    wait_for(&c, "#profile-form").await;
    wait_text(&c, "#whoami", "admin").await;

    // The service away: the banner says so, and clears when it is back.
    ui.open("/account/profile").await;
    wait_for(&c, "#profile-form").await;
    ui.s.stop();
    click(&c, "profile-save").await;
    wait_text(&c, "#connection-banner", "The service is unavailable").await;
    ui.s.restart_on_same_port();
    banner_clears(&c).await;
    // Sessions live in the service's memory: the restart ended this one.
    click(&c, "profile-save").await;
    wait_text(&c, "#flash", "Your session has expired or was ended").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    wait_for(&c, "#profile-form").await;
    click(&c, "profile-save").await;
    wait_text(&c, "#profile-form .notice", "Profile saved.").await;
    ui.close().await;
}
