//! The ZeroMQ side. One thread owns a DEALER socket connected to the service;
//! requests reach it over an inproc PUSH socket and carry a correlation id as an
//! envelope frame (`[id, "", body]`), which the service's ROUTER returns with the
//! reply. So any number of requests share the socket with no REQ lock-step.
//!
//! The DEALER is `ZMQ_IMMEDIATE`: while the service is unreachable a send fails at
//! once instead of queueing, so the client gets service_unavailable now rather than
//! a stale request running minutes later. A socket monitor fails the requests in
//! flight when the connection drops; libzmq reconnects by itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const REQUESTS: &str = "inproc://bridge-requests";
const MONITOR: &str = "inproc://bridge-monitor";

/// Why a request got no reply from the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayError {
    /// Not connected, or the connection dropped with the request in flight.
    Unavailable,
    /// No reply within the timeout.
    Timeout,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<String, RelayError>>>>>;

/// Handle for sending requests to the service.
pub struct Relay {
    push: Mutex<zmq::Socket>,
    pending: Pending,
    next_id: AtomicU64,
    connected: Arc<AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Relay {
    /// Starts the socket thread, connecting to `endpoint`.
    pub fn start(ctx: &zmq::Context, endpoint: &str) -> anyhow::Result<Arc<Relay>> {
        let pull = ctx.socket(zmq::PULL)?;
        pull.bind(REQUESTS)?;
        let dealer = ctx.socket(zmq::DEALER)?;
        dealer.set_immediate(true)?;
        dealer.set_linger(0)?;
        dealer.set_reconnect_ivl(100)?;
        dealer.set_reconnect_ivl_max(1000)?;
        dealer.monitor(
            MONITOR,
            (zmq::SocketEvent::CONNECTED as i32) | (zmq::SocketEvent::DISCONNECTED as i32),
        )?;
        let monitor = ctx.socket(zmq::PAIR)?;
        monitor.connect(MONITOR)?;
        dealer.connect(endpoint)?;
        let push = ctx.socket(zmq::PUSH)?;
        push.set_linger(0)?;
        push.connect(REQUESTS)?;

        let relay = Arc::new(Relay {
            push: Mutex::new(push),
            pending: Arc::default(),
            next_id: AtomicU64::new(1),
            connected: Arc::new(AtomicBool::new(false)),
        });
        let (pending, connected) = (Arc::clone(&relay.pending), Arc::clone(&relay.connected));
        std::thread::Builder::new()
            .name("zmq-relay".into())
            .spawn(move || socket_loop(&pull, &dealer, &monitor, &pending, &connected))?;
        Ok(relay)
    }

    /// True while a connection to the service is up.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Requests waiting for a reply.
    pub fn in_flight(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Sends one request and waits up to `timeout` for its reply.
    pub async fn call(&self, body: String, timeout: Duration) -> Result<String, RelayError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let sent =
            lock(&self.push).send_multipart([id.to_be_bytes().to_vec(), body.into_bytes()], 0);
        if sent.is_err() {
            lock(&self.pending).remove(&id);
            return Err(RelayError::Unavailable);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RelayError::Unavailable),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(RelayError::Timeout)
            }
        }
    }
}

fn answer(pending: &Pending, id: u64, result: Result<String, RelayError>) {
    if let Some(tx) = lock(pending).remove(&id) {
        let _ = tx.send(result);
    }
}

fn socket_loop(
    pull: &zmq::Socket,
    dealer: &zmq::Socket,
    monitor: &zmq::Socket,
    pending: &Pending,
    connected: &AtomicBool,
) {
    loop {
        let mut items = [
            pull.as_poll_item(zmq::POLLIN),
            dealer.as_poll_item(zmq::POLLIN),
            monitor.as_poll_item(zmq::POLLIN),
        ];
        match zmq::poll(&mut items, 1000) {
            Ok(_) | Err(zmq::Error::EINTR) => {}
            Err(e) => {
                tracing::error!(error = %e, "relay poll failed");
                return;
            }
        }
        if items[0].is_readable() {
            while let Ok(frames) = pull.recv_multipart(zmq::DONTWAIT) {
                let [id, body]: [Vec<u8>; 2] = match frames.try_into() {
                    Ok(f) => f,
                    Err(_) => continue,
                };
                let Some(n) = id_of(&id) else { continue };
                if dealer
                    .send_multipart([id, Vec::new(), body], zmq::DONTWAIT)
                    .is_err()
                {
                    answer(pending, n, Err(RelayError::Unavailable));
                }
            }
        }
        if items[1].is_readable() {
            while let Ok(frames) = dealer.recv_multipart(zmq::DONTWAIT) {
                // [id, "", reply]
                if let (Some(n), Some(reply)) =
                    (frames.first().and_then(|f| id_of(f)), frames.last())
                {
                    answer(pending, n, Ok(String::from_utf8_lossy(reply).into_owned()));
                }
            }
        }
        if items[2].is_readable() {
            while let Ok(frames) = monitor.recv_multipart(zmq::DONTWAIT) {
                let event = frames
                    .first()
                    .and_then(|f| f.get(..2))
                    .map(|b| u16::from_le_bytes([b[0], b[1]]));
                if event == Some(zmq::SocketEvent::CONNECTED as u16) {
                    tracing::info!("connected to the service");
                    connected.store(true, Ordering::SeqCst);
                } else if event == Some(zmq::SocketEvent::DISCONNECTED as u16) {
                    tracing::warn!("lost the service; requests in flight fail, reconnecting");
                    connected.store(false, Ordering::SeqCst);
                    for (_, tx) in lock(pending).drain() {
                        let _ = tx.send(Err(RelayError::Unavailable));
                    }
                }
            }
        }
    }
}

fn id_of(frame: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(frame.try_into().ok()?))
}
