//! The PostgreSQL store (`users-service --database URL`). It is built to be
//! shared by several instances; so far one instance at a time uses it, and
//! following the others' writes (LISTEN/NOTIFY), shared sessions and the
//! bridge's several services come next. What PostgreSQL holds is ciphertext under the master password's key
//! and the order of changes, never a name, an address or a hash in clear.
//!
//! - [`errors`]: how PostgreSQL work fails.
//! - [`schema`]: the tables, created and migrated by versioned steps at
//!   start-up, one instance at a time.
//! - [`header`]: the storage key: its derivation's parameters and a check
//!   token, made once, shared by every instance.
//! - [`log`]: the committed batches, in order, each one Fernet token.
//! - [`snapshot`]: compactions of the log.
//! - [`store`]: [`store::PgStore`], the backend, one instance per database
//!   so far.

pub mod errors;
pub mod header;
pub mod log;
pub mod schema;
pub mod snapshot;
pub mod store;
