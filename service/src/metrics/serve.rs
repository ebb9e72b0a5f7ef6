//! `--metrics-listen ADDR`: `GET /metrics` over HTTP/1.1, on a thread of its
//! own with a single-threaded runtime, so that a scrape never takes a turn
//! from the socket thread, the pool or the writer.
//!
//! Only loopback and `--metrics-allow` addresses are served; anyone else's
//! connection is closed on accept. Limits: [`MAX_CONNECTIONS`] open at once
//! (more are closed on accept), one request per connection,
//! [`HEADER_TIMEOUT`] to send it, and [`CONNECTION_TIMEOUT`] in all.

use super::series::Live;
use crate::app::App;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Scrapers connected at once.
pub(crate) const MAX_CONNECTIONS: usize = 16;
/// Time to send a request's head.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a connection may stay open.
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the accept loop looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(200);

/// `--metrics-listen`'s value: a port alone is on loopback; otherwise an
/// address and a port, such as `0.0.0.0:9464` or `[::1]:9464`.
pub(crate) fn listen_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!("{s:?} is neither a port nor an address with a port (e.g. 127.0.0.1:9464)")
    })
}

/// What a scrape reads, and who may ask.
pub(crate) struct Scraped {
    pub app: Arc<App>,
    /// A file store's file, whose file system's space is reported.
    pub store: Option<PathBuf>,
    /// Addresses besides loopback that may connect (`--metrics-allow`).
    pub allow: Vec<IpAddr>,
}

/// Whether `peer` may read the metrics: loopback, or an allowed address.
fn allowed(peer: IpAddr, allow: &[IpAddr]) -> bool {
    let peer = peer.to_canonical();
    peer.is_loopback() || allow.iter().any(|a| a.to_canonical() == peer)
}

/// Serves the metrics on `listener` until `stop` is set.
pub(crate) fn spawn(
    listener: TcpListener,
    scraped: Scraped,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || rt.block_on(accept_loop(listener, Arc::new(scraped), stop)))
}

/// One open connection, counted until it is dropped, however its task ends.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Option<Slot> {
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_loop(listener: TcpListener, scraped: Arc<Scraped>, stop: Arc<AtomicBool>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "metrics listener failed");
            return;
        }
    };
    let open = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        let Ok(accepted) = tokio::time::timeout(STOP_CHECK, listener.accept()).await else {
            continue;
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(STOP_CHECK).await;
                continue;
            }
        };
        // Closed at once: someone not allowed, or one too many.
        if !allowed(peer.ip(), &scraped.allow) {
            continue;
        }
        let Some(slot) = Slot::take(&open) else {
            continue;
        };
        let scraped = Arc::clone(&scraped);
        tokio::spawn(async move {
            let _slot = slot;
            let handler = move |req: Request<hyper::body::Incoming>| {
                let reply = answer(&scraped, &req);
                async move { Ok::<_, Infallible>(reply) }
            };
            // One request per connection, as Prometheus scrapes: a client
            // cannot hold a connection open between requests.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper::service::service_fn(handler),
                );
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
        });
    }
}

fn text(status: StatusCode, body: String) -> Response<String> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r
}

/// Free and total bytes of the file system `file` is on.
fn disk_space(file: &Path) -> Option<(u64, u64)> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let s = rustix::fs::statvfs(dir.unwrap_or(Path::new("."))).ok()?;
    Some((
        s.f_bavail.saturating_mul(s.f_frsize),
        s.f_blocks.saturating_mul(s.f_frsize),
    ))
}

/// `GET /metrics` (or `HEAD`); anything else is refused.
fn answer(scraped: &Scraped, req: &Request<hyper::body::Incoming>) -> Response<String> {
    let app = &scraped.app;
    if req.uri().path() != "/metrics" {
        return text(StatusCode::NOT_FOUND, "Not found: see /metrics\n".into());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Use GET\n".into());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let live = Live {
        users: app.users().len(),
        sessions: app.sessions.active(app.clock.now()),
        audit_waiting: app.audit.len(),
        follow_lag: app.follow.lag(),
        disk: scraped.store.as_deref().and_then(disk_space),
    };
    match app.metrics.render(&live) {
        Some(body) => {
            let mut r = text(StatusCode::OK, body);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        None => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Metrics could not be encoded (see the log)\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_allowed_addresses_only() {
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(allowed("127.0.0.1".parse().unwrap(), &[]));
        assert!(allowed("::ffff:127.0.0.1".parse().unwrap(), &[]));
        assert!(!allowed(other, &[]));
        assert!(allowed(other, &[other]));
    }

    #[test]
    fn a_port_alone_listens_on_loopback() {
        assert_eq!(listen_addr("9464").unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(
            listen_addr("0.0.0.0:9464").unwrap().to_string(),
            "0.0.0.0:9464"
        );
        assert_eq!(listen_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        assert!(listen_addr("localhost").unwrap_err().contains("neither"));
        assert!(listen_addr("70000").is_err());
    }
}
