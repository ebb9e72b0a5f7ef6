//! The users service: accounts, sessions and encrypted storage behind a ZeroMQ
//! ROUTER socket speaking the original service's JSON protocol.
//!
//! A request passes through, in order:
//! - `server`: the socket loop reads it and builds its `Caller` (`auth::peer`),
//!   `server::codec` parses it;
//! - `actions`: authorizes and validates it, and says what is left to do:
//!   a reply now, hashing on the pool, or a change for the writer;
//! - `server::parked`, on a store shared by several instances: a request
//!   for a session or an account this instance does not know yet (or a name
//!   taken here) waits until it has caught up with the others (`follow`),
//!   then is handled again;
//! - `auth`: passwords, sessions and the login throttle, on the way;
//! - `storage`: the in-memory `UserTable` answers reads; the writer changes
//!   it and commits through a `Backend` (the encrypted files of
//!   `storage::file`, or `storage::postgres`) before the reply goes;
//! - `server::codec` again: the `Outcome` becomes reply bytes.
//!
//! Around them: `audit` (the audit log's events, their queue and
//! audit_log's paging), `model` (the stored user, its stable id, `NameKey`,
//! versioned records), `app` (the shared state), `settings`, `cli`,
//! `startup` ([`Service::open`]: the store, the first admin, the listener),
//! `master` (where the master password comes from), `clock` (time, passed
//! in), `follow` (catching up with other instances of a shared store),
//! `error` (the one error type, what each variant means, and its mapping to
//! the wire), `migrate` (copying users between a file and PostgreSQL),
//! `reset_admin` (the way back in when no admin can log in), `export` (users
//! out and in, in the original's structure), `metrics` (what
//! `--metrics-listen` serves, and the series the request path counts into),
//! `logs` (text or JSON log lines).
//!
//! Every module is private; the items below are what the binary, the tests,
//! the benchmark and the fuzz targets use.
#![forbid(unsafe_code)]

mod actions;
mod app;
mod audit;
mod auth;
mod cli;
mod clock;
mod error;
mod export;
mod follow;
mod logs;
mod master;
mod metrics;
mod migrate;
mod model;
mod reset_admin;
mod server;
mod settings;
mod startup;
mod storage;

// The public surface: what the binary, the tests, the benchmark and the
// fuzz targets reach. Everything else is the crate's own.

/// `users-service serve`: the command line, and the service it opens and runs.
pub use cli::command::Command;
pub use cli::progress::Progress;
pub use cli::{Cli, ServeArgs};
pub use logs::{init as init_logging, LogFormat};
pub use server::trusted::{BindError, TrustedEndpoint, TrustedSocket};
pub use server::ServerError;
pub use settings::Registration;
pub use startup::{open_file_store, Service, StartError};

/// The operator commands that are not the stores' own.
pub use clock::unix_secs;
pub use export::{export, import, EXPORT_STAGES, IMPORT_STAGES};
pub use migrate::{copy, StoreAt};
pub use reset_admin::reset_admin;

/// Accounts, passwords and audit events as stored, for the benchmark's
/// fixtures.
pub use audit::record::{AuditRecord, Party};
pub use audit::DEFAULT_RETENTION;
pub use auth::password;
pub use model::id::UserId;
pub use model::user::{PasswordHash, User};

/// The storage contract every store implements.
pub use storage::backend::{Backend, Change, State, StorageError};
pub use storage::crypto::FingerprintKey;

/// Request parsing, for the fuzz target.
pub use server::codec::parse as parse_request;

/// The master password: where it comes from, and the key file beside a store.
pub mod master_password {
    pub use crate::master::{key_file, resolve, resolve_new, Given, Source};
}

/// The encrypted file store: opening it, and its operator commands.
pub mod file_store {
    pub use crate::storage::file::snapshot::check_header;
    pub use crate::storage::file::{journal, operator, rotate, FileOptions, FileStore};
}

/// The PostgreSQL store, and its operator commands.
pub mod postgres {
    pub use crate::storage::postgres::header::open_key;
    pub use crate::storage::postgres::store::PgStore;
    pub use crate::storage::postgres::{backup, log, rotate, schema, snapshot, verify};
}
