//! The two ways PostgreSQL work fails: the server refused or could not be
//! reached, or a row is not what this service wrote.

use crate::storage::backend::StorageError;

/// Maps a client error, saying what was being done.
pub fn db(what: &'static str) -> impl Fn(postgres::Error) -> StorageError {
    move |e| StorageError::Database(format!("{what}: {e}"))
}

/// A row of `table` numbered `seq` that cannot be used, and why.
pub fn damaged(table: &str, seq: i64, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Database(format!("{table} row {seq} is damaged: {reason}"))
}
