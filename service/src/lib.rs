//! The users service: accounts, sessions and encrypted storage behind a ZeroMQ
//! ROUTER socket speaking the original service's JSON protocol.
//!
//! - [`config`]: command line and environment.
//! - [`server`]: the socket loop, the hashing pool and the writer thread.
//! - [`actions`]: one function per protocol action, with its authorization rules.
//! - [`db`]: the in-memory user table with its indexes and undo log.
//! - [`sessions`]: session tokens and their expiry.
//! - [`throttle`]: login back-off per identifier and per peer.
//! - [`store`]: the encrypted snapshot and journal on disk.
//! - [`password`]: PBKDF2 hashing and constant-time verification.
//! - [`master`]: where the master password comes from.
//! - [`clock`]: time, passed in.
//! - [`error`]: [`error::ServiceError`] and its mapping to the wire.
#![forbid(unsafe_code)]

pub mod actions;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod master;
pub mod password;
pub mod server;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod throttle;
