//! The command line. `users-service [PORT] [STORAGE_FILE]` serves, as the
//! original did; operator subcommands sit beside it in [`Command`].

use crate::auth::policy::PasswordPolicy;
use crate::auth::sessions::Lifetimes;
use crate::auth::throttle::ThrottleConfig;
use crate::server::trusted::TrustedEndpoint;
use crate::settings::Settings;
use crate::storage::file::FileOptions;
use clap::{Args, Parser};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) mod command;
pub(crate) mod progress;
pub(crate) use command::Command;

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// The users service: accounts, sessions and encrypted storage over ZeroMQ.
///
/// The master password comes from USERS_SERVICE_PASSWORD; without it, a random
/// secret is kept in STORAGE_FILE.key (owner-only). The first start on an empty
/// store creates the user `admin` with USERS_SERVICE_ADMIN_PASSWORD, or `admin123`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "users-service",
    version,
    args_override_self = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// An operator command; without one, the service serves.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log as text, or as one JSON object per line (timestamp, level,
    /// target, message and fields).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub log_format: crate::logs::LogFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub serve: ServeArgs,
}

/// Whether a store argument names a PostgreSQL database rather than a file.
pub(crate) fn is_database(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// Serving: where to listen, where to store, and the settings.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// TCP port of the ZeroMQ ROUTER socket.
    #[arg(default_value_t = 5556)]
    pub port: u16,

    /// Encrypted store (its journal is STORAGE_FILE.journal).
    #[arg(default_value = "users_encrypted.json")]
    pub storage_file: PathBuf,

    /// Keep users in this PostgreSQL database instead of STORAGE_FILE, e.g.
    /// postgres://users@db.example:5432/users. It holds only ciphertext under
    /// the master password's key. Any number of instances may share it.
    #[arg(long, env = "USERS_SERVICE_DATABASE", hide_env_values = true)]
    pub database: Option<String>,

    /// Address to bind: 127.0.0.1 (this machine only), 0.0.0.0 or * (every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,

    /// Absolute session lifetime, e.g. 24h, 30m.
    #[arg(long, default_value = "24h", value_parser = duration)]
    pub session_lifetime: Duration,

    /// End a session unused for this long, e.g. 1h (NIST SP 800-63B's
    /// suggestion at AAL2). Off by default, as in the original.
    #[arg(long, value_parser = idle_timeout)]
    pub session_idle_timeout: Option<Duration>,

    /// Most sessions one account may have at once; a login past it ends the
    /// account's session that would end first.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions_per_user: u32,

    /// Shortest accepted password. The default is the original service's 6;
    /// 8 or more is recommended (NIST SP 800-63B).
    #[arg(long, default_value_t = users_protocol::validate::PASSWORD_MIN_DEFAULT)]
    pub min_password_length: usize,

    /// Whether new passwords on the bundled list of the 30,000 most common
    /// ones are refused: on or off.
    #[arg(long, default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub password_blocklist: bool,

    /// A file of words no new password may contain, in any case and with any
    /// separator (one a line; `#` starts a comment), such as the
    /// organisation's name. The service's own name is always refused.
    #[arg(long, value_parser = context_words)]
    pub password_context_words: Option<std::sync::Arc<[String]>>,

    /// PBKDF2-HMAC-SHA256 iterations for new password hashes; older hashes are
    /// upgraded at the next login.
    #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub pbkdf2_iterations: u32,

    /// PBKDF2 iterations deriving the storage key of a new store.
    #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub kdf_iterations: u32,

    /// Threads hashing passwords (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,

    /// Failed password checks per account (logins and confirmations; an
    /// unknown name counts as one) before back-off starts.
    #[arg(long, default_value_t = 5)]
    pub throttle_failures: u32,

    /// Failed logins per peer address before back-off starts.
    #[arg(long, default_value_t = 20)]
    pub throttle_peer_failures: u32,

    /// Longest back-off after repeated failures.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub throttle_max_delay: Duration,

    /// A Unix socket for trusted peers (the bridge), besides the TCP port, e.g.
    /// ipc:///run/users-service/bridge.sock. Whoever may connect to it is
    /// trusted: its requests are exempt from the per-peer limits, and the
    /// client address it forwards is believed. The socket file is made mode
    /// 0660, so the service's user and group decide who that is. Its
    /// directory must exist; a socket left by a stopped service is replaced,
    /// anything else there stops the start.
    #[arg(long, value_name = "ipc://PATH", value_parser = TrustedEndpoint::parse)]
    pub trusted_endpoint: Option<TrustedEndpoint>,

    /// Serve GET /metrics (Prometheus text format) on this address: a port
    /// alone listens on 127.0.0.1, e.g. 9464 or 0.0.0.0:9464. Off by default.
    #[arg(long, value_name = "ADDR", value_parser = crate::metrics::serve::listen_addr)]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// An address besides loopback that may read --metrics-listen's
    /// /metrics (repeatable), such as Prometheus's; others are cut off.
    #[arg(long = "metrics-allow", value_name = "IP")]
    pub metrics_allow: Vec<IpAddr>,

    /// A peer address on the TCP port trusted as the trusted endpoint's peers
    /// are (repeatable), e.g. a bridge on another machine. None by default:
    /// on one machine any process can connect from 127.0.0.1, so use
    /// --trusted-endpoint there.
    #[arg(long = "trusted-peer")]
    pub trusted_peers: Vec<IpAddr>,

    /// Largest request accepted, in bytes; larger ones get a too_large reply.
    #[arg(long, default_value_t = 65536)]
    pub max_request_bytes: usize,

    /// How long audit events are kept, e.g. 90d, 1y; older ones are dropped
    /// once a day.
    #[arg(long, default_value = "90d", value_parser = duration)]
    pub audit_retention: Duration,

    /// Journal records that trigger a new snapshot.
    #[arg(long, default_value_t = 10_000)]
    pub compact_after: usize,

    /// Whether list_users answers without a session (the public view), as the
    /// original did: on or off.
    #[arg(long, default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub public_list: bool,

    /// Anonymous list_users a second per peer address (bursts of twice that);
    /// trusted peers are exempt.
    #[arg(long, default_value_t = 5.0, value_parser = rate)]
    pub public_list_rate: f64,

    /// A role whose accounts must use two-factor login (repeatable, e.g.
    /// admin): until such an account sets it up, its sessions may only do
    /// that (two_factor_required).
    #[arg(long = "require-two-factor", value_parser = role_name)]
    pub require_two_factor: Vec<users_protocol::Role>,

    /// Who may make an account: `open` (anyone, as the original), `invite`
    /// (admins, and whoever has an invitation) or `closed` (admins only).
    /// Refused requests get registration_closed.
    #[arg(long, value_enum, default_value = "open")]
    pub registration: crate::settings::Registration,

    /// The relying party id of passkeys: the domain they are made for, that
    /// of the page that offers them or one it ends with. Browsers take no
    /// IP address here.
    #[arg(long, default_value = "localhost")]
    pub webauthn_rp_id: String,

    /// An origin whose pages may make and use passkeys, such as
    /// https://users.example.lan (repeatable; its host is the RP id or
    /// under it). A credential from any other origin is refused.
    #[arg(long = "webauthn-origin", default_value = "http://localhost:8765")]
    pub webauthn_origins: Vec<webauthn_rs::prelude::Url>,

    /// Accounts created a second per peer address (bursts of twice that);
    /// trusted peers are exempt.
    #[arg(long, default_value_t = 10.0, value_parser = rate)]
    pub create_rate: f64,

    /// Slow requests (hashing a password, building a large list) that may wait
    /// at once; more get rate_limited ("busy").
    #[arg(long, default_value_t = 4096)]
    pub max_slow_queue: usize,

    /// Slow requests that may wait at once for one peer address; trusted peers
    /// are exempt.
    #[arg(long, default_value_t = 64)]
    pub max_slow_per_peer: usize,

    /// Changes that may wait for the writer at once; they have a queue of their
    /// own, so they keep moving while the slow queue is full.
    #[arg(long, default_value_t = 4096)]
    pub max_write_queue: usize,
}

