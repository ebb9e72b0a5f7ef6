//! The web UI in a real headless Chromium, driven over WebDriver, against a real
//! service and bridge serving the built UI. Screenshots go to
//! target/e2e-screenshots/. Nothing here skips: a missing browser, driver, axe-core
//! or wasm build fails the test with the reason.
//!
//! - [`journey`]: every flow, as a new user and as an admin, with axe-core on
//!   the states between screens.
//! - [`rules`]: the rules that keep admin actions from misfiring: no request
//!   from a select, modal dialogs, addresses, the unsaved-changes guard,
//!   not-allowed screens.
//! - [`look`]: themes, layout at three widths, and the connection banners.
//! - [`security`]: two-factor login, sessions, the audit log, the first
//!   admin's password.
//! - [`finish`]: every screen at three widths in both themes (the README's
//!   gallery), and the traps a review in real browsers found.
//! - [`checks`]: axe-core, the emulated colour scheme, sideways scrolling.
//! - [`parts`]: the signed-in screens' split-off code, fetched when needed.
//!
//! One browser at a time: the tests take [`Ui::start`]'s lock, since two
//! Chromiums on a small machine make each other's timeouts.

mod checks;
mod finish;
mod forward;
mod journey;
mod look;
mod onboarding;
mod parts;
mod passkeys;
mod rules;
mod security;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use users_tests::{free_port, workspace, BridgeProcess, ServiceOptions, ServiceProcess};

pub use checks::{axe, axe_both, overflow, prefer_dark};

static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A test that fails never closes its session, and chromedriver's
        // end leaves its browser running: end it by its own profile.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(browser_pattern(self.profile.path()))
            .status();
    }
}

/// What a browser started on `profile` has in its command line.
fn browser_pattern(profile: &std::path::Path) -> String {
    format!("user-data-dir={}", profile.display())
}

/// Whether a browser on `profile` still runs.
pub fn browser_runs(profile: &std::path::Path) -> bool {
    Command::new("pgrep")
        .arg("-f")
        .arg(browser_pattern(profile))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
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
        profile: tempfile::tempdir().unwrap(),
    }
}

/// A service, a bridge serving the built UI, and a browser on it.
/// A host name the browser resolves to 127.0.0.1: over http it is not a
/// secure context, as a LAN address would not be.
pub const INSECURE_HOST: &str = "insecure.test";
/// A domain whose every name the browser maps to loopback: a LAN of apps
/// behind one proxy, for forward authentication.
pub const LAN_DOMAIN: &str = "example.lan";

pub struct Ui {
    pub s: ServiceProcess,
    pub b: BridgeProcess,
    pub c: Client,
    _driver: Driver,
    _one: tokio::sync::MutexGuard<'static, ()>,
}

impl Ui {
    pub async fn start() -> Ui {
        Ui::start_with(ServiceOptions::default()).await
    }

    /// The same, with the service started with `opts` (and `--trusted-peer`).
    pub async fn start_with(opts: ServiceOptions) -> Ui {
        Ui::start_on(users_tests::free_port(), opts).await
    }

    /// The same, with the bridge on `port`.
    pub async fn start_on(port: u16, opts: ServiceOptions) -> Ui {
        Ui::start_full(port, opts, &[]).await
    }

    /// The same, with the bridge given `bridge_args` too.
    pub async fn start_full(port: u16, opts: ServiceOptions, bridge_args: &[&str]) -> Ui {
        let one = ONE_BROWSER.lock().await;
        let dist = workspace().join("web/dist");
        assert!(
            dist.join("index.html").is_file(),
            "the web UI is not built: run scripts/build-web (scripts/test does)"
        );
        let s = ServiceProcess::start(opts.arg(&["--trusted-peer", "127.0.0.1"]));
        // A short request timeout, so that a paused service fails requests soon.
        let b = BridgeProcess::start_at(
            port,
            &s.endpoint(),
            &[
                &[
                    "--web-root",
                    dist.to_str().unwrap(),
                    "--request-timeout",
                    "2s",
                    // A name the browser maps here, at which the page is not
                    // a secure context (http, and not localhost).
                    "--allowed-host",
                    INSECURE_HOST,
                ],
                bridge_args,
            ]
            .concat(),
        );
        let d = chromedriver();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         format!("--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1, MAP *.{LAN_DOMAIN} 127.0.0.1"),
                         format!("--user-data-dir={}", d.profile.path().display())]
            }),
        );
        let c = ClientBuilder::new(plain_http())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", d.port))
            .await
            .expect("a Chromium session");
        Ui {
            s,
            b,
            c,
            _driver: d,
            _one: one,
        }
    }

    /// The full address of `path` on the bridge.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.b.port)
    }

    /// Opens `path` and waits until the app is connected.
    pub async fn open(&self, path: &str) {
        self.c.goto(&self.url(path)).await.unwrap();
        // By its state: on a phone a connected pill is hidden.
        wait_for(&self.c, "#conn-state[data-conn='up']").await;
    }

    /// The path and query the browser shows.
    pub async fn here(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// How many `action` requests the bridge has relayed (from /metrics).
    pub fn requests(&self, action: &str) -> u64 {
        self.requests_with(action, "")
    }

    /// How many `action` requests got `outcome` (`success` or an error code).
    pub fn requests_with(&self, action: &str, outcome: &str) -> u64 {
        let (_, body) = users_tests::http_get(self.b.port, "/metrics").unwrap();
        let prefix = format!("users_bridge_requests_total{{action=\"{action}\",");
        let outcome = format!("outcome=\"{outcome}");
        body.lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(&outcome))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the service, so that its replies wait.
    pub fn pause_service(&self, paused: bool) {
        let pid = self.s.pid().expect("a running service").to_string();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(ok.success(), "kill {signal} {pid}");
    }

    /// The browser's profile directory, which names its processes.
    pub fn profile(&self) -> PathBuf {
        self._driver.profile.path().to_path_buf()
    }

    pub async fn close(self) {
        self.c.clone().close().await.unwrap();
    }
}

