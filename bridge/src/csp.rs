//! The Content-Security-Policy the bridge sends. Scripts may come from the
//! bridge itself, and the inline scripts of `index.html` (the remembered
//! theme, and the wasm loader the build writes) are allowed by their SHA-256,
//! not by `'unsafe-inline'`: a
//! script injected into the page some other way does not run, and the session
//! token in sessionStorage stays out of its reach.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy for a UI whose `index.html` is `index` (none without a UI).
pub(crate) fn policy(index: Option<&str>) -> String {
    let hashes: String = index
        .map(inline_scripts)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(s.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self'{hashes} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// The bodies of the page's inline scripts (those without `src`), exactly as
/// the browser hashes them.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") && !tag.contains(" src =") {
            found.push(&body_start[..close]);
        }
        rest = &body_start[close..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_loader_is_allowed_by_its_hash_and_nothing_else_inline() {
        let page = "<html><head><script src=\"/a.js\"></script>\
                    <script type=\"module\">import init from '/x.js';init();</script></head></html>";
        let p = policy(Some(page));
        let hash = STANDARD.encode(Sha256::digest(b"import init from '/x.js';init();"));
        assert!(
            p.contains(&format!("script-src 'self' 'sha256-{hash}'")),
            "{p}"
        );
        let script_src = p.split(';').find(|d| d.contains("script-src")).unwrap();
        assert!(!script_src.contains("unsafe-inline"), "{p}");
        assert_eq!(inline_scripts(page).len(), 1);
        assert!(!policy(None).contains("sha256"));
    }
}
