//! `verify` on the PostgreSQL store: the key against the header's check
//! token, and the audit log, event by event, against its chain and the head
//! the store sealed. It reads only, beside running instances; a database
//! without a store is refused, never given one.

use super::audit;
use super::connect::connect;
use super::errors::db;
use super::header;
use crate::storage::backend::StorageError;

/// How many times [`verify`]'s `step` is called.
pub const VERIFY_STAGES: u64 = 2;

/// Checks the store at `url` with `master`; returns how many audit events
/// it holds.
pub fn verify(url: &str, master: &str, step: &mut dyn FnMut(&str)) -> Result<usize, StorageError> {
    step("checking the key");
    let mut client = connect(url)?;
    let made = client
        .query_opt(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'users_meta'",
            &[],
        )
        .map_err(db("looking for the store"))?
        .is_some()
        && client
            .query_opt("SELECT 1 FROM users_meta WHERE name = 'kdf'", &[])
            .map_err(db("looking for the store"))?
            .is_some();
    if !made {
        return Err(StorageError::Database(
            "the database holds no users-service store".into(),
        ));
    }
    // With a header there, the count given is not used.
    let cipher = header::open_key(&mut client, master, 1, &mut rand::rng())?;
    step("reading the audit log");
    audit::verify(&mut client, &cipher)
}
