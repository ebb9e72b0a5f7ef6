//! The connection to the bridge. One WebSocket carries every request; each gets a
//! numeric `request_id` and its reply is routed back by it, so requests may be in
//! flight together. When the socket drops, waiting calls fail at once, the state
//! shows on screen, and the socket is reopened with capped, jittered back-off.
//! When the bridge answers that the service is unavailable, that shows too, and
//! a health check every few seconds notices its return.

use super::error::ApiError;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use users_protocol::response::{parse_reply, Empty};
use users_protocol::{ErrorCode, Reply, Request, RequestEnvelope};

/// How long a call waits for its reply.
const CALL_TIMEOUT_MS: u32 = 15_000;
/// How long a call waits for a connection that is being opened.
const CONNECT_WAIT_MS: u32 = 5_000;
/// Reconnection back-off: the first pause and the longest.
const BACKOFF_MS: (u32, u32) = (250, 5_000);
/// How often the service is asked whether it is back.
const PROBE_MS: u32 = 2_000;

/// State of the WebSocket, shown in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conn {
    /// Opening.
    Connecting,
    /// Open: a reply has come back on it.
    Up,
    /// Closed; reopening after a pause.
    Down,
}

#[derive(Default)]
struct Client {
    out: RefCell<Option<mpsc::UnboundedSender<String>>>,
    pending: RefCell<HashMap<u64, oneshot::Sender<String>>>,
    next_id: Cell<u64>,
    /// Whether the service answers; false after a `service_unavailable`.
    service_up: Cell<Option<RwSignal<bool>>>,
    /// A probe is waiting for the service to come back.
    probing: Cell<bool>,
}

thread_local! {
    // The browser runs this on one thread; the client lives for the page.
    static CLIENT: Client = Client::default();
}

/// `ws://` or `wss://` plus the page's host, path `/ws`.
pub(crate) fn ws_url() -> String {
    let loc = web_sys::window().map(|w| w.location());
    let protocol = loc
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_default();
    let host = loc
        .and_then(|l| l.host().ok())
        .unwrap_or_else(|| "127.0.0.1:8765".into());
    ws_url_for(&protocol, &host)
}

fn ws_url_for(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/ws")
}

fn request_id_of(text: &str) -> Option<u64> {
    serde_json::from_str::<Value>(text)
        .ok()?
        .get("request_id")?
        .as_u64()
}

/// Whether a reply is the error `service_unavailable`.
fn says_service_unavailable(text: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| Some(v.get("code")?.as_str()? == ErrorCode::ServiceUnavailable.as_str()))
        .unwrap_or(false)
}

/// A pause of between half and all of `backoff` ms, so that many pages cut off
/// together do not all come back in the same instant.
fn jittered(backoff: u32) -> u32 {
    let spread = f64::from(backoff / 2) * js_sys::Math::random();
    backoff / 2 + spread as u32
}

/// The next back-off after `backoff`: doubled, capped.
fn next_backoff(backoff: u32) -> u32 {
    backoff.saturating_mul(2).min(BACKOFF_MS.1)
}

/// Opens the connection and keeps it open for the life of the page; `status`
/// follows the socket and `service_up` the service behind the bridge.
pub(crate) fn start(status: RwSignal<Conn>, service_up: RwSignal<bool>) {
    CLIENT.with(|c| c.service_up.set(Some(service_up)));
    leptos::task::spawn_local(async move {
        let mut backoff = BACKOFF_MS.0;
        loop {
            status.set(Conn::Connecting);
            if let Ok(ws) = WebSocket::open(&ws_url()) {
                let (mut sink, mut stream) = ws.split();
                let (tx, mut rx) = mpsc::unbounded::<String>();
                // A first request proves the socket open end to end.
                let hello = RequestEnvelope {
                    request_id: Some(Value::from(0)),
                    request: Request::HealthCheck {},
                };
                let _ = tx.unbounded_send(serde_json::to_string(&hello).unwrap_or_default());
                CLIENT.with(|c| *c.out.borrow_mut() = Some(tx));
                leptos::task::spawn_local(async move {
                    while let Some(text) = rx.next().await {
                        if sink.send(Message::Text(text)).await.is_err() {
                            break;
                        }
                    }
                });
                while let Some(msg) = stream.next().await {
                    let Ok(Message::Text(text)) = msg else { break };
                    if status.get_untracked() != Conn::Up {
                        status.set(Conn::Up);
                        backoff = BACKOFF_MS.0;
                    }
                    match request_id_of(&text) {
                        // The first request's answer: whether the service is up.
                        Some(0) => note_service(!says_service_unavailable(&text)),
                        Some(id) => {
                            if let Some(tx) = CLIENT.with(|c| c.pending.borrow_mut().remove(&id)) {
                                let _ = tx.send(text);
                            }
                        }
                        None => {}
                    }
                }
                // Dropping the senders fails every waiting call.
                CLIENT.with(|c| {
                    c.out.borrow_mut().take();
                    c.pending.borrow_mut().clear();
                });
            }
            status.set(Conn::Down);
            TimeoutFuture::new(jittered(backoff)).await;
            backoff = next_backoff(backoff);
        }
    });
}

