//! Command line and environment. Positional `[PORT] [STORAGE_FILE]` as the original.

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// The users service: accounts, sessions and encrypted storage over ZeroMQ.
///
/// The master password comes from USERS_SERVICE_PASSWORD; without it, a random
/// secret is kept in STORAGE_FILE.key (owner-only). The first start on an empty
/// store creates the user `admin` with USERS_SERVICE_ADMIN_PASSWORD, or `admin123`.
#[derive(Debug, Clone, Parser)]
#[command(name = "users-service", version, args_override_self = true)]
pub struct Config {
    /// TCP port of the ZeroMQ ROUTER socket.
    #[arg(default_value_t = 5556)]
    pub port: u16,

    /// Encrypted store (its journal is STORAGE_FILE.journal).
    #[arg(default_value = "users_encrypted.json")]
    pub storage_file: PathBuf,

    /// Address to bind: 127.0.0.1 (this machine only), 0.0.0.0 or * (every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,

    /// Absolute session lifetime, e.g. 24h, 30m.
    #[arg(long, default_value = "24h", value_parser = duration)]
    pub session_lifetime: Duration,

    /// Shortest accepted password.
    #[arg(long, default_value_t = users_protocol::validate::PASSWORD_MIN_DEFAULT)]
    pub min_password_length: usize,

    /// PBKDF2-HMAC-SHA256 iterations for new password hashes; older hashes are
    /// upgraded at the next login.
    #[arg(long, default_value_t = crate::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub pbkdf2_iterations: u32,

    /// PBKDF2 iterations deriving the storage key of a new store.
    #[arg(long, default_value_t = crate::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub kdf_iterations: u32,

    /// Threads hashing passwords (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,

    /// Failed logins per identifier before back-off starts.
    #[arg(long, default_value_t = 5)]
    pub throttle_failures: u32,

    /// Failed logins per peer address before back-off starts.
    #[arg(long, default_value_t = 20)]
    pub throttle_peer_failures: u32,

    /// Longest back-off after repeated failures.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub throttle_max_delay: Duration,

    /// Peer address exempt from per-peer throttling (repeatable), e.g. the bridge's.
    #[arg(long = "trusted-peer")]
    pub trusted_peers: Vec<IpAddr>,

    /// Largest request accepted, in bytes; larger ones get a too_large reply.
    #[arg(long, default_value_t = 65536)]
    pub max_request_bytes: usize,

    /// Journal records that trigger a new snapshot.
    #[arg(long, default_value_t = 10_000)]
    pub compact_after: usize,
}

impl Config {
    /// The ZeroMQ endpoint to bind.
    pub fn endpoint(&self) -> String {
        format!("tcp://{}:{}", self.bind, self.port)
    }

    /// Hashing threads.
    pub fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1)
    }
}
