//! One WebSocket connection: checks each frame against the limits, relays it, and
//! sends each reply back as it arrives (replies may overtake one another; clients
//! match them by `request_id`).

use crate::limits::Bucket;
use crate::relay::{Client, RelayError};
use crate::reply::error_json;
use crate::state::Shared;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use users_protocol::ErrorCode;

/// Requests one connection may have in flight.
const MAX_IN_FLIGHT: usize = 256;

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

fn message_len(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}

/// Serves one upgraded connection until it closes, idles out, stops reading,
/// or the bridge stops.
pub(crate) async fn serve(
    socket: WebSocket,
    ip: IpAddr,
    agent: Option<Arc<str>>,
    shared: Arc<Shared>,
) {
    let client = Client { ip, agent };
    let (mut sink, mut stream) = socket.split();
    let (tx, mut out_rx) = mpsc::channel::<Message>(MAX_IN_FLIGHT + 8);
    let out = Outbox {
        tx,
        queued: Arc::default(),
        max: shared.cfg.max_queued_bytes,
        gone: Arc::new(Notify::new()),
    };
    let writer = {
        let (queued, gone, deadline) = (
            Arc::clone(&out.queued),
            Arc::clone(&out.gone),
            shared.cfg.send_timeout,
        );
        tokio::spawn(async move {
            while let Some(m) = out_rx.recv().await {
                let (closing, size) = (matches!(m, Message::Close(_)), message_len(&m));
                let sent = tokio::time::timeout(deadline, sink.send(m)).await;
                queued.fetch_sub(size, Ordering::SeqCst);
                match sent {
                    Ok(Ok(())) if !closing => {}
                    Ok(_) => break,
                    Err(_) => {
                        tracing::debug!("a client stopped reading: send deadline passed; closing");
                        gone.notify_one();
                        return;
                    }
                }
            }
            let _ = sink.close().await;
        })
    };

    let cfg = &shared.cfg;
    let mut bucket = Bucket::new(cfg.rate_per_connection, Instant::now());
    let mut tasks = JoinSet::new();
    let mut shutdown = shared.shutdown.clone();
    let mut closing: Option<Message> = None;
    loop {
        // Reap finished relays so the in-flight count stays true.
        while tasks.try_join_next().is_some() {}
        let next = tokio::select! {
            m = tokio::time::timeout(cfg.idle_timeout, stream.next()) => m,
            _ = shutdown.wait_for(|stop| *stop) => {
                closing = Some(close(1001, "bridge shutting down"));
                break;
            }
            () = out.gone.notified() => {
                // It reads nothing: there is no one to answer.
                tasks.abort_all();
                break;
            }
        };
        let text = match next {
            Err(_) => {
                // Nothing from the client for the idle timeout: replies still
                // owed get one more second, then the connection ends.
                let owed = tokio::time::timeout(Duration::from_secs(1), async {
                    while tasks.join_next().await.is_some() {}
                });
                if owed.await.is_err() {
                    tasks.abort_all();
                }
                closing = Some(close(1000, "idle timeout"));
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Binary(_)))) => {
                out.send(Message::Text(
                    error_json(
                        ErrorCode::InvalidRequest,
                        "Binary frames are not accepted: send JSON text",
                        None,
                    )
                    .into(),
                ))
                .await;
                closing = Some(close(1003, "binary frames are not accepted"));
                break;
            }
            Ok(Some(Ok(Message::Text(t)))) => t,
        };
        if text.len() > cfg.max_frame_bytes {
            let msg = format!("Request larger than {} bytes", cfg.max_frame_bytes);
            out.send(Message::Text(
                error_json(ErrorCode::TooLarge, &msg, None).into(),
            ))
            .await;
            closing = Some(close(1009, "request too large"));
            break;
        }
        // The service validates requests and answers bad ones itself; the bridge
        // parses a frame only to answer it without the service (rate limits) or
        // to log its action.
        let request_id = |t: &str| {
            serde_json::from_str::<Value>(t)
                .ok()
                .and_then(|v| v.get("request_id").cloned())
        };
        let now = Instant::now();
        if tasks.len() >= MAX_IN_FLIGHT || !bucket.take(now) || !shared.per_ip.take(ip, now) {
            let e = error_json(
                ErrorCode::RateLimited,
                "Too many requests; slow down",
                request_id(text.as_str()),
            );
            out.send(Message::Text(e.into())).await;
            continue;
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            // Log the action only: requests carry passwords and session tokens.
            let v = serde_json::from_str::<Value>(text.as_str()).ok();
            let action = v
                .as_ref()
                .and_then(|v| v.get("action"))
                .and_then(|a| a.as_str())
                .unwrap_or("?");
            tracing::debug!(action, bytes = text.len(), "relay");
        }
        let (out, timeout) = (out.clone(), cfg.request_timeout);
        let counts = Arc::clone(&shared);
        let body = text.as_str().to_owned();
        let frame = text.clone(); // shares the bytes; read again only on failure
        let client = client.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let (reply, took) = match counts.services.call(body, Some(client), timeout).await {
                Ok(reply) => (reply, Some(started.elapsed())),
                Err(e) => {
                    let msg = match e {
                        RelayError::Unavailable | RelayError::NotSent => {
                            "The users service is unavailable; try again shortly"
                        }
                        RelayError::Timeout => {
                            "The users service did not answer in time; try again shortly"
                        }
                    };
                    let e = error_json(
                        ErrorCode::ServiceUnavailable,
                        msg,
                        request_id(frame.as_str()),
                    );
                    (e, None)
                }
            };
            counts.metrics.record(frame.as_str(), &reply, took);
            out.send(Message::Text(reply.into())).await;
        });
    }
    // Every request taken gets its reply before the connection closes.
    while tasks.join_next().await.is_some() {}
    if let Some(m) = closing {
        out.send(m).await;
    }
    drop(out);
    if !writer.is_finished() {
        let _ = writer.await;
    }
}
