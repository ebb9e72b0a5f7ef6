//! The web UI in a real headless Chromium, driven over WebDriver, against a real
//! service and bridge serving the built UI. Screenshots of each screen go to
//! target/e2e-screenshots/. Nothing here skips: a missing browser, driver or
//! wasm build fails the test with the reason.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use users_tests::{
    free_port, workspace, BridgeProcess, ServiceOptions, ServiceProcess, ADMIN_PASSWORD,
};

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is required (scripts/setup installs Debian's chromium-driver)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,900",
                     format!("--user-data-dir={}", d._profile.path().display())]
        }),
    );
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("a Chromium session")
}

fn shots_dir() -> PathBuf {
    let d = workspace().join("target/e2e-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits until the element matching `css` contains `text`.
async fn wait_text(c: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(els) = c.find_all(Locator::Css(css)).await {
            for el in els {
                if let Ok(t) = el.text().await {
                    if t.contains(text) {
                        return;
                    }
                    last = t;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = c.source().await.unwrap_or_default();
    panic!("no {css} containing {text:?} (last seen {last:?}); page:\n{page}");
}

async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
}

async fn element(c: &Client, id: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} never appeared: {e}"))
}

async fn fill(c: &Client, id: &str, value: &str) {
    let el = element(c, id).await;
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

async fn click(c: &Client, id: &str) {
    element(c, id).await.click().await.unwrap();
}

async fn login(c: &Client, user: &str, password: &str) {
    wait_for(c, "#login-form").await;
    fill(c, "login-username", user).await;
    fill(c, "login-password", password).await;
    click(c, "login-submit").await;
}

async fn logout(c: &Client) {
    click(c, "logout").await;
    wait_text(c, ".notice", "You have logged out.").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_journey() {
    let dist = workspace().join("web/dist");
    assert!(
        dist.join("index.html").is_file(),
        "the web UI is not built: run scripts/build-web (scripts/test does)"
    );
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-peer", "127.0.0.1"]));
    let mut b = BridgeProcess::start(&s.endpoint(), &["--web-root", dist.to_str().unwrap()]);
    let d = chromedriver();
    let c = browser(&d).await;
    let url = format!("http://127.0.0.1:{}/", b.port);
    c.goto(&url).await.unwrap();
    wait_text(&c, "#conn-state", "Connected").await;
    shot(&c, "01-login").await;

    // 1. Register, then log in.
    click(&c, "tab-register").await;
    fill(&c, "reg-username", "e2e_user").await;
    fill(&c, "reg-email", "e2e@example.com").await;
    fill(&c, "reg-password", "firstpass1").await;
    fill(&c, "reg-confirm", "firstpass1").await;
    fill(&c, "reg-fullname", "End To End").await;
    shot(&c, "02-register").await;
    click(&c, "register-submit").await;
    wait_text(&c, ".notice", "Account e2e_user created").await;
    // From the keyboard only: the username is filled in already; the password
    // field takes the password and Enter submits the form.
    let pw = element(&c, "login-password").await;
    pw.send_keys(&format!(
        "firstpass1{}",
        char::from(fantoccini::key::Key::Enter)
    ))
    .await
    .unwrap();
    wait_for(&c, "#profile-form").await;
    wait_text(&c, "#whoami", "e2e_user").await;

    // 2. Edit the profile.
    fill(&c, "p-city", "Lisbon").await;
    fill(&c, "p-phone", "+351 555 0100").await;
    click(&c, "profile-save").await;
    wait_text(&c, ".notice", "Profile saved.").await;
    shot(&c, "03-profile").await;
    let t = s.login("e2e_user", "firstpass1");
    let r = s
        .client()
        .call_ok(json!({"action": "get_user", "session_token": t}));
    assert_eq!(r["user"]["city"], "Lisbon");

    // A reload keeps the session.
    c.refresh().await.unwrap();
    wait_for(&c, "#profile-form").await;
    wait_text(&c, "#whoami", "e2e_user").await;

    // 3. Username, email and password; log out; log in with the new password.
    click(&c, "tab-credentials").await;
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
    fill(&c, "cred-current", "firstpass1").await;
    click(&c, "password-save").await;
    wait_text(&c, "#password-form .notice", "Password changed.").await;
    shot(&c, "04-credentials").await;
    logout(&c).await;
    login(&c, "e2e_renamed", "secondpass2").await;
    wait_text(&c, "#whoami", "e2e_renamed").await;

    // A revoked session returns to the login screen with a message.
    let other = s.login("e2e_renamed", "secondpass2");
    s.client()
        .call_ok(json!({"action": "update_user", "session_token": other,
        "update_data": {"current_password": "secondpass2", "password": "thirdpass3"}}));
    click(&c, "profile-save").await;
    wait_text(&c, ".notice", "Your session has expired or was ended").await;
    wait_for(&c, "#login-form").await;

    // 6. A wrong password and a duplicate username each show their error.
    login(&c, "e2e_renamed", "not-the-password").await;
    wait_text(&c, "#login-form .notice", "Invalid username or password").await;
    shot(&c, "05-login-error").await;
    click(&c, "tab-register").await;
    fill(&c, "reg-username", "admin").await;
    fill(&c, "reg-email", "someone@example.com").await;
    fill(&c, "reg-password", "whatever1").await;
    fill(&c, "reg-confirm", "whatever1").await;
    click(&c, "register-submit").await;
    wait_text(&c, "#reg-username-error", "Username already exists").await;
    shot(&c, "06-register-duplicate").await;
    click(&c, "tab-login").await;

    // 4. An admin lists users and suspends one, who then cannot log in.
    login(&c, "admin", ADMIN_PASSWORD).await;
    click(&c, "tab-admin").await;
    wait_for(&c, "#row-e2e_renamed").await;
    fill(&c, "admin-search", "renamed").await;
    wait_text(&c, "#admin-range", "of 1").await;
    element(&c, "status-e2e_renamed")
        .await
        .select_by_value("suspended")
        .await
        .unwrap();
    wait_text(&c, ".notice", "Updated e2e_renamed.").await;
    wait_text(&c, "#row-e2e_renamed .cell-status", "suspended").await;
    shot(&c, "07-admin").await;
    s.client().call_err(json!({"action": "login", "credentials": {"username": "e2e_renamed", "password": "thirdpass3"}}),
        "invalid_credentials");
    logout(&c).await;
    login(&c, "e2e_renamed", "thirdpass3").await;
    wait_text(&c, "#login-form .notice", "Invalid username or password").await;
    login(&c, "admin", ADMIN_PASSWORD).await;
    click(&c, "tab-admin").await;
    wait_for(&c, "#status-e2e_renamed").await;
    element(&c, "status-e2e_renamed")
        .await
        .select_by_value("active")
        .await
        .unwrap();
    wait_text(&c, "#row-e2e_renamed .cell-status", "active").await;

    // An admin deletes another user, confirming with their own password.
    s.register("doomed", "doomedpw1");
    fill(&c, "admin-search", "doomed").await;
    click(&c, "delete-doomed").await;
    fill(&c, "admin-password", "not-my-password").await;
    click(&c, "delete-confirm-button").await;
    wait_text(&c, ".notice", "Password is incorrect").await;
    fill(&c, "admin-password", ADMIN_PASSWORD).await;
    click(&c, "delete-confirm-button").await;
    wait_text(&c, ".notice", "Deleted doomed.").await;
    wait_text(&c, "#admin-range", "No users match.").await;
    s.client().call_err(
        json!({"action": "login", "credentials": {"username": "doomed", "password": "doomedpw1"}}),
        "invalid_credentials",
    );
    logout(&c).await;

    // 5. Delete the account.
    login(&c, "e2e_renamed", "thirdpass3").await;
    click(&c, "tab-account").await;
    fill(&c, "del-password", "thirdpass3").await;
    click(&c, "del-confirm").await;
    shot(&c, "08-account").await;
    click(&c, "delete-submit").await;
    wait_text(&c, ".notice", "Your account has been deleted.").await;
    s.client().call_err(json!({"action": "login", "credentials": {"username": "e2e_renamed", "password": "thirdpass3"}}),
        "invalid_credentials");

    // Phone width.
    login(&c, "admin", ADMIN_PASSWORD).await;
    c.set_window_size(390, 844).await.unwrap();
    click(&c, "tab-admin").await;
    wait_for(&c, "#row-admin").await;
    shot(&c, "09-phone-admin").await;
    c.set_window_size(1280, 900).await.unwrap();

    // A lost connection shows, and comes back by itself.
    b.stop();
    wait_text(&c, "#connection-banner", "Connection to the server lost").await;
    shot(&c, "10-offline").await;
    b.restart();
    wait_text(&c, "#conn-state", "Connected").await;
    click(&c, "tab-profile").await;
    click(&c, "profile-save").await;
    wait_text(&c, ".notice", "Profile saved.").await;

    c.close().await.unwrap();
}
