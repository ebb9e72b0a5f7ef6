//! users-bridge: lets browsers speak the users service's JSON protocol over
//! WebSocket. Each text frame is one request, relayed unchanged to a service
//! instance over a multiplexed ZeroMQ DEALER socket per instance; each reply goes
//! back on the connection it came from.
//!
//! The modules are private; the crate exports what `main.rs` needs to start
//! the bridge: [`Config`] (with [`Protect`]), [`Services`] (with its [`StartError`]), the
//! [`Listeners`] (with [`UnixSocket`] and its [`BindError`], and
//! [`tls_acceptor`]), [`run`] and [`init_logging`]; and what `users-lan-cert`
//! needs: [`lan_cert`].
//!
//! - `config`: command line.
//! - `assets`: the web UI's files: compressed copies, caching, the app's routes.
//! - `csp`: the Content-Security-Policy, with the UI's inline loader by hash.
//! - `client_ip`: who the client is, behind a trusted reverse proxy too, and
//!   which peers are trusted: by address on TCP, by socket on `--listen-unix`.
//! - `state`: what every connection shares.
//! - `reply`: error replies the bridge makes itself.
//! - `relay`: the ZeroMQ side: correlation, timeouts, service health.
//! - `services`: one relay per service instance, and which takes a request.
//! - `ws`: one WebSocket connection: reading frames against the limits,
//!   relaying each, the writer task that sends replies, shutdown.
//! - `limits`: token-bucket rate limits per connection and per IP.
//! - `metrics`: `/metrics`, counts by action, outcome and error code.
//! - `logs`: text or JSON log lines, and the filter that keeps frames, and
//!   so secrets, out of the log.
//! - `host`: the Host check against DNS rebinding.
//! - `origin`: the Origin check of requests made with a user's credentials.
//! - `forward`: forward authentication for reverse proxies (`/auth/verify`,
//!   `/auth/forward`) and its sign-in cookie (`/auth/session`, `/auth/logout`).
//! - `socket_file`: `--listen-unix`'s socket file: its mode, a stale one, removal.
//! - `serve`: the accept loop on both listeners: header deadline, connection
//!   caps, shutdown.
//! - `tls`: HTTPS and WSS with rustls (`--tls-cert`, `--tls-key`).
//! - [`lan_cert`]: a small certificate authority and a certificate for this
//!   machine, for HTTPS on a LAN (`users-lan-cert`).
//! - `http`: the HTTP server: `/ws`, `/healthz`, `/metrics`, static files.
#![deny(unsafe_code)]

mod assets;
mod client_ip;
mod config;
mod csp;
mod forward;
mod host;
mod http;
pub mod lan_cert;
mod limits;
mod logs;
mod metrics;
mod origin;
mod relay;
mod reply;
mod serve;
mod services;
mod socket_file;
mod state;
mod tls;
mod ws;

pub use config::Config;
pub use forward::rules::Protect;
pub use http::run;
pub use logs::{init as init_logging, LogFormat};
pub use relay::StartError;
pub use serve::Listeners;
pub use services::Services;
pub use socket_file::{BindError, UnixSocket};
pub use tls::{acceptor as tls_acceptor, TlsError};
