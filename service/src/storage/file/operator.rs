//! The operator's commands on a file store: `verify` and `backup` read it
//! (also beside a running service), `restore` replaces it (never while it is
//! in use), each writing files only by temp file, fsync and rename.

use super::files;
use super::inspect::{audit_events, inspect, Inspected};
use super::journal;
use crate::storage::backend::{io_err, StorageError};
use std::path::{Path, PathBuf};

/// What `verify` found in a sound store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Users, after replaying the journal.
    pub users: usize,
    /// The format version.
    pub version: u32,
    /// Journal records after the snapshot; `None` without a journal (a backup).
    pub journal_records: Option<usize>,
    /// A last journal line without its newline: an append under way, or one
    /// a crash cut short (start-up drops it).
    pub torn_tail: bool,
    /// Audit events beside the store.
    pub audit_events: usize,
}

/// Opens the store at `path` read-only and checks its header, key, snapshot,
/// every journal record and their chain, and the audit log; any damage is
/// the error.
pub fn verify(path: &Path, master: &str) -> Result<Report, StorageError> {
    let i = inspect(path, master)?;
    let audit_events = audit_events(path, i.cipher.clone())?;
    Ok(Report {
        users: i.users.len(),
        version: i.version,
        journal_records: i.has_journal.then_some(i.journal_records),
        torn_tail: i.torn,
        audit_events,
    })
}

/// Writes the store at `path`, as it is at one moment, into `dest` as one
/// self-contained snapshot under the same key; `dest` must not exist.
/// Returns how many users it holds. A service may be running on the store.
pub fn backup(path: &Path, dest: &Path, master: &str) -> Result<usize, StorageError> {
    if dest.exists() {
        return Err(StorageError::Io {
            context: format!("{} exists; a backup never overwrites", dest.display()),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    let i = inspect(path, master)?;
    files::write_atomic(dest, i.encode()?.as_bytes())?;
    Ok(i.users.len())
}

/// Replaces the store at `store` by the backup at `backup` (which the master
/// password must open), unless a service has the store open. The files it
/// had are kept aside, named `….before-restore-<unix time>`; the audit log
/// stays, as the record of what happened. Returns the users restored and
/// the files kept aside.
pub fn restore(
    backup: &Path,
    store: &Path,
    master: &str,
    now_unix: u64,
) -> Result<(usize, Vec<PathBuf>), StorageError> {
    let _lock = files::lock(store)?;
    super::rotate::recover(store)?;
    let mut restored: Inspected = inspect(backup, master)?;
    // A chain of its own: no journal record written before the restore can
    // continue it, so a journal left by a crash before it is emptied is
    // refused at start-up, never replayed over the restored users.
    restored.link = super::seal::new_link(&mut rand::rng());
    let journal_path = journal::path_for(store);
    let mut aside = Vec::new();
    for p in [store.to_owned(), journal_path.clone()] {
        if p.exists() {
            let mut kept = p.as_os_str().to_owned();
            kept.push(format!(".before-restore-{now_unix}"));
            let kept = PathBuf::from(kept);
            std::fs::copy(&p, &kept)
                .and_then(|_| std::fs::File::open(&kept)?.sync_all())
                .map_err(io_err(format!("keeping {} aside", p.display())))?;
            aside.push(kept);
        }
    }
    // The snapshot first: a crash before the journal is emptied leaves a
    // journal that does not continue it, which start-up refuses rather than
    // lose anything; running restore again finishes it.
    files::write_atomic(store, restored.encode()?.as_bytes())?;
    files::write_atomic(&journal_path, b"")?;
    Ok((restored.users.len(), aside))
}
