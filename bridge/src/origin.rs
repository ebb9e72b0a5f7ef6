//! The `Origin` check of requests a browser makes with the user's
//! credentials: the WebSocket handshake and the forward-auth cookie's
//! `POST`s. Allowed: the page's own origin (same host and port as `Host`),
//! or one on the `--allowed-origin` list.

use axum::http::{header, HeaderMap};

/// Whether `headers` carry an allowed Origin; `absent` is the answer when
/// they carry none (a client that is no browser).
pub(crate) fn origin_allowed(headers: &HeaderMap, allowlist: &[String], absent: bool) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return absent;
    };
    let origin = origin.trim_end_matches('/');
    if allowlist
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origins() {
        let allow = vec!["http://127.0.0.1:8080".to_owned()];
        assert!(origin_allowed(&headers(None, "127.0.0.1:8765"), &[], true));
        assert!(!origin_allowed(
            &headers(None, "127.0.0.1:8765"),
            &[],
            false
        ));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8765"), "127.0.0.1:8765"),
            &[],
            true
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "127.0.0.1:8765"),
            &[],
            true
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8765"),
            &[],
            true
        ));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8765"),
            &allow,
            true
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "127.0.0.1:8765"),
            &allow,
            true
        ));
    }
}
