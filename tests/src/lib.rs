//! Test harness: starts the real `users-service` and `users-bridge` binaries on
//! free loopback ports with temporary stores, talks to them, and stops them on
//! drop.
//!
//! - [`process`]: one child process: spawn, wait until it answers, keep its
//!   log, stop it (SIGTERM), kill it on drop; [`wait_until`] something it does.
//! - [`service`]: [`ServiceProcess`] and its [`ServiceOptions`].
//! - [`bridge`]: [`BridgeProcess`], in front of a service.
//! - [`zmq_client`]: [`Zmq`], a REQ client that never waits forever, and
//!   [`pipelined`] requests.
//! - [`ws`]: WebSocket client helpers.
//! - [`http`]: plain HTTP requests.
//! - [`tls`]: HTTPS, trusting one authority only.
//! - [`postgres`]: [`PgCluster`], a private PostgreSQL server.
//! - [`postgres_tls`]: the certificates and rules of one that takes TLS only.
//! - [`bins`]: the binaries, built once per test run, and free ports.

pub mod bins;
pub mod bridge;
pub mod http;
pub mod postgres;
pub mod postgres_tls;
pub mod process;
pub mod service;
pub mod tls;
pub mod ws;
pub mod zmq_client;

pub use bins::{bin_path, error_line, free_port, workspace};
pub use bridge::BridgeProcess;
pub use http::{http_get, http_request, HttpResponse};
pub use postgres::PgCluster;
pub use process::wait_until;
pub use service::{ServiceOptions, ServiceProcess, ADMIN_PASSWORD, MASTER};
pub use zmq_client::{pipelined, Zmq};
