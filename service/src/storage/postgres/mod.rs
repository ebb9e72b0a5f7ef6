//! The PostgreSQL store (`users-service --database URL`), shared by any
//! number of instances. Each holds every user and session in memory, as with
//! the file store, and follows the log of batches the others commit; a write
//! takes a cluster-wide lock, catches up and is checked against the latest
//! state. What PostgreSQL holds is ciphertext under the master password's
//! key and the order of changes, never a name, an address, a token or a hash
//! in clear.
//!
//! - [`connect`]: how every connection is made.
//! - [`tls`]: TLS as the address's `sslmode` and `sslrootcert` ask.
//! - [`errors`]: how PostgreSQL work fails.
//! - [`schema`]: the tables, created and migrated by versioned steps at
//!   start-up, one instance at a time.
//! - [`header`]: the storage key: its derivation's parameters and a check
//!   token, made once, shared by every instance.
//! - [`log`]: the committed batches, in order, each one Fernet token.
//! - [`snapshot`]: compactions of the log.
//! - [`audit`]: the audit log's table.
//! - [`store`]: [`store::PgStore`], the backend.
//! - [`exclusive`]: an operator's transaction over the whole database.
//! - [`backup`]: backup files of the database, and restoring one into it.
//! - [`rotate`]: a new master password, in one transaction.
//! - [`verify`]: checking the key and the audit log's chain.
//! - [`listen`]: the notifications that tell an instance of the others'
//!   batches and failure counts.

pub(crate) mod audit;
pub mod backup;
pub(crate) mod connect;
pub(crate) mod errors;
pub(crate) mod exclusive;
pub(crate) mod header;
pub(crate) mod listen;
pub mod log;
pub mod rotate;
pub mod schema;
pub mod snapshot;
pub(crate) mod store;
pub(crate) mod tls;
pub mod verify;
