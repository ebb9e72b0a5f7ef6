//! The ZeroMQ side. One task owns a DEALER socket connected to the service and
//! drives it from tokio through the socket's notification descriptor (ZMQ_FD),
//! so a request reaches the wire with no thread hop. Each request carries a
//! correlation id as an envelope frame (`[id, "", body]`), which the service's
//! ROUTER returns with the reply, so any number of requests share the socket with
//! no REQ lock-step.
//!
//! The DEALER is `ZMQ_IMMEDIATE`: while the service is unreachable a send fails at
//! once instead of queueing ([`RelayError::NotSent`], which another instance may
//! take), so the client gets an answer now rather than a stale request running
//! minutes later. A socket monitor fails the requests in flight when the
//! connection drops, and ZeroMQ heartbeats drop a connection whose peer stopped
//! answering; libzmq reconnects by itself.

use bytes::Bytes;
use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot};

/// Heartbeats: a ping this often, and a connection with no traffic back for
/// the timeout is dropped (a machine gone without closing its sockets).
const HEARTBEAT_IVL: i32 = 1000;
const HEARTBEAT_TIMEOUT: i32 = 3000;
/// How often deadlines are checked: a timed-out request learns it this much late at most.
const SWEEP: Duration = Duration::from_millis(100);

/// Why a request got no reply from the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelayError {
    /// Not connected: the request was not sent, and may go elsewhere.
    NotSent,
    /// The connection dropped with the request in flight.
    Unavailable,
    /// No reply within the timeout.
    Timeout,
}

type ReplyTx = oneshot::Sender<Result<String, RelayError>>;

/// Why [`Services::start`](crate::Services::start) failed: the bridge does not
/// run without every `--service` it was given.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A ZeroMQ call failed. The cause is the error's source, not part of
    /// its message: the command line prints both.
    #[error("ZeroMQ")]
    Zmq(#[from] zmq::Error),
    /// tokio would not watch the socket's descriptor.
    #[error("registering the ZeroMQ descriptor")]
    Register(#[from] std::io::Error),
    /// One of several `--service` endpoints could not be used.
    #[error("--service {endpoint} (expected e.g. tcp://127.0.0.1:5556 or ipc:///run/users-service/bridge.sock)")]
    Endpoint {
        endpoint: String,
        source: Box<StartError>,
    },
}

/// The browser a request is made for, as the bridge forwards it: its
/// address, for the service's per-peer limits, and its user agent, which a
/// session started by the request keeps for its owner to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) ip: IpAddr,
    /// The frame the service reads after each request: made once for a
    /// connection, not for every request on it.
    frame: Arc<[u8]>,
}

impl Client {
    /// The browser at `ip`, with its `User-Agent` header if it sent one.
    pub(crate) fn new(ip: IpAddr, agent: Option<&str>) -> Client {
        let mut v = serde_json::json!({"client_address": ip.to_string()});
        if let Some(agent) = agent {
            v["user_agent"] = serde_json::Value::from(agent);
        }
        Client {
            ip,
            frame: v.to_string().into_bytes().into(),
        }
    }
}

/// A request and when to give up on its reply.
struct Request {
    body: Bytes,
    /// The browser, forwarded to the service.
    client: Option<Client>,
    deadline: Instant,
    reply: ReplyTx,
}

/// Handle for sending requests to the service.
pub(crate) struct Relay {
    pub(crate) endpoint: String,
    tx: mpsc::UnboundedSender<Request>,
    connected: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

/// ZMQ_FD, for registering with tokio. libzmq owns it; it lives as long as the socket.
struct ZmqFd(RawFd);

impl AsRawFd for ZmqFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

impl Relay {
    /// Connects to `endpoint` and starts the socket task on the current runtime.
    pub(crate) fn start(ctx: &zmq::Context, endpoint: &str) -> Result<Arc<Relay>, StartError> {
        let dealer = ctx.socket(zmq::DEALER)?;
        dealer.set_immediate(true)?;
        dealer.set_linger(0)?;
        dealer.set_reconnect_ivl(100)?;
        dealer.set_reconnect_ivl_max(1000)?;
        dealer.set_heartbeat_ivl(HEARTBEAT_IVL)?;
        dealer.set_heartbeat_timeout(HEARTBEAT_TIMEOUT)?;
        // One monitor per relay: several may share the context.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let monitor_at = format!(
            "inproc://bridge-monitor-{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        dealer.monitor(
            &monitor_at,
            (zmq::SocketEvent::CONNECTED as i32) | (zmq::SocketEvent::DISCONNECTED as i32),
        )?;
        let monitor = ctx.socket(zmq::PAIR)?;
        monitor.connect(&monitor_at)?;
        dealer.connect(endpoint)?;

        let (tx, rx) = mpsc::unbounded_channel();
        let relay = Arc::new(Relay {
            endpoint: endpoint.to_owned(),
            tx,
            connected: Arc::default(),
            in_flight: Arc::default(),
        });
        let task = SocketTask {
            dealer_fd: watch(&dealer)?,
            monitor_fd: watch(&monitor)?,
            dealer,
            monitor,
            pending: HashMap::new(),
            endpoint: endpoint.to_owned(),
            next_id: 1,
            connected: Arc::clone(&relay.connected),
            in_flight: Arc::clone(&relay.in_flight),
        };
        tokio::spawn(task.run(rx));
        Ok(relay)
    }

    /// True while a connection to the service is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Requests waiting for a reply.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Marks the connection up or down, as the monitor would.
    #[cfg(test)]
    pub(crate) fn set_connected_for_test(&self, up: bool) {
        self.connected.store(up, Ordering::SeqCst);
    }

