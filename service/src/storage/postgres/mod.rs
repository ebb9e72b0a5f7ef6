//! The PostgreSQL store, shared by several instances (in progress: the schema
//! and its migrations are here; the backend that reads and writes it comes
//! next). What PostgreSQL holds is ciphertext under the master password's key
//! and the order of changes, never a name, an address or a hash in clear.
//!
//! - [`schema`]: the tables, created and migrated by versioned steps at
//!   start-up, one instance at a time.
//! - [`header`]: the storage key: its derivation's parameters and a check
//!   token, made once, shared by every instance.
//! - [`log`]: the committed batches, in order, each one Fernet token.

pub mod header;
pub mod log;
pub mod schema;
