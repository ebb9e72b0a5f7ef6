//! One WebSocket connection. Its reader ([`Connection`]) takes each text frame
//! as a request, checks it against the limits and relays it on a task of its
//! own ([`round_trip`]); each reply goes back as it arrives, through the
//! connection's [`Outbox`] to its writer task ([`Writer`]). Replies may overtake
//! one another; clients match them by `request_id`.

use crate::limits::Bucket;
use crate::relay::{Client, RelayError};
use crate::reply::error_json;
use crate::state::Shared;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinSet;
use users_protocol::ErrorCode;

/// Requests one connection may have in flight; more are answered
/// rate_limited.
const MAX_IN_FLIGHT: usize = 256;

/// Serves one upgraded connection until it closes, idles out, stops reading,
/// or the bridge stops.
pub(crate) async fn serve(
    socket: WebSocket,
    ip: IpAddr,
    agent: Option<Arc<str>>,
    shared: Arc<Shared>,
) {
    let (sink, stream) = socket.split();
    let (out, writer) = outbox(shared.cfg.max_queued_bytes, shared.cfg.send_timeout);
    let writer = tokio::spawn(writer.run(sink));
    let mut conn = Connection {
        stream,
        out,
        client: Client::new(ip, agent.as_deref()),
        bucket: Bucket::new(shared.cfg.rate_per_connection, Instant::now()),
        tasks: JoinSet::new(),
        idle: Box::pin(tokio::time::sleep(shared.cfg.idle_timeout)),
        shutdown: shared.shutdown.clone(),
        shared,
    };
    let closing = loop {
        match conn.read_request().await {
            Read::Request(text) => conn.relay(text).await,
            Read::End(closing) => break closing,
        }
    };
    conn.close(closing).await;
    if !writer.is_finished() {
        let _ = writer.await;
    }
}

/// One connection's reading side. Each request is relayed on a task of its
/// own, so a slow one holds up no other.
struct Connection {
    stream: SplitStream<WebSocket>,
    out: Outbox,
    client: Client,
    /// The per-connection rate limit.
    bucket: Bucket,
    /// The relays in flight.
    tasks: JoinSet<()>,
    /// When the client has been idle too long: one timer for the
    /// connection, moved on with each frame (moving it later costs no lock).
    idle: std::pin::Pin<Box<tokio::time::Sleep>>,
    shutdown: watch::Receiver<bool>,
    shared: Arc<Shared>,
}

/// What reading the next frame gave.
enum Read {
    /// A request to relay.
    Request(Utf8Bytes),
    /// The connection ends, with this close frame after the replies owed
    /// (none when the client has gone).
    End(Option<Message>),
}

impl Connection {
    /// Waits for the next request. Control frames are the WebSocket layer's
    /// business; a binary or oversized frame is answered with an error, and
    /// ends the connection.
    async fn read_request(&mut self) -> Read {
        let (idle_timeout, max_frame_bytes) = (
            self.shared.cfg.idle_timeout,
            self.shared.cfg.max_frame_bytes,
        );
        let text = loop {
            // Reap finished relays so the in-flight count stays true.
            while self.tasks.try_join_next().is_some() {}
            let idle_until = tokio::time::Instant::now() + idle_timeout;
            self.idle.as_mut().reset(idle_until);
            let next = tokio::select! {
                m = self.stream.next() => Ok(m),
                () = &mut self.idle => Err(()),
                _ = self.shutdown.wait_for(|stop| *stop) => {
                    return Read::End(Some(close(1001, "bridge shutting down")));
                }
                () = self.out.gone.notified() => {
                    // It reads nothing: there is no one to answer.
                    self.tasks.abort_all();
                    return Read::End(None);
                }
            };
            match next {
                Err(_) => return self.idle_out().await,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Read::End(None),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(Message::Binary(_)))) => {
                    let e = error_json(
                        ErrorCode::InvalidRequest,
                        "Binary frames are not accepted: send JSON text",
                        None,
                    );
                    self.out.send(Message::Text(e.into())).await;
                    return Read::End(Some(close(1003, "binary frames are not accepted")));
                }
                Ok(Some(Ok(Message::Text(t)))) => break t,
            }
        };
        if text.len() > max_frame_bytes {
            let msg = format!("Request larger than {max_frame_bytes} bytes");
            let e = error_json(ErrorCode::TooLarge, &msg, None);
            self.out.send(Message::Text(e.into())).await;
            return Read::End(Some(close(1009, "request too large")));
        }
        Read::Request(text)
    }

    /// Nothing from the client for the idle timeout: replies still owed get
    /// one more second, then the connection ends.
    async fn idle_out(&mut self) -> Read {
        let owed = tokio::time::timeout(Duration::from_secs(1), async {
            while self.tasks.join_next().await.is_some() {}
        });
        if owed.await.is_err() {
            self.tasks.abort_all();
        }
        Read::End(Some(close(1000, "idle timeout")))
    }

    /// Starts relaying one request, or answers it rate_limited at once when a
    /// limit refuses it.
    async fn relay(&mut self, text: Utf8Bytes) {
        let now = Instant::now();
        if self.tasks.len() >= MAX_IN_FLIGHT
            || !self.bucket.take(now)
            || !self.shared.per_ip.take(self.client.ip, now)
        {
            let e = error_json(
                ErrorCode::RateLimited,
                "Too many requests; slow down",
                request_id(text.as_str()),
            );
            self.out.send(Message::Text(e.into())).await;
            return;
        }
        log_action(text.as_str());
        let (shared, client, out) = (
            Arc::clone(&self.shared),
            self.client.clone(),
            self.out.clone(),
        );
        self.tasks.spawn(round_trip(shared, client, text, out));
    }

    /// Every request taken gets its reply before the connection closes; the
    /// outbox goes with `self`, which lets the writer finish.
    async fn close(mut self, closing: Option<Message>) {
        while self.tasks.join_next().await.is_some() {}
        if let Some(m) = closing {
            self.out.send(m).await;
        }
    }
}

