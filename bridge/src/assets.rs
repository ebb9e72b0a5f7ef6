//! The web UI's files, read once when the bridge starts and served from memory.
//!
//! - **Compression.** A file's `NAME.br` and `NAME.gz` siblings, which the UI's
//!   build writes (`scripts/compress-web`), go out with `Content-Encoding: br` or
//!   `gzip` to browsers that accept them; nothing is compressed per request.
//! - **Caching.** A name carrying a content hash (`users-web-<16 hex>.js`)
//!   never changes meaning: `immutable` for a year. Everything else, `index.html`
//!   and the app's routes first, is `no-cache`: revalidated on every use, which
//!   the strong `ETag` (of the bytes sent) answers with a `304`.
//! - **Routes.** A missing path is one of the app's screens and gets
//!   `index.html`, unless it names a kind of file a page loads (`/x.js`,
//!   `/y.wasm`, `/z.png`...): that is a `404`, never HTML that a browser would
//!   try to run as a script. A dot alone does not make a file: a username may
//!   have one (`/admin/users/john.doe`), and a browser opening an address
//!   (`Sec-Fetch-Dest: document`) always gets the app, so even
//!   `/admin/users/joe.js` opens its user.
//!
//! Reading everything up front keeps the bytes, their hashes and the CSP hash of
//! `index.html` consistent with each other: a rebuilt UI is served after a
//! restart, never half of it.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// One representation of a file: its bytes and their `ETag`.
struct Variant {
    bytes: Bytes,
    etag: HeaderValue,
}

impl Variant {
    fn new(bytes: Vec<u8>, suffix: &str) -> Variant {
        let digest = Sha256::digest(&bytes);
        let mut tag = String::from("\"");
        for b in &digest[..16] {
            let _ = write!(tag, "{b:02x}");
        }
        tag.push_str(suffix);
        tag.push('"');
        Variant {
            bytes: Bytes::from(bytes),
            etag: HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\"")),
        }
    }
}

struct Asset {
    content_type: &'static str,
    cache: &'static str,
    identity: Variant,
    br: Option<Variant>,
    gzip: Option<Variant>,
}

/// The files of a web root, by URL path (`/index.html`).
pub(crate) struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Reads every regular file under `root`, `max_bytes` at most (it is all
    /// kept in memory). Symbolic links and names starting with a dot are left
    /// out.
    pub(crate) fn load(root: &Path, max_bytes: u64) -> std::io::Result<Assets> {
        let mut raw = HashMap::new();
        let mut budget = Budget {
            left: max_bytes,
            max: max_bytes,
        };
        read_dir(root, "", &mut raw, &mut budget)?;
        let mut files = HashMap::new();
        let names: Vec<String> = raw.keys().cloned().collect();
        for name in names {
            if name.ends_with(".br") || name.ends_with(".gz") {
                continue;
            }
            let Some(bytes) = raw.remove(&name) else {
                continue;
            };
            let br = raw.remove(&format!("{name}.br"));
            let gzip = raw.remove(&format!("{name}.gz"));
            let file = name.rsplit('/').next().unwrap_or(&name);
            files.insert(
                name.clone(),
                Asset {
                    content_type: content_type(file),
                    cache: if content_hashed(file) {
                        IMMUTABLE
                    } else {
                        NO_CACHE
                    },
                    identity: Variant::new(bytes, ""),
                    br: br.map(|b| Variant::new(b, "-br")),
                    gzip: gzip.map(|b| Variant::new(b, "-gz")),
                },
            );
        }
        // A `.gz` or `.br` without its original is a file of its own.
        for (name, bytes) in raw {
            let file = name.rsplit('/').next().unwrap_or(&name).to_owned();
            files.insert(
                name,
                Asset {
                    content_type: content_type(&file),
                    cache: NO_CACHE,
                    identity: Variant::new(bytes, ""),
                    br: None,
                    gzip: None,
                },
            );
        }
        if !files.contains_key("/index.html") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no index.html there", root.display()),
            ));
        }
        Ok(Assets { files })
    }

    /// The text of `index.html`, for the CSP.
    pub(crate) fn index_html(&self) -> Option<&str> {
        let index = self.files.get("/index.html")?;
        std::str::from_utf8(&index.identity.bytes).ok()
    }

    /// The response to `method path` with the request's `headers`.
    pub(crate) fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
                "Method not allowed\n",
            )
                .into_response();
        }
        let path = if path == "/" { "/index.html" } else { path };
        let asset = match self.files.get(path) {
            Some(a) => a,
            None if names_an_asset(path) && !is_navigation(headers) => {
                return (
                    StatusCode::NOT_FOUND,
                    [
                        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                        (header::CACHE_CONTROL, NO_CACHE),
                    ],
                    "Not found\n",
                )
                    .into_response();
            }
            // One of the app's screens: the app itself, which routes it.
            None => match self.files.get("/index.html") {
                Some(a) => a,
                None => return StatusCode::NOT_FOUND.into_response(),
            },
        };
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (variant, encoding) = match (&asset.br, &asset.gzip) {
            (Some(br), _) if accepts(accept, "br") => (br, Some("br")),
            (_, Some(gz)) if accepts(accept, "gzip") => (gz, Some("gzip")),
            _ => (&asset.identity, None),
        };
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, &variant.etag));
        let mut builder = Response::builder()
            .header(header::CACHE_CONTROL, asset.cache)
            .header(header::ETAG, variant.etag.clone());
        if asset.br.is_some() || asset.gzip.is_some() {
            builder = builder.header(header::VARY, "Accept-Encoding");
        }
        if fresh {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::NOT_MODIFIED.into_response());
        }
        builder = builder
            .header(header::CONTENT_TYPE, asset.content_type)
            .header(header::CONTENT_LENGTH, variant.bytes.len());
        if let Some(e) = encoding {
            builder = builder.header(header::CONTENT_ENCODING, e);
        }
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(variant.bytes.clone())
        };
        builder
            .status(StatusCode::OK)
            .body(body)
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// What the web root may still hold.
struct Budget {
    left: u64,
    max: u64,
}

