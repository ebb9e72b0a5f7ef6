//! users-bridge: lets browsers speak the users service's JSON protocol over
//! WebSocket. Each text frame is one request, relayed unchanged to the service over
//! one multiplexed ZeroMQ DEALER socket; each reply goes back on the connection it
//! came from.
//!
//! - [`config`]: command line.
//! - [`relay`]: the ZeroMQ side: correlation, timeouts, service health.
//! - [`ws`]: one WebSocket connection: limits, relaying, shutdown.
//! - [`limits`]: token-bucket rate limits per connection and per IP.
//! - [`http`]: the HTTP server: `/ws`, `/healthz`, the Origin check, static files.
#![deny(unsafe_code)]

pub mod config;
pub mod http;
pub mod limits;
pub mod relay;
pub mod ws;

use users_protocol::{ErrorCode, ErrorReply};

/// A protocol-shaped error reply, echoing `request_id` when the request had one.
pub fn error_json(code: ErrorCode, message: &str, request_id: Option<serde_json::Value>) -> String {
    let mut e = ErrorReply::new(code, message);
    e.request_id = request_id;
    serde_json::to_string(&e).unwrap_or_default()
}
