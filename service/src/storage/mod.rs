//! Where users live. Every read is answered from the in-memory [`UserTable`];
//! every change is made there by the writer thread, and then made durable
//! through a [`Backend`] before anyone is told it happened.
//!
//! - [`backend`]: the [`Backend`] trait, the [`Change`]s it commits, [`StorageError`].
//! - [`table`]: the table, its indexes and its undo log.
//! - [`list`]: list_users' filtering, ordering and paging.
//! - [`file`]: the encrypted snapshot and journal, the default backend.

pub mod backend;
pub mod file;
pub mod list;
pub mod table;

#[cfg(test)]
pub mod memory;

pub use backend::{Backend, Change, StorageError};
pub use table::UserTable;