fn shots_dir() -> PathBuf {
    let d = workspace().join("target/e2e-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits until `cond` holds, failing with `what` after 15 s.
pub async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits until the element matching `css` contains `text`.
pub async fn wait_text(c: &Client, css: &str, text: &str) {
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

pub async fn wait_for(c: &Client, css: &str) -> Element {
    match c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(el) => el,
        Err(e) => {
            let page = c.source().await.unwrap_or_default();
            panic!("{css} never appeared: {e}; page:\n{page}")
        }
    }
}

pub async fn element(c: &Client, id: &str) -> Element {
    wait_for(c, &format!("#{id}")).await
}

pub async fn fill(c: &Client, id: &str, value: &str) {
    for tries in 1.. {
        let el = element(c, id).await;
        match el.clear().await {
            Err(e) if stale(&e) && tries < 5 => continue,
            other => other.unwrap(),
        }
        match el.send_keys(value).await {
            Err(e) if stale(&e) && tries < 5 => continue,
            other => return other.unwrap(),
        }
    }
}

pub async fn click(c: &Client, id: &str) {
    for tries in 1.. {
        match element(c, id).await.click().await {
            Err(e) if stale(&e) && tries < 5 => continue,
            other => return other.unwrap(),
        }
    }
}

/// Whether the element was replaced between finding and using it (a
/// screen that rendered again): found again, it is the one to use.
fn stale(e: &fantoccini::error::CmdError) -> bool {
    matches!(e, fantoccini::error::CmdError::Standard(w)
        if w.error == fantoccini::error::ErrorStatus::StaleElementReference)
}

/// The id of the focused element ("" for none or the body).
pub async fn focused(c: &Client) -> String {
    c.execute(
        "return document.activeElement ? document.activeElement.id : ''",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or("")
    .to_owned()
}

/// The `value` property of `#id` (what an input or select holds now).
pub async fn value(c: &Client, id: &str) -> String {
    element(c, id)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Answers the unsaved-changes question with Cancel, after checking it is that one.
pub async fn stay(c: &Client) {
    let question = c.get_alert_text().await.expect("a question before leaving");
    assert!(question.contains("unsaved changes"), "{question}");
    c.dismiss_alert().await.unwrap();
}

/// Presses Esc in the open dialog `id` and waits until it has closed.
pub async fn escape_dialog(c: &Client, id: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(&char::from(fantoccini::key::Key::Escape).to_string())
        .await
        .unwrap();
    let open = format!("#{id}[open]");
    until("the dialog to close", || async {
        c.find(Locator::Css(&open)).await.is_err()
    })
    .await;
}

/// Waits until the connection banner shows nothing.
pub async fn banner_clears(c: &Client) {
    until("the banner to clear", || async {
        c.find(Locator::Css("#connection-banner .notice"))
            .await
            .is_err()
    })
    .await;
}

/// From now on, records the page's uncaught errors (a panic in the wasm is one).
pub async fn watch_errors(c: &Client) {
    js(
        c,
        "window.__errors = [];
         addEventListener('error', e => __errors.push(String(e.message)));
         addEventListener('unhandledrejection', e => __errors.push(String(e.reason)));",
    )
    .await;
}

/// The uncaught errors since [`watch_errors`].
pub async fn errors(c: &Client) -> Value {
    js(c, "return window.__errors").await
}

/// Runs `script` (a function body) and returns its value.
pub async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

pub async fn login(c: &Client, user: &str, password: &str) {
    wait_for(c, "#login-form").await;
    fill(c, "login-username", user).await;
    fill(c, "login-password", password).await;
    click(c, "login-submit").await;
}

pub async fn logout(c: &Client) {
    click(c, "logout").await;
    wait_text(c, ".notice", "You have logged out.").await;
}

/// The connector to chromedriver: plain HTTP on loopback.
pub fn plain_http() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}
