use super::*;

/// A web root in a fresh temp directory, removed on drop.
struct Root(std::path::PathBuf);

impl Root {
    fn new(files: &[(&str, &[u8])]) -> Root {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("assets-test-{}-{n}", std::process::id()));
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        Root(dir)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const WASM: &str = "users-web-0123456789abcdef_bg.wasm";

fn site() -> (Root, Assets) {
    let root = Root::new(&[
        ("index.html", b"<html>app</html>"),
        (WASM, b"\0asm-identity"),
        (&format!("{WASM}.br"), b"br-bytes"),
        (&format!("{WASM}.gz"), b"gz-bytes"),
        ("favicon.ico", b"\0\0\x01\0icon"),
        (".trunk-lock", b""),
        (".hidden.js", b"hidden"),
    ]);
    let assets = Assets::load(&root.0, 1 << 20).unwrap();
    (root, assets)
}

fn get(assets: &Assets, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    assets.respond(&Method::GET, path, &h)
}

fn head(r: &Response, name: header::HeaderName) -> Option<&str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn the_best_accepted_encoding_is_sent() {
    let (_root, a) = site();
    let path = format!("/{WASM}");
    let br = get(&a, &path, &[("accept-encoding", "gzip, deflate, br")]);
    assert_eq!(head(&br, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(head(&br, header::CONTENT_TYPE), Some("application/wasm"));
    assert_eq!(head(&br, header::VARY), Some("Accept-Encoding"));
    let gz = get(&a, &path, &[("accept-encoding", "gzip, br;q=0")]);
    assert_eq!(head(&gz, header::CONTENT_ENCODING), Some("gzip"));
    let plain = get(&a, &path, &[]);
    assert_eq!(head(&plain, header::CONTENT_ENCODING), None);
    assert_eq!(head(&plain, header::CONTENT_LENGTH), Some("13"));
    // Each representation has its own tag.
    let tags = [&br, &gz, &plain].map(|r| head(r, header::ETAG).unwrap().to_owned());
    assert!(tags[0] != tags[1] && tags[1] != tags[2], "{tags:?}");
}

#[test]
fn hashed_names_are_immutable_and_the_rest_revalidates() {
    let (_root, a) = site();
    let wasm = get(&a, &format!("/{WASM}"), &[]);
    assert_eq!(head(&wasm, header::CACHE_CONTROL), Some(IMMUTABLE));
    for path in ["/", "/index.html", "/admin/users", "/favicon.ico"] {
        let r = get(&a, path, &[]);
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(head(&r, header::CACHE_CONTROL), Some(NO_CACHE), "{path}");
    }
    assert!(content_hashed("style-957e0e273f9d17c7.css"));
    assert!(content_hashed("users-web-f1b7ab51d9493cc8.js"));
    // A hash with a leading zero is written with 15 digits.
    assert!(content_hashed("users-web-1b7ab51d9493cc8_bg.wasm"));
    assert!(!content_hashed("favicon.ico"));
    assert!(!content_hashed("users-web-notahash0000000.js"));
}

#[test]
fn a_matching_tag_gets_304_and_another_gets_the_file() {
    let (_root, a) = site();
    let first = get(&a, "/index.html", &[]);
    let tag = head(&first, header::ETAG).unwrap().to_owned();
    let again = get(&a, "/index.html", &[("if-none-match", &tag)]);
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(head(&again, header::ETAG), Some(tag.as_str()));
    let weak = get(&a, "/", &[("if-none-match", &format!("\"x\", W/{tag}"))]);
    assert_eq!(weak.status(), StatusCode::NOT_MODIFIED);
    let other = get(&a, "/index.html", &[("if-none-match", "\"other\"")]);
    assert_eq!(other.status(), StatusCode::OK);
}

#[test]
fn routes_get_the_app_and_missing_files_get_404() {
    let (_root, a) = site();
    for path in ["/admin/users/alice", "/admin/users/john.doe", "/login"] {
        let r = get(&a, path, &[]);
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let route = get(&a, "/admin/users/alice", &[]);
    assert_eq!(route.status(), StatusCode::OK);
    assert_eq!(
        head(&route, header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    for path in ["/missing.js", "/admin/x.wasm", "/.hidden.js"] {
        let r = get(&a, path, &[]);
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            head(&r, header::CONTENT_TYPE),
            Some("text/plain; charset=utf-8")
        );
    }
    // A page opened at such an address is the app all the same.
    let opened = get(&a, "/admin/users/joe.js", &[("sec-fetch-dest", "document")]);
    assert_eq!(opened.status(), StatusCode::OK);
    let loaded = get(&a, "/admin/users/joe.js", &[("sec-fetch-dest", "script")]);
    assert_eq!(loaded.status(), StatusCode::NOT_FOUND);
    let icon = get(&a, "/favicon.ico", &[]);
    assert_eq!(head(&icon, header::CONTENT_TYPE), Some("image/x-icon"));
    let post = a.respond(&Method::POST, "/", &HeaderMap::new());
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn accept_encoding_is_read_as_rfc_9110_says() {
    assert!(accepts("gzip, br", "br"));
    assert!(accepts("BR;q=0.5", "br"));
    assert!(!accepts("br;q=0", "br"));
    assert!(!accepts("gzip", "br"));
    assert!(accepts("*", "br"));
    assert!(!accepts("br;q=0, *", "br"));
    assert!(!accepts("", "gzip"));
}

#[test]
fn a_root_without_index_html_or_over_its_limit_is_refused() {
    let root = Root::new(&[("app.js", b"x")]);
    assert!(Assets::load(&root.0, 1 << 20).is_err());
    let root = Root::new(&[("index.html", b"0123456789"), ("a.js", b"0123456789")]);
    assert!(Assets::load(&root.0, 20).is_ok());
    let e = Assets::load(&root.0, 19).err().unwrap();
    assert!(e.to_string().contains("--max-web-root-bytes"), "{e}");
}
