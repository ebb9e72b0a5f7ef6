//! What the browser tests check on a page beyond its content: axe-core's
//! findings, the colour scheme it is shown in, and sideways scrolling.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use serde_json::{json, Value};
use users_tests::workspace;

use super::js;

/// The axe-core that scripts/setup installs (pinned there).
const AXE: &str = "target/tools/axe-core-4.14.1/axe.min.js";

/// A command of WebDriver's or of chromedriver's own, posted to
/// `/session/{id}/<path>` with a JSON body: a Chrome DevTools command
/// (`goog/cdp/execute`), a WebAuthn extension command (`webauthn/...`).
#[derive(Debug)]
pub struct Post(pub &'static str, pub Value);

impl WebDriverCompatibleCommand for Post {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or(""), self.0))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.1.to_string()))
    }
}

/// A Chrome DevTools command, sent through chromedriver's `goog/cdp/execute`.
fn cdp(command: Value) -> Post {
    Post("goog/cdp/execute", command)
}

/// Makes the page see `prefers-color-scheme: dark` (or light).
pub async fn prefer_dark(c: &Client, dark: bool) {
    let scheme = if dark { "dark" } else { "light" };
    c.issue_cmd(cdp(json!({
        "cmd": "Emulation.setEmulatedMedia",
        "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    })))
    .await
    .expect("Emulation.setEmulatedMedia");
}

/// Runs axe-core on the page and fails on any violation, listing them.
pub async fn axe(c: &Client, screen: &str) {
    let path = workspace().join(AXE);
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} missing ({e}): scripts/setup installs axe-core",
            path.display()
        )
    });
    c.execute(&format!("{source}\nreturn true;"), vec![])
        .await
        .expect("loading axe-core");
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
                .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))))
                .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
            vec![],
        )
        .await
        .expect("axe.run");
    let violations = result.as_array().cloned().unwrap_or_default();
    assert!(
        violations.is_empty(),
        "axe found {} violation(s) on {screen}:\n{}",
        violations.len(),
        serde_json::to_string_pretty(&violations).unwrap()
    );
}

/// axe-core on the page in the light theme, then in the dark one.
pub async fn axe_both(c: &Client, screen: &str) {
    for dark in [false, true] {
        prefer_dark(c, dark).await;
        axe(
            c,
            &format!("{screen} ({})", if dark { "dark" } else { "light" }),
        )
        .await;
    }
    prefer_dark(c, false).await;
}

/// Whatever sticks out past the right edge when the page scrolls sideways
/// (empty when it does not).
pub async fn overflow(c: &Client) -> String {
    js(
        c,
        "const w = document.documentElement.clientWidth;
         if (document.documentElement.scrollWidth <= w) return '';
         return [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 6).join(', ') || 'something';",
    )
    .await
    .as_str()
    .unwrap_or("?")
    .to_owned()
}