fn idle_timeout(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(366 * 24 * 3600) {
        return Err(format!("'{s}': from 1s to 366d"));
    }
    Ok(d)
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{s}': a number of requests a second, above 0")),
    }
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("'{s}': use on or off")),
    }
}

/// A role by its wire name.
fn role_name(s: &str) -> Result<users_protocol::Role, String> {
    users_protocol::Role::from_name(s).ok_or_else(|| {
        format!(
            "'{s}': use one of {}",
            users_protocol::Role::NAMES.join(", ")
        )
    })
}

/// `--password-context-words`: the file is read once, at start-up.
fn context_words(s: &str) -> Result<std::sync::Arc<[String]>, String> {
    crate::auth::policy::read_context_words(std::path::Path::new(s))
}

impl ServeArgs {
    /// The ZeroMQ endpoint to bind.
    pub fn endpoint(&self) -> String {
        format!("tcp://{}:{}", self.bind, self.port)
    }

    /// The file store's tuning for an operator command: as serving's, but
    /// the audit log is never pruned (the command does not know the service's
    /// `--audit-retention`, and must not drop what the service would keep).
    pub fn operator_file_options(&self) -> FileOptions {
        FileOptions {
            audit_retention: Duration::MAX,
            ..self.file_options()
        }
    }

    /// The file store's tuning.
    pub fn file_options(&self) -> FileOptions {
        FileOptions {
            kdf_iterations: self.kdf_iterations,
            compact_after: self.compact_after,
            audit_retention: self.audit_retention,
        }
    }

