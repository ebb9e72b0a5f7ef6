//! The users service: accounts, sessions and encrypted storage behind a ZeroMQ
//! ROUTER socket speaking the original service's JSON protocol.
//!
//! A request passes through, in order:
//! - [`server`]: the socket loop reads it, [`server::codec`] parses it;
//! - [`actions`]: authorizes and validates it, and says what is left to do:
//!   a reply now, hashing on the pool, or a change for the writer;
//! - [`auth`]: passwords, sessions and the login throttle, on the way;
//! - [`storage`]: the in-memory [`storage::UserTable`] answers reads; the
//!   writer changes it and commits through a [`storage::Backend`] (the
//!   encrypted files of [`storage::file`]) before the reply goes;
//! - [`server::codec`] again: the [`actions::Outcome`] becomes reply bytes.
//!
//! Around them: [`audit`] (the audit log's events, their queue and
//! audit_log's paging), [`model`] (the stored user, its stable id, versioned records),
//! [`app`] (the shared state), [`settings`], [`cli`], [`startup`] (open the
//! store, create the first admin), [`master`] (where the master password
//! comes from), [`clock`] (time, passed in), [`follow`] (catching up with
//! other instances of a shared store), [`error`] (the one error type and
//! its mapping to the wire), [`migrate`] (copying users between a file and
//! PostgreSQL), [`reset_admin`] (the way back in when no admin can log in), [`export`]
//! (users out and in, in the original's structure).
#![forbid(unsafe_code)]

pub mod actions;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod error;
pub mod export;
pub mod follow;
pub mod master;
pub mod migrate;
pub mod model;
pub mod reset_admin;
pub mod server;
pub mod settings;
pub mod startup;
pub mod storage;
