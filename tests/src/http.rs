//! Plain HTTP/1.1 requests on loopback, no client library needed:
//! [`http_get`] for a status and a text body, [`http_request`] for headers and
//! bytes.

use std::io::{Read, Write};
use std::time::Duration;

/// A GET on loopback; returns the status code and the body as text.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let r = http_request(port, "GET", path, &[])?;
    Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

/// A response: status, headers (names in lower case) and body bytes.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `method path` on loopback with extra `headers`; reads to the end (the
/// connection is closed after the response).
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<HttpResponse> {
    let s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    exchange(s, port, method, path, headers)
}

/// A GET on loopback as HTTP/1.0, for a server that would send a long
/// body in chunks to HTTP/1.1 (Prometheus): the body comes whole.
pub fn http_get_whole(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let r = exchange_as("HTTP/1.0", s, port, "GET", path, &[])?;
    Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

/// One request and its response on `s`, which is closed after it.
pub fn exchange(
    s: impl Read + Write,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<HttpResponse> {
    exchange_as("HTTP/1.1", s, port, method, path, headers)
}

fn exchange_as(
    version: &str,
    mut s: impl Read + Write,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<HttpResponse> {
    // Host is loopback's, unless the caller names one.
    let mut req = format!("{method} {path} {version}\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}
