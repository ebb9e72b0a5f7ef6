//! `backup` and `restore` of the PostgreSQL store. A backup is a file in the
//! file store's backup format (a snapshot sealed as a backup, under the same
//! master password with a salt of its own), so `verify` checks it and either
//! kind of store restores it. It holds the users as of one moment (one
//! repeatable-read transaction) and no sessions, as a file backup.
//!
//! A restore replaces every user in one transaction, refused while any
//! instance is connected: the log and the snapshots are dropped and one
//! snapshot of the backup's users is written after the log's end, so an
//! instance left running stops at its next read rather than go on from a
//! past the database no longer has. The users the database held are first
//! written to a backup file of their own.

use super::errors::db;
use super::store::PgStore;
use super::{audit, exclusive, header, snapshot};
use crate::audit::Event;
use crate::clock::unix_secs;
use crate::storage::backend::StorageError;
use crate::storage::crypto::KdfParams;
use crate::storage::file::{
    check_new, inspect::inspect, seal, snapshot as file_snapshot, write_new, Owner,
};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use users_protocol::AuditKind;

/// How many times [`backup`] and [`restore`] call their `step`.
pub const BACKUP_STAGES: u64 = 1;
pub const RESTORE_STAGES: u64 = 4;

/// Writes the users of the database at `url` into `dest` (which must not
/// exist); returns how many. Instances may be running.
pub fn backup(
    url: &str,
    dest: &Path,
    master: &str,
    kdf_iterations: u32,
    step: &mut dyn FnMut(&str),
) -> Result<usize, StorageError> {
    step("reading the database, writing the backup");
    backup_at(url, dest, master, kdf_iterations).map(|(n, _)| n)
}

/// [`backup`], returning also the log's end as of the users read (a restore
/// checks that nothing came after).
fn backup_at(
    url: &str,
    dest: &Path,
    master: &str,
    kdf_iterations: u32,
) -> Result<(usize, i64), StorageError> {
    check_new(dest)?;
    let opened = PgStore::open(url, master, kdf_iterations, usize::MAX)?;
    // The last batch the users were read at: the log's end then.
    let end = opened.store.listen_target().applied.load(Ordering::SeqCst);
    let users = opened.users.all();
    let kdf = KdfParams::generate(kdf_iterations, &mut rand::rng());
    let cipher = kdf
        .cipher(master)
        .map_err(|e| StorageError::Database(format!("the backup's key: {e}")))?;
    let link = seal::new_link(&mut rand::rng());
    let text = file_snapshot::encode(&kdf, &cipher, (0, &link, None), &users, true)?;
    write_new(dest, text.as_bytes(), Owner::Maker)?;
    Ok((users.len(), end))
}

/// Replaces every user of the database at `url` by those of the backup file
/// `from`, after writing the users it held to `aside`; see the module
/// documentation. Returns how many users were restored.
pub fn restore(
    from: &Path,
    url: &str,
    master: &str,
    (kdf_iterations, aside): (u32, &Path),
    step: &mut dyn FnMut(&str),
) -> Result<usize, StorageError> {
    step("reading the backup");
    let restored = inspect(from, master)?;
    let users: Vec<_> = restored
        .users
        .into_iter()
        .map(std::sync::Arc::new)
        .collect();
    step("keeping the database's users aside");
    let (_, kept_at) = backup_at(url, aside, master, kdf_iterations)?;
    step("replacing the database's users");
    let mut client = exclusive::connect_migrated(url)?;
    let mut tx = exclusive::begin(&mut client)?;
    let (cipher, index) = header::open_keys(&mut tx, master, kdf_iterations, &mut rand::rng())?;
    let end = exclusive::end(&mut tx)?;
    if end != kept_at {
        return Err(StorageError::Database(
            "the database changed while its users were kept aside: run restore again".into(),
        ));
    }
    tx.batch_execute("DELETE FROM users_log; DELETE FROM users_snapshot")
        .map_err(db("dropping the log and the snapshots"))?;
    // One number left out after the old end: an instance left running
    // finds its next batch missing and stops, and a snapshot it may still
    // write is older than the restored one.
    let seq = end + 2;
    exclusive::mark(&mut tx, &cipher, seq)?;
    snapshot::insert_restored(&mut tx, &cipher, seq, &users)?;
    let name = from
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let detail = format!("restore: {} users from {name}", users.len());
    let now = unix_secs(SystemTime::now());
    let mut event = [Event::operator(AuditKind::StoreRestored, detail).record(now, |_| None)];
    audit::append(&mut tx, (&cipher, &index), &mut event)?;
    tx.commit().map_err(db("committing the restore"))?;
    Ok(users.len())
}
