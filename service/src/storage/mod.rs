//! Where users live. Every read is answered from the in-memory [`UserTable`],
//! which a backend fills when it opens; every change is made there by the
//! writer thread, and then made durable through the [`Backend`] before anyone
//! is told it happened. A backend shared by several instances would also bring
//! the table up to date with the others' changes; the file store is the only
//! writer of its files.
//!
//! - [`backend`]: the [`Backend`] trait, the [`Change`]s it commits, [`StorageError`].
//! - [`crypto`]: the storage key from the master password, for either store.
//! - [`table`]: the table, its indexes and its undo log.
//! - [`list`]: list_users' filtering, ordering and paging.
//! - [`page_cache`]: encoded public list pages, while the table is unchanged.
//! - [`file`]: the encrypted snapshot and journal, the default backend.
//! - [`postgres`]: the store several instances share (its schema, so far).

pub(crate) mod backend;
pub(crate) mod crypto;
pub(crate) mod file;
pub(crate) mod list;
pub(crate) mod page_cache;
pub(crate) mod postgres;
pub(crate) mod table;

#[cfg(test)]
pub(crate) mod memory;

pub(crate) use backend::{Backend, Caught, Change, State, StorageError};
pub(crate) use table::UserTable;