    /// Sends one request, made by `client`, and waits up to `timeout` for its
    /// reply. The socket task keeps the deadlines (checked every [`SWEEP`]), so a
    /// request costs no timer.
    pub(crate) async fn call(
        &self,
        body: Bytes,
        client: Option<Client>,
        timeout: Duration,
    ) -> Result<String, RelayError> {
        let (reply, rx) = oneshot::channel();
        let deadline = Instant::now() + timeout;
        self.tx
            .send(Request {
                body,
                client,
                deadline,
                reply,
            })
            .map_err(|_| RelayError::NotSent)?;
        rx.await.unwrap_or(Err(RelayError::Unavailable))
    }
}

/// Registers a socket's ZMQ_FD with tokio.
#[allow(unsafe_code)]
fn watch(socket: &zmq::Socket) -> Result<AsyncFd<ZmqFd>, StartError> {
    let fd = ZmqFd(socket.get_fd()?);
    // SAFETY: the descriptor belongs to `socket`, which lives in the same
    // `SocketTask` as the returned AsyncFd and is declared after it, so the
    // registration is dropped (deregistered) before libzmq closes the descriptor.
    let registered = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) };
    registered.map_err(|e| StartError::Register(e.into()))
}

// Field order matters: each AsyncFd must drop before the socket that owns its fd.
struct SocketTask {
    dealer_fd: AsyncFd<ZmqFd>,
    monitor_fd: AsyncFd<ZmqFd>,
    dealer: zmq::Socket,
    monitor: zmq::Socket,
    pending: HashMap<u64, (Instant, ReplyTx)>,
    endpoint: String,
    next_id: u64,
    connected: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

impl SocketTask {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut sweep = tokio::time::interval(SWEEP);
        // ZMQ_FD only says "something may have changed", and a send may take
        // the very signal a reply raised: a socket is read until it has nothing
        // after its descriptor fires and, for the DEALER, after every send.
        // Only then: each look that finds nothing costs libzmq a system call.
        let (mut replies, mut monitor) = (true, true);
        loop {
            if replies {
                self.drain_replies();
            }
            if monitor {
                self.drain_monitor();
            }
            self.in_flight.store(self.pending.len(), Ordering::SeqCst);
            (replies, monitor) = (false, false);
            tokio::select! {
                req = rx.recv() => match req {
                    Some(req) => {
                        self.send(req);
                        // Take whatever else is queued before polling again.
                        while let Ok(req) = rx.try_recv() {
                            self.send(req);
                        }
                        replies = true;
                    }
                    None => return,
                },
                guard = self.dealer_fd.readable() => {
                    if let Ok(mut g) = guard {
                        g.clear_ready();
                    }
                    replies = true;
                }
                guard = self.monitor_fd.readable() => {
                    if let Ok(mut g) = guard {
                        g.clear_ready();
                    }
                    monitor = true;
                }
                _ = sweep.tick() => {
                    (replies, monitor) = (true, true);
                    let now = Instant::now();
                    let expired: Vec<u64> = self
                        .pending
                        .iter()
                        .filter(|(_, (deadline, tx))| *deadline <= now || tx.is_closed())
                        .map(|(id, _)| *id)
                        .collect();
                    for id in expired {
                        if let Some((_, tx)) = self.pending.remove(&id) {
                            let _ = tx.send(Err(RelayError::Timeout));
                        }
                    }
                }
            }
        }
    }

    fn send(&mut self, req: Request) {
        let id = self.next_id;
        self.next_id += 1;
        let mut frames: Vec<zmq::Message> = vec![
            id.to_be_bytes()[..].into(),
            zmq::Message::new(),
            req.body[..].into(),
        ];
        // A frame of its own, after the request: the service takes it from a
        // trusted peer only, and a browser cannot add one.
        if let Some(client) = &req.client {
            frames.push(client.frame[..].into());
        }
        if self.dealer.send_multipart(frames, zmq::DONTWAIT).is_ok() {
            self.pending.insert(id, (req.deadline, req.reply));
        } else {
            let _ = req.reply.send(Err(RelayError::NotSent));
        }
    }

    /// Takes every reply waiting. Receiving until there is nothing, rather
    /// than asking ZMQ_EVENTS before each, costs one system call, not one per reply.
    fn drain_replies(&mut self) {
        while let Ok(mut frames) = self.dealer.recv_multipart(zmq::DONTWAIT) {
            // [id, "", reply]
            let id = frames
                .first()
                .and_then(|f| <[u8; 8]>::try_from(f.as_slice()).ok())
                .map(u64::from_be_bytes);
            if let (Some(id), Some(reply)) = (id, frames.pop()) {
                if let Some((_, tx)) = self.pending.remove(&id) {
                    let text = String::from_utf8(reply)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                    let _ = tx.send(Ok(text));
                }
            }
        }
    }

    fn drain_monitor(&mut self) {
        while let Ok(frames) = self.monitor.recv_multipart(zmq::DONTWAIT) {
            let event = frames
                .first()
                .and_then(|f| f.get(..2))
                .map(|b| u16::from_le_bytes([b[0], b[1]]));
            if event == Some(zmq::SocketEvent::CONNECTED as u16) {
                tracing::info!(endpoint = %self.endpoint, "connected to the service");
                self.connected.store(true, Ordering::SeqCst);
            } else if event == Some(zmq::SocketEvent::DISCONNECTED as u16) {
                tracing::warn!(endpoint = %self.endpoint, "lost the service; requests in flight fail, reconnecting");
                self.connected.store(false, Ordering::SeqCst);
                for (_, (_, tx)) in self.pending.drain() {
                    let _ = tx.send(Err(RelayError::Unavailable));
                }
            }
        }
    }
}
