//! The bridge serving the built web UI (web/dist): compressed copies, cache
//! headers, conditional requests, the app's routes, a real favicon, and the
//! CSP that lets only the UI's own scripts run.

use crate::bridge::service;
use users_tests::{http_request, workspace, BridgeProcess, HttpResponse, ServiceProcess};

fn dist() -> std::path::PathBuf {
    let dist = workspace().join("web/dist");
    assert!(
        dist.join("index.html").is_file(),
        "the built UI in web/dist (scripts/build-web)"
    );
    dist
}

fn bridge() -> (ServiceProcess, BridgeProcess) {
    let s = service();
    let b = BridgeProcess::start(&s.endpoint(), &["--web-root", dist().to_str().unwrap()]);
    (s, b)
}

/// The files in dist/ whose names start with `prefix` and end with `suffix`.
fn all_built(prefix: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dist())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// The one file in dist/ whose name starts with `prefix` and ends with `suffix`.
fn built(prefix: &str, suffix: &str) -> String {
    let names = all_built(prefix, suffix);
    assert_eq!(names.len(), 1, "{prefix}…{suffix}: {names:?}");
    names[0].clone()
}

/// What the browser downloads before it shows the first screen, gzip-compressed:
/// the app's main wasm. The signed-in screens come later, split off.
const FIRST_WASM_BUDGET: usize = 240_000;

#[test]
fn the_first_download_stays_within_its_budget_and_the_rest_is_split_off() {
    let main = built("users-web-", "_bg.wasm");
    let gz = std::fs::metadata(dist().join(format!("{main}.gz")))
        .unwrap()
        .len() as usize;
    assert!(
        gz <= FIRST_WASM_BUDGET,
        "{main}: {gz} bytes gzip-compressed, over the budget of {FIRST_WASM_BUDGET}"
    );
    // The account's screens, the Security page and the staff's screens, each
    // in a file of its own, and the module that fetches them, which the app's
    // JS imports by its hashed name.
    for part in ["split_account-", "split_security-", "split_admin-"] {
        assert_eq!(all_built(part, ".wasm").len(), 1, "{part}");
    }
    let loader = built("__wasm_split-", ".js");
    let js = std::fs::read_to_string(dist().join(built("users-web-", ".js"))).unwrap();
    assert!(
        js.contains(&format!("\"./{loader}\"")),
        "{loader} not imported"
    );
    let loads = std::fs::read_to_string(dist().join(&loader)).unwrap();
    for part in all_built("", ".wasm") {
        if !part.starts_with("users-web-") {
            assert!(
                loads.contains(&format!("\"./{part}\"")),
                "{part} never loaded"
            );
        }
    }
}

fn get(b: &BridgeProcess, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_request(b.port, "GET", path, headers).unwrap()
}

/// `body` decompressed by the `gzip` or `brotli` tool.
fn decompress(encoding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let tool = if encoding == "br" { "brotli" } else { "gzip" };
    let mut child = Command::new(tool)
        .args(["-d", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} (scripts/setup installs it): {e}"));
    // Written from a thread: the tool's output fills its pipe long before
    // its input is all read.
    let mut stdin = child.stdin.take().unwrap();
    let input = body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} -d failed");
    out.stdout
}

#[test]
fn hashed_assets_go_out_compressed_and_cached_for_good() {
    let (_s, b) = bridge();
    let assets = [
        all_built("", ".wasm"),
        all_built("", ".js"),
        all_built("", ".css"),
    ];
    assert!(assets.iter().all(|a| !a.is_empty()), "{assets:?}");
    for name in assets.concat() {
        let path = format!("/{name}");
        let plain = std::fs::read(dist().join(&path[1..])).unwrap();
        for (accept, encoding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
            let r = get(&b, &path, &[("Accept-Encoding", accept)]);
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.header("content-encoding"), Some(encoding), "{path}");
            assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{path}");
            assert_eq!(
                r.header("cache-control"),
                Some("public, max-age=31536000, immutable"),
                "{path}"
            );
            assert!(r.body.len() < plain.len(), "{path}: not smaller");
            assert_eq!(decompress(encoding, &r.body), plain, "{path} ({encoding})");
        }
        let r = get(&b, &path, &[]);
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.body, plain, "{path}");
    }
    let wasm = get(&b, &format!("/{}", built("users-web-", "_bg.wasm")), &[]);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
}

#[test]
fn the_page_and_its_routes_revalidate_and_answer_304() {
    let (_s, b) = bridge();
    for path in [
        "/",
        "/index.html",
        "/admin/users",
        "/admin/users/a%2Eb",
        "/login?next=%2F",
    ] {
        let r = get(&b, path, &[("Accept-Encoding", "gzip")]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{path}"
        );
        let tag = r.header("etag").expect("an ETag").to_owned();
        let again = get(
            &b,
            path,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
        );
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
    }
    // A hashed asset revalidates the same way, should a browser ask.
    let path = format!("/{}", built("style-", ".css"));
    let tag = get(&b, &path, &[]).header("etag").unwrap().to_owned();
    assert_eq!(get(&b, &path, &[("If-None-Match", &tag)]).status, 304);
    assert_eq!(
        get(&b, &path, &[("If-None-Match", "\"stale\"")]).status,
        200
    );
}

#[test]
fn a_missing_file_is_404_never_the_page_and_the_favicon_is_an_icon() {
    let (_s, b) = bridge();
    for path in [
        "/missing.js",
        "/users-web-0000000000000000_bg.wasm",
        "/admin/x.css",
    ] {
        let r = get(&b, path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("<html"),
            "{path}"
        );
    }
    let icon = get(&b, "/favicon.ico", &[]);
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/x-icon"));
    // An ICO file: reserved 0, type 1 (icon), at least one image.
    assert_eq!(&icon.body[..4], &[0, 0, 1, 0]);
    assert!(icon.body[4] >= 1);
}

#[test]
fn the_ui_is_served_with_no_inline_script_but_its_own() {
    let index = std::fs::read_to_string(dist().join("index.html")).unwrap();
    let (_s, b) = bridge();
    let r = get(&b, "/", &[]);
    let csp = r.header("content-security-policy").expect("a CSP header");
    let script_src = csp.split(';').find(|d| d.contains("script-src")).unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    // trunk's loader and the theme script are allowed by their hashes; the
    // browser tests load the UI under this policy.
    assert!(index.contains("<script type=\"module\">"), "{index}");
    assert_eq!(script_src.matches("'sha256-").count(), 2, "{csp}");
}