/// Records whether the service answered; on the first `service_unavailable`
/// starts asking it, every few seconds, whether it is back.
fn note_service(up: bool) {
    let Some(signal) = CLIENT.with(|c| c.service_up.get()) else {
        return;
    };
    if signal.get_untracked() != up {
        signal.set(up);
    }
    if up || CLIENT.with(|c| c.probing.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        while !signal.get_untracked() {
            TimeoutFuture::new(PROBE_MS).await;
            let _: Result<Reply<Empty>, _> = call(Request::HealthCheck {}).await;
        }
        CLIENT.with(|c| c.probing.set(false));
    });
}

fn connected() -> bool {
    CLIENT.with(|c| c.out.borrow().is_some())
}

/// Sends a request and waits for its reply.
pub(crate) async fn call<T: DeserializeOwned>(request: Request) -> Result<Reply<T>, ApiError> {
    let text = exchange(request).await?;
    let reply = parse_reply(&text).map_err(ApiError::from);
    note_reply(reply.as_ref().err());
    reply
}

/// Whether a reply (`error` when it is one) shows the service answering.
fn note_reply(error: Option<&ApiError>) {
    match error {
        Some(e) if e.code() == Some(ErrorCode::ServiceUnavailable) => note_service(false),
        None | Some(ApiError::Service(_)) => note_service(true),
        Some(_) => {}
    }
}

/// Sends a request and waits for the text of its reply. Apart from [`call`],
/// which only parses, so that this is compiled once, not once per reply type.
async fn exchange(request: Request) -> Result<String, ApiError> {
    let mut waited = 0;
    while !connected() && waited < CONNECT_WAIT_MS {
        TimeoutFuture::new(100).await;
        waited += 100;
    }
    let (id, rx) = CLIENT.with(|c| {
        let id = c.next_id.get() + 1;
        c.next_id.set(id);
        let (tx, rx) = oneshot::channel();
        c.pending.borrow_mut().insert(id, tx);
        (id, rx)
    });
    let forget = || CLIENT.with(|c| c.pending.borrow_mut().remove(&id));
    let env = RequestEnvelope {
        request_id: Some(Value::from(id)),
        request,
    };
    let text = serde_json::to_string(&env).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let sent = CLIENT.with(|c| {
        c.out
            .borrow()
            .as_ref()
            .is_some_and(|tx| tx.unbounded_send(text).is_ok())
    });
    if !sent {
        forget();
        return Err(ApiError::Disconnected);
    }
    futures::select! {
        reply = rx.fuse() => reply.map_err(|_| ApiError::Disconnected),
        _ = TimeoutFuture::new(CALL_TIMEOUT_MS).fuse() => {
            forget();
            Err(ApiError::Timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_url_follows_the_page() {
        assert_eq!(
            ws_url_for("http:", "127.0.0.1:8765"),
            "ws://127.0.0.1:8765/ws"
        );
        assert_eq!(
            ws_url_for("https:", "users.example"),
            "wss://users.example/ws"
        );
    }

    #[test]
    fn replies_are_routed_by_numeric_request_id() {
        assert_eq!(
            request_id_of(r#"{"status":"success","request_id":7}"#),
            Some(7)
        );
        assert_eq!(
            request_id_of(r#"{"status":"error","request_id":"x"}"#),
            None
        );
        assert_eq!(request_id_of("garbage"), None);
    }

    #[test]
    fn an_unavailable_service_is_told_from_other_errors() {
        assert!(says_service_unavailable(
            r#"{"status":"error","code":"service_unavailable","message":"x","request_id":0}"#
        ));
        assert!(!says_service_unavailable(
            r#"{"status":"error","code":"rate_limited","message":"x"}"#
        ));
        assert!(!says_service_unavailable(r#"{"status":"success"}"#));
    }

    #[test]
    fn back_off_doubles_up_to_its_cap() {
        let mut b = BACKOFF_MS.0;
        let mut seen = vec![b];
        while b < BACKOFF_MS.1 {
            b = next_backoff(b);
            seen.push(b);
        }
        assert_eq!(seen, [250, 500, 1000, 2000, 4000, 5000]);
        assert_eq!(next_backoff(BACKOFF_MS.1), BACKOFF_MS.1);
    }
}