fn read_dir(
    dir: &Path,
    prefix: &str,
    out: &mut HashMap<String, Vec<u8>>,
    budget: &mut Budget,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let url = format!("{prefix}/{name}");
        if kind.is_dir() {
            read_dir(&entry.path(), &url, out, budget)?;
        } else if kind.is_file() {
            // Never more than the budget in memory, whatever the file's size
            // says or becomes while it is read.
            let mut bytes = Vec::new();
            std::fs::File::open(entry.path())?
                .take(budget.left.saturating_add(1))
                .read_to_end(&mut bytes)?;
            budget.left = budget.left.checked_sub(bytes.len() as u64).ok_or_else(|| {
                std::io::Error::other(format!(
                    "the web root holds more than {} bytes (see --max-web-root-bytes)",
                    budget.max
                ))
            })?;
            out.insert(url, bytes);
        }
    }
    Ok(())
}

/// Whether the last segment of `path` ends in the extension of a file a page
/// loads, the kinds [`content_type`] knows.
fn names_an_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.contains('.') && content_type(file) != OTHER
}

const OTHER: &str = "application/octet-stream";

/// Whether the browser is opening the address as a page, not loading a file
/// for one.
fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-dest")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"document"))
}

/// Whether a file name carries a content hash: `stem-<hex>` before the
/// extension, with `_bg` after it for the wasm. The hash is a 64-bit number
/// in hex without leading zeros: 16 digits, sometimes fewer.
fn content_hashed(file: &str) -> bool {
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        (12..=16).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn content_type(file: &str) -> &'static str {
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        _ => OTHER,
    }
}

/// Whether `Accept-Encoding` allows `coding`: named with a q above 0, or
/// covered by `*` when not named at all.
fn accepts(header: &str, coding: &str) -> bool {
    let mut star = None;
    for part in header.split(',') {
        let mut params = part.split(';');
        let name = params.next().unwrap_or("").trim();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            star = Some(q > 0.0);
        }
    }
    star.unwrap_or(false)
}

/// `If-None-Match` against `etag`: `*`, or any listed tag (weakly compared, as
/// RFC 9110 asks for this header).
fn etag_matches(header: &str, etag: &HeaderValue) -> bool {
    let etag = etag.to_str().unwrap_or("");
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

#[cfg(test)]
#[path = "assets_tests.rs"]
mod tests;
