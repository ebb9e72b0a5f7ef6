//! WebSocket client helpers.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, optionally sending an Origin header.
pub async fn connect(
    url: &str,
    origin: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
    connect_with(url, &headers).await
}

/// Connects with these request headers.
pub async fn connect_with(
    url: &str,
    headers: &[(&'static str, &str)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = url.into_client_request()?;
    for (name, value) in headers {
        req.headers_mut()
            .insert(*name, value.parse().expect("header value"));
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// A client connection over a Unix socket (the bridge's `--listen-unix`).
pub type UnixWs = tokio_tungstenite::WebSocketStream<tokio::net::UnixStream>;

/// Connects to `/ws` through the Unix socket at `path`, with these request
/// headers, as a reverse proxy on the machine would.
pub async fn connect_unix(
    path: &std::path::Path,
    headers: &[(&'static str, &str)],
) -> Result<UnixWs, tokio_tungstenite::tungstenite::Error> {
    let stream = tokio::net::UnixStream::connect(path).await?;
    let mut req = "ws://localhost/ws".into_client_request()?;
    for (name, value) in headers {
        req.headers_mut()
            .insert(*name, value.parse().expect("header value"));
    }
    Ok(tokio_tungstenite::client_async(req, stream).await?.0)
}

/// Sends a text frame.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, text: String) {
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// The next text frame as JSON, or `None` when the connection closes.
pub async fn recv<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> Option<Value> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("no frame within 20 s")?;
        match m {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("JSON reply"))
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// One request, one reply, as text (no JSON work on this side).
pub async fn call_raw(ws: &mut Ws, req: &str) -> String {
    ws.send(Message::Text(req.into())).await.expect("send");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

/// One request, one reply.
pub async fn call<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    req: Value,
) -> Value {
    send(ws, req.to_string()).await;
    recv(ws).await.expect("a reply")
}
