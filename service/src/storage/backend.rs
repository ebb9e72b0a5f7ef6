//! The seam between the table and durable storage: a [`Backend`] commits the
//! [`Change`]s of a batch, all or none.

use crate::model::{User, UserId};
use std::path::PathBuf;
use std::sync::Arc;

/// One change to the table, as a backend makes it durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or replace the user with this id (a rename too).
    Put(Arc<User>),
    /// Remove the user with this id.
    Delete(UserId),
}

/// Durable storage behind the table. Only the writer thread calls it.
pub trait Backend: Send {
    /// Makes `changes`, in order, durable. On error none of them remain, and
    /// the caller undoes them in memory; [`StorageError::Fatal`] when that
    /// cannot be made sure of.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError>;

    /// Housekeeping after a batch, such as a background compaction. `users`
    /// gives every user as the table has them now; it is called only if needed.
    fn maintain(&mut self, users: &mut dyn FnMut() -> Vec<Arc<User>>) -> Result<(), StorageError>;

    /// Finishes housekeeping at shutdown.
    fn close(&mut self) -> Result<(), StorageError>;
}

/// Why storage could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The master password does not decrypt the store (named in the field:
    /// a file's path, or "the PostgreSQL store").
    #[error("cannot decrypt {0}: wrong master password (USERS_SERVICE_PASSWORD), or the data was altered")]
    WrongPassword(String),
    /// A failed write could not be undone on disk: what the files hold is no
    /// longer known, and the process must stop rather than go on.
    #[error("the journal could not be put back after a failed write ({0}); stopping")]
    Fatal(String),
    /// Another process has the store open.
    #[error("{0} is in use by another users-service or operator command; stop it first")]
    InUse(PathBuf),
    /// The data is not what this service writes.
    #[error("{path} is damaged: {reason}")]
    Damaged {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// PostgreSQL refused, or could not be reached.
    #[error("PostgreSQL: {0}")]
    Database(String),
    /// The operating system refused.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Wraps an I/O error with what was being done.
pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StorageError {
    let context = context.into();
    move |source| StorageError::Io { context, source }
}