/// One request to the service and back: its reply, or the bridge's own
/// service_unavailable when none comes; counted for `/metrics`, then queued
/// for the client.
async fn round_trip(shared: Arc<Shared>, client: Client, frame: Utf8Bytes, out: Outbox) {
    // Shared with the frame, not copied: the relay copies it once, into
    // the ZeroMQ message.
    let body = bytes::Bytes::from(frame.clone());
    let started = Instant::now();
    let timeout = shared.cfg.request_timeout;
    let (reply, took) = match shared.services.call(body, Some(client), timeout).await {
        Ok(reply) => (reply, Some(started.elapsed())),
        Err(e) => (unavailable(e, request_id(frame.as_str())), None),
    };
    shared.metrics.record(frame.as_str(), &reply, took);
    out.send(Message::Text(reply.into())).await;
}

fn unavailable(e: RelayError, request_id: Option<Value>) -> String {
    let msg = match e {
        RelayError::Unavailable | RelayError::NotSent => {
            "The users service is unavailable; try again shortly"
        }
        RelayError::Timeout => "The users service did not answer in time; try again shortly",
    };
    error_json(ErrorCode::ServiceUnavailable, msg, request_id)
}

/// The service validates requests and answers bad ones itself; the bridge
/// parses a frame only to answer it without the service (limits, the service
/// down), echoing its `request_id`, or to log its action.
fn request_id(frame: &str) -> Option<Value> {
    serde_json::from_str::<Value>(frame)
        .ok()
        .and_then(|v| v.get("request_id").cloned())
}

/// Logs the action only: requests carry passwords and session tokens.
fn log_action(frame: &str) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let v = serde_json::from_str::<Value>(frame).ok();
        let action = v
            .as_ref()
            .and_then(|v| v.get("action"))
            .and_then(|a| a.as_str())
            .unwrap_or("?");
        tracing::debug!(action, bytes = frame.len(), "relay");
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// What is waiting to be sent on one connection. A client that stops reading
/// is cut off: when a send misses `--send-timeout`, or when more than
/// `--max-queued-bytes` wait, the connection ends (`gone`), and what it had
/// queued is dropped with it.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Message>,
    queued: Arc<AtomicUsize>,
    max: usize,
    gone: Arc<Notify>,
}

/// The task that empties an [`Outbox`] onto the socket. It ends when every
/// outbox is dropped, after a close frame, or when the client is gone.
struct Writer {
    rx: mpsc::Receiver<Message>,
    queued: Arc<AtomicUsize>,
    gone: Arc<Notify>,
    send_timeout: Duration,
}

fn outbox(max_queued_bytes: usize, send_timeout: Duration) -> (Outbox, Writer) {
    let (tx, rx) = mpsc::channel(MAX_IN_FLIGHT + 8);
    let (queued, gone) = (Arc::default(), Arc::new(Notify::new()));
    let writer = Writer {
        rx,
        queued: Arc::clone(&queued),
        gone: Arc::clone(&gone),
        send_timeout,
    };
    let out = Outbox {
        tx,
        queued,
        max: max_queued_bytes,
        gone,
    };
    (out, writer)
}

impl Outbox {
    async fn send(&self, m: Message) {
        let size = message_len(&m);
        // One reply larger than the cap still goes when nothing else waits.
        let before = self.queued.fetch_add(size, Ordering::SeqCst);
        if before > 0 && before + size > self.max {
            tracing::debug!("a client stopped reading: too much queued; closing");
            self.gone.notify_one();
            return;
        }
        if self.tx.send(m).await.is_err() {
            self.queued.fetch_sub(size, Ordering::SeqCst);
        }
    }
}

impl Writer {
    async fn run(mut self, mut sink: SplitSink<WebSocket, Message>) {
        while let Some(m) = self.rx.recv().await {
            let (closing, size) = (matches!(m, Message::Close(_)), message_len(&m));
            // Most sends finish at once: only one that waits needs a timer.
            let mut send = std::pin::pin!(sink.send(m));
            let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
            let sent = match first {
                Poll::Ready(done) => Ok(done),
                Poll::Pending => tokio::time::timeout(self.send_timeout, send).await,
            };
            self.queued.fetch_sub(size, Ordering::SeqCst);
            match sent {
                Ok(Ok(())) if !closing => {}
                Ok(_) => break,
                Err(_) => {
                    tracing::debug!("a client stopped reading: send deadline passed; closing");
                    self.gone.notify_one();
                    return;
                }
            }
        }
        let _ = sink.close().await;
    }
}

fn message_len(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}
