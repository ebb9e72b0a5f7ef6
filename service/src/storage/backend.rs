//! The seam between the table and durable storage: a [`Backend`] commits the
//! [`Change`]s of a batch, all or none. A backend shared by several instances
//! also says what the others committed ([`Caught`]), before each batch and
//! whenever asked to follow them.

use crate::audit::{AuditReader, AuditRecord};
use crate::auth::sessions::SessionOp;
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

/// What other instances committed since this one last looked, in the order
/// they committed it.
#[derive(Debug, Default)]
pub struct Caught {
    /// Their changes to the users.
    pub changes: Vec<Change>,
    /// Their changes to the sessions.
    pub sessions: Vec<SessionOp>,
}

/// What a snapshot holds: the table and the live sessions as they are now.
pub struct State {
    pub users: Vec<Arc<User>>,
    pub sessions: Vec<SessionOp>,
}

/// Durable storage behind the table. Only the writer thread calls it.
pub trait Backend: Send {
    /// True when several instances share the store. Sessions are then
    /// committed with the batches ([`Backend::commit_batch`]), so that every
    /// instance knows them; otherwise they live in this process only.
    fn shared(&self) -> bool {
        false
    }

    /// Starts a batch. A shared store takes its cluster-wide write lock here
    /// and returns what the others committed since, which the writer applies
    /// before it checks anything against the table. Each `begin` that
    /// succeeds is ended by one [`Backend::commit_batch`].
    fn begin(&mut self) -> Result<Caught, StorageError> {
        Ok(Caught::default())
    }

    /// Makes `changes`, in order, durable. On error none of them remain, and
    /// the caller undoes them in memory; [`StorageError::Fatal`] when that
    /// cannot be made sure of.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError>;

    /// Commits a batch begun with [`Backend::begin`]: its changes, its audit
    /// events (numbered here), and for a shared store its session changes,
    /// all or none. A store used by one process keeps sessions in memory.
    /// On a shared store an error can also mean that the connection broke
    /// during the commit, when the batch may have landed: the caller undoes
    /// it in memory all the same, and the next catch-up reads it back if so.
    fn commit_batch(
        &mut self,
        changes: &[Change],
        sessions: &[SessionOp],
        audit: &mut [AuditRecord],
    ) -> Result<(), StorageError>;

    /// Reads the audit log, from any thread.
    fn audit_reader(&self) -> Arc<dyn AuditReader>;

    /// The key of fingerprints that must stay the same for this store and
    /// be unguessable without its master password; none for a store that
    /// keeps no key.
    fn fingerprint_key(&self) -> Option<crate::storage::crypto::FingerprintKey> {
        None
    }

    /// Between batches: what the other instances committed since this one
    /// last looked, without taking the write lock.
    fn follow(&mut self) -> Result<Caught, StorageError> {
        Ok(Caught::default())
    }

    /// Housekeeping after a batch, such as a background compaction. `state`
    /// gives every user and session as they are now; it is called only if needed.
    fn maintain(&mut self, state: &mut dyn FnMut() -> State) -> Result<(), StorageError>;

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
    /// What the store holds is no longer what this process knows (a failed
    /// write that could not be undone, a database that went back): it must
    /// stop rather than go on. The text says what happened.
    #[error("{0}; stopping")]
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
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The error: part of the message, which the log shows, and so not
        /// a `source` as well, which the command line would print again.
        error: std::io::Error,
    },
}

/// What a client is told when a change could not be committed: the shared
/// store is unreachable (worth trying again), or storage failed.
impl From<&StorageError> for crate::error::ServiceError {
    fn from(e: &StorageError) -> Self {
        match e {
            StorageError::Database(_) => Self::StoreUnavailable(e.to_string()),
            _ => Self::Storage(e.to_string()),
        }
    }
}

/// Wraps an I/O error with what was being done.
pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StorageError {
    let context = context.into();
    move |error| StorageError::Io { context, error }
}
