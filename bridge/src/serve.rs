//! The HTTP server loop, in place of `axum::serve`, for what that lacks
//! against slow or greedy clients (Slowloris):
//! - a deadline to send the request headers (`--header-timeout`);
//! - caps on open HTTP connections, overall and per client address
//!   (`--max-http-connections`, `--max-http-connections-per-ip`); a trusted
//!   proxy, carrying many clients, has only the overall cap.
//!
//! It accepts on the TCP listener (`--listen`), with TLS when it has an
//! acceptor (`crate::tls`), the Unix one (`--listen-unix`), or both, under
//! the same caps and deadline; each request carries the [`Peer`] its
//! listener saw. Connections past a cap are closed
//! at once. When `stop` resolves, the listeners are closed (the socket file
//! removed), and requests in flight get up to 30 seconds to finish
//! (WebSockets, upgraded, are waited for by [`crate::http::run`]).

use crate::client_ip::Peer;
use crate::socket_file::UnixSocket;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::watch;
use tower::Service;

/// Where the bridge accepts connections: at least one of the two.
pub struct Listeners {
    /// `--listen`.
    pub tcp: Option<TcpListener>,
    /// `--listen-unix`.
    pub unix: Option<UnixSocket>,
    /// TLS on `tcp` (`--tls-cert`, `--tls-key`).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// An accepted connection, by listener.
enum Accepted {
    Tcp(TcpStream, std::net::SocketAddr),
    Unix(UnixStream),
}

impl Listeners {
    /// The next connection on either listener.
    async fn accept(&self) -> std::io::Result<Accepted> {
        let tcp = async {
            match &self.tcp {
                Some(l) => l.accept().await.map(|(s, a)| {
                    // A reply is one small write the client waits for:
                    // never held back to be sent with the next.
                    let _ = s.set_nodelay(true);
                    Accepted::Tcp(s, a)
                }),
                None => std::future::pending().await,
            }
        };
        let unix = async {
            match &self.unix {
                Some(l) => l.listener().accept().await.map(|(s, _)| Accepted::Unix(s)),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            a = tcp => a,
            a = unix => a,
        }
    }
}

/// The limits; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct ConnLimits {
    /// Open HTTP connections at most.
    pub(crate) max: usize,
    /// Open HTTP connections at most from one address.
    pub(crate) per_ip: usize,
    /// Time a client has to send its request headers.
    pub(crate) header_timeout: Duration,
    /// Addresses with only the overall cap.
    pub(crate) trusted_proxies: Vec<IpAddr>,
}

/// Open connections, in all and by address.
#[derive(Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// One open connection's place under the caps; given back when dropped.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: Option<IpAddr>,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, peer: &Peer, limits: &ConnLimits) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        if o.total >= limits.max {
            return None;
        }
        let ip = peer.counted_ip(&limits.trusted_proxies);
        if let Some(ip) = ip {
            if o.by_ip.get(&ip).copied().unwrap_or(0) >= limits.per_ip {
                return None;
            }
            *o.by_ip.entry(ip).or_insert(0) += 1;
        }
        o.total += 1;
        Some(Slot {
            open: Arc::clone(open),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total -= 1;
        if let Some(ip) = self.ip {
            if let Some(n) = o.by_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    o.by_ip.remove(&ip);
                }
            }
        }
    }
}

/// Serves `app` on `listeners` until `stop` resolves.
pub(crate) async fn serve(
    listeners: Listeners,
    app: Router,
    limits: ConnLimits,
    stop: impl std::future::Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let (stopping, stop_rx) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listeners.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let peer = match &accepted {
            Accepted::Tcp(_, addr) => Peer::Tcp(*addr),
            Accepted::Unix(_) => Peer::Proxy,
        };
        let Some(slot) = Slot::take(&open, &peer, &limits) else {
            tracing::debug!(?peer, "connection refused: too many open");
            continue;
        };
        let (app, stop_rx) = (app.clone(), stop_rx.clone());
        match accepted {
            Accepted::Tcp(stream, _) => match &listeners.tls {
                Some(tls) => {
                    let (tls, deadline) = (tls.clone(), limits.header_timeout);
                    let conn = connection_fn(peer, app, &limits, stop_rx);
                    // The handshake is under the header deadline too.
                    let secured = async move {
                        match tokio::time::timeout(deadline, tls.accept(stream)).await {
                            Ok(Ok(stream)) => conn(stream).await,
                            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake too slow"),
                        }
                    };
                    spawn(secured, slot)
                }
                None => spawn(connection(stream, peer, app, &limits, stop_rx), slot),
            },
            Accepted::Unix(stream) => spawn(connection(stream, peer, app, &limits, stop_rx), slot),
        }
    }
    // Refuse new connections from now on (and remove the socket file).
    drop(listeners);
    let _ = stopping.send(true);
    // Each connection's task holds a slot until its requests are done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while open.lock().unwrap_or_else(|e| e.into_inner()).total > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("requests still in flight after 30 s; closing");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs one connection on a task of its own, holding its slot until it ends.
fn spawn(conn: impl std::future::Future<Output = ()> + Send + 'static, slot: Slot) {
    tokio::spawn(async move {
        conn.await;
        drop(slot);
    });
}

/// [`connection`], for a stream to come (after a TLS handshake).
fn connection_fn<S>(
    peer: Peer,
    app: Router,
    limits: &ConnLimits,
    stop: watch::Receiver<bool>,
) -> impl FnOnce(S) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = limits.clone();
    move |stream| Box::pin(connection(stream, peer, app, &limits, stop))
}

/// One connection: HTTP/1.1 only (browsers speak it to the bridge, and it
/// has a header deadline from the first byte; HTTP/2 would need its own),
/// upgrades allowed, each request told who the peer is; shut down gracefully
/// when `stop` turns true.
fn connection<S>(
    stream: S,
    peer: Peer,
    app: Router,
    limits: &ConnLimits,
    mut stop: watch::Receiver<bool>,
) -> impl std::future::Future<Output = ()> + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handler = move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(peer);
        let mut router = app.clone();
        async move { router.call(req.map(axum::body::Body::new)).await }
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handler))
        .with_upgrades();
    async move {
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s) => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}