    /// The service's settings, or what is wrong with the flags.
    pub fn settings(&self) -> Result<Settings, String> {
        let passkeys =
            crate::auth::passkey::relying_party(&self.webauthn_rp_id, &self.webauthn_origins)?;
        Ok(Settings {
            sessions: Lifetimes {
                absolute: self.session_lifetime,
                idle: self.session_idle_timeout,
                max_per_user: self.max_sessions_per_user as usize,
            },
            password_policy: PasswordPolicy {
                min_length: self.min_password_length,
                blocklist: self.password_blocklist,
                context_words: self
                    .password_context_words
                    .clone()
                    .unwrap_or_else(|| std::sync::Arc::from(Vec::new())),
            },
            pbkdf2_iterations: self.pbkdf2_iterations,
            workers: self
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
                .max(1),
            throttle: ThrottleConfig {
                free_failures: self.throttle_failures,
                peer_free_failures: self.throttle_peer_failures,
                base_delay: Duration::from_secs(1),
                max_delay: self.throttle_max_delay,
                trusted_peers: self.trusted_peers.clone(),
            },
            max_request_bytes: self.max_request_bytes,
            public_list: self.public_list,
            public_list_rate: self.public_list_rate,
            create_rate: self.create_rate,
            max_slow_queue: self.max_slow_queue,
            max_slow_per_peer: self.max_slow_per_peer,
            max_write_queue: self.max_write_queue,
            require_two_factor: self.require_two_factor.clone(),
            registration: self.registration,
            passkeys: std::sync::Arc::new(passkeys),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_positional_form_still_serves() {
        let cli =
            Cli::try_parse_from(["users-service", "6000", "s.json", "--workers", "3"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.endpoint(), "tcp://127.0.0.1:6000");
        assert_eq!(cli.serve.storage_file, PathBuf::from("s.json"));
        assert_eq!(cli.serve.settings().unwrap().workers, 3);
        let cli = Cli::try_parse_from(["users-service"]).unwrap();
        assert_eq!(cli.serve.port, 5556);
    }

    #[test]
    fn subcommands_are_told_apart_from_serving() {
        let cli = Cli::try_parse_from(["users-service", "upgrade", "s.json"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Upgrade { storage_file }) if storage_file == std::path::Path::new("s.json"))
        );
        assert!(Cli::try_parse_from(["users-service", "upgrade", "--workers", "2"]).is_err());
    }

    #[test]
    fn only_an_ipc_trusted_endpoint_is_accepted_and_none_by_default() {
        let cli = Cli::try_parse_from(["users-service"]).unwrap();
        assert_eq!(cli.serve.trusted_endpoint, None);
        assert!(cli.serve.trusted_peers.is_empty(), "no address is trusted");
        let e = Cli::try_parse_from([
            "users-service",
            "--trusted-endpoint",
            "tcp://127.0.0.1:5557",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("--trusted-endpoint"), "{e}");
        let cli =
            Cli::try_parse_from(["users-service", "--trusted-endpoint", "ipc:///run/u/b.sock"])
                .unwrap();
        let endpoint = cli.serve.trusted_endpoint.unwrap();
        assert_eq!(endpoint.path(), std::path::Path::new("/run/u/b.sock"));
    }

    #[test]
    fn rates_must_be_above_zero() {
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(
                Cli::try_parse_from(["users-service", "--create-rate", bad]).is_err(),
                "{bad}"
            );
        }
        let cli = Cli::try_parse_from(["users-service", "--public-list-rate", "0.5"]).unwrap();
        assert_eq!(cli.serve.settings().unwrap().public_list_rate, 0.5);
    }

    #[test]
    fn the_idle_timeout_is_bounded() {
        for bad in ["0s", "500ms", "400d", "soon"] {
            assert!(
                Cli::try_parse_from(["users-service", "--session-idle-timeout", bad]).is_err(),
                "{bad}"
            );
        }
        let cli = Cli::try_parse_from(["users-service", "--session-idle-timeout", "1h"]).unwrap();
        assert_eq!(
            cli.serve.settings().unwrap().sessions.idle,
            Some(Duration::from_secs(3600))
        );
        let cli = Cli::try_parse_from(["users-service"]).unwrap();
        assert_eq!(
            cli.serve.settings().unwrap().sessions.idle,
            None,
            "off by default"
        );
        assert!(cli.serve.settings().unwrap().password_policy.blocklist);
    }

    #[test]
    fn each_subcommand_has_its_own_help() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let about = |name: &str| {
            cli.find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default()
        };
        assert!(
            about("migrate").starts_with("Copy every user"),
            "{}",
            about("migrate")
        );
        assert!(
            about("verify").starts_with("Open a store read-only"),
            "{}",
            about("verify")
        );
    }
}
