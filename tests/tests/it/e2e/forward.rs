//! Forward authentication in Chromium: an app behind Debian's nginx (the
//! shipped example) at wiki.example.lan sends a visitor to the UI at
//! users.example.lan to sign in, and the visitor lands back on the app as
//! themselves; after Log out, the app asks for a sign-in again.

use super::*;
use crate::nginx_forward::{echo_app, run_example};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn an_app_behind_the_proxy_signs_in_through_the_ui_and_back() {
    let port = users_tests::free_port();
    let ui_host = format!("users.{LAN_DOMAIN}");
    let public = format!("http://{ui_host}:{port}");
    let ui = Ui::start_full(
        port,
        ServiceOptions::default(),
        &[
            "--allowed-host",
            &ui_host,
            "--protect",
            &format!("wiki.{LAN_DOMAIN}=user,admin"),
            "--cookie-domain",
            &format!(".{LAN_DOMAIN}"),
            "--public-url",
            &public,
            "--trusted-proxy",
            "127.0.0.1",
        ],
    )
    .await;
    let c = ui.c.clone();
    ui.s.register("wendy", "Secret-wd-2026");
    let stop = Arc::new(AtomicBool::new(false));
    let app = echo_app(Arc::clone(&stop));
    let dir = tempfile::tempdir().unwrap();
    let proxy = users_tests::free_port();
    let nginx = run_example(dir.path(), proxy, ui.b.port, app);
    let wiki = format!("http://wiki.{LAN_DOMAIN}:{proxy}/page?x=1");

    // Sent to sign in, and back.
    c.goto(&wiki).await.unwrap();
    wait_for(&c, "#login-form").await;
    assert!(
        ui.here().await.starts_with("/login?rd="),
        "{}",
        ui.here().await
    );
    login(&c, "wendy", "Secret-wd-2026").await;
    until("back on the app", || async {
        c.current_url().await.is_ok_and(|u| u.as_str() == wiki)
    })
    .await;
    let seen = c.source().await.unwrap().to_ascii_lowercase();
    assert!(seen.contains("remote-user: wendy"), "{seen}");

    // Log out in the UI: the app asks for a sign-in again.
    c.goto(&format!("{public}/account/profile")).await.unwrap();
    wait_text(&c, "#whoami", "wendy").await;
    logout(&c).await;
    c.goto(&wiki).await.unwrap();
    wait_for(&c, "#login-form").await;
    drop(nginx);
    stop.store(true, Ordering::Relaxed);
    ui.close().await;
}
