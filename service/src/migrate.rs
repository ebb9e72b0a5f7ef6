//! `users-service migrate`: every user, password hash included, copied from
//! one store to another under the same master password, so that everyone can
//! still log in. The source is only read (a file in an older format is
//! upgraded, as any opening does); the destination must be new.

use crate::model::User;
use crate::storage::backend::{Backend, Change, StorageError};
use crate::storage::file::{FileOptions, FileStore};
use crate::storage::postgres::store::PgStore;
use crate::storage::table::UserTable;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAt {
    File(PathBuf),
    /// A postgres:// URL.
    Database(String),
}

impl StoreAt {
    /// A postgres:// or postgresql:// URL, else a file path.
    pub fn parse(s: &str) -> StoreAt {
        if crate::cli::is_database(s) {
            StoreAt::Database(s.to_owned())
        } else {
            StoreAt::File(PathBuf::from(s))
        }
    }

    /// For messages: a file's path; never a database's URL (it may carry a
    /// password).
    pub fn describe(&self) -> String {
        match self {
            StoreAt::File(p) => p.display().to_string(),
            StoreAt::Database(_) => "the PostgreSQL database".into(),
        }
    }
}

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The destination has users already.
    #[error("{0} is not new: migrate copies into a file that does not exist or a database without users")]
    NotNew(String),
}

fn load(from: &StoreAt, master: &str, opts: &FileOptions) -> Result<Vec<Arc<User>>, StorageError> {
    match from {
        StoreAt::File(path) => Ok(FileStore::open(path, master, opts)?
            .users
            .into_iter()
            .map(Arc::new)
            .collect()),
        StoreAt::Database(url) => Ok(PgStore::open(url, master, opts.kdf_iterations, usize::MAX)?
            .users
            .all()),
    }
}

/// Opens the store at `at` for an operator command's one batch of changes:
/// its backend, with the batch begun, and its users as they are then (a
/// file store's lock is held until the backend is dropped). Commit with
/// [`Backend::commit_batch`], then [`Backend::close`].
pub(crate) fn open_batch(
    at: &StoreAt,
    master: &str,
    opts: &FileOptions,
) -> Result<(Box<dyn Backend>, UserTable), StorageError> {
    let (mut backend, mut table): (Box<dyn Backend>, UserTable) = match at {
        StoreAt::File(path) => {
            let opened = FileStore::open(path, master, opts)?;
            let table = UserTable::from_users(opened.users.into_iter().map(Arc::new));
            (Box::new(opened.store), table)
        }
        StoreAt::Database(url) => {
            let opened = PgStore::open(url, master, opts.kdf_iterations, opts.compact_after)?;
            (Box::new(opened.store), opened.users)
        }
    };
    let caught = backend.begin()?;
    table.apply_committed(caught.changes);
    Ok((backend, table))
}

/// Copies every user of `from` into the new store `to`; returns how many.
pub fn copy(
    from: &StoreAt,
    to: &StoreAt,
    master: &str,
    opts: &FileOptions,
) -> Result<usize, MigrateError> {
    if let StoreAt::File(path) = to {
        if path.exists() {
            return Err(MigrateError::NotNew(to.describe()));
        }
    }
    let users = load(from, master, opts)?;
    let changes: Vec<Change> = users.into_iter().map(Change::Put).collect();
    let mut dest: Box<dyn Backend> = match to {
        StoreAt::File(path) => Box::new(FileStore::open(path, master, opts)?.store),
        StoreAt::Database(url) => {
            let opened = PgStore::open(url, master, opts.kdf_iterations, opts.compact_after)?;
            if !opened.users.is_empty() {
                return Err(MigrateError::NotNew(to.describe()));
            }
            Box::new(opened.store)
        }
    };
    dest.commit(&changes)?;
    dest.close()?;
    Ok(changes.len())
}
