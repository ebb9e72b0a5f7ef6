//! The two ways PostgreSQL work fails: the server refused or could not be
//! reached, or a row is not what this service wrote.

use crate::storage::backend::StorageError;

/// Maps a client error, saying what was being done.
pub(crate) fn db(what: &'static str) -> impl Fn(postgres::Error) -> StorageError {
    move |e| StorageError::Database(format!("{what}: {}", explain(&e)))
}

/// A client error with its cause ("error connecting to server: Connection
/// refused"): the client's own message alone often leaves the cause out. It
/// never holds the database's address.
pub(crate) fn explain(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// A row of `table` numbered `seq` that cannot be used, and why.
pub(crate) fn damaged(table: &str, seq: i64, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Database(format!("{table} row {seq} is damaged: {reason}"))
}
