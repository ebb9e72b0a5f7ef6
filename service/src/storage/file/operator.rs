//! The operator's commands on a file store: `verify` and `backup` read it
//! (also beside a running service), `restore` replaces it (never while it is
//! in use), each writing files only by temp file, fsync and rename.

use super::inspect::{audit_events, inspect, inspect_locked, Inspected};
use super::{audit, files, journal};
use crate::audit::Event;
use crate::storage::backend::{io_err, StorageError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use users_protocol::AuditKind;

/// How many times [`verify`], [`backup`] and [`restore`] call their `step`.
pub const VERIFY_STAGES: u64 = 2;
pub const BACKUP_STAGES: u64 = 2;
pub const RESTORE_STAGES: u64 = 3;

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
pub fn verify(
    path: &Path,
    master: &str,
    step: &mut dyn FnMut(&str),
) -> Result<Report, StorageError> {
    step("reading the store");
    let i = inspect(path, master)?;
    step("reading the audit log");
    let audit_events = audit_events(path, i.cipher.clone(), i.audit_head.as_ref())?;
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
pub fn backup(
    path: &Path,
    dest: &Path,
    master: &str,
    step: &mut dyn FnMut(&str),
) -> Result<usize, StorageError> {
    files::check_new(dest)?;
    step("reading the store");
    let i = inspect(path, master)?;
    step("writing the backup");
    files::write_new(dest, i.encode(true)?.as_bytes(), files::Owner::Maker)?;
    Ok(i.users.len())
}

/// Replaces the store at `store` by the backup at `backup` (which the master
/// password must open), unless a service has the store open. The files it
/// had are kept aside, named `….before-restore-<unix time>`. The audit log
/// stays, as the record of what happened, when the backup's key opens it;
/// under another key (a backup of another store, or from before a
/// rotate-key) it is moved aside too, and a new one begins. Either way it
/// records the restore. Returns the users restored and the files kept aside.
pub fn restore(
    backup: &Path,
    store: &Path,
    master: &str,
    now_unix: u64,
    step: &mut dyn FnMut(&str),
) -> Result<(usize, Vec<PathBuf>), StorageError> {
    let _lock = files::lock(store)?;
    super::rotate::recover(store)?;
    // The head the store sealed, if it still opens with this key: the log
    // is checked against it before the restore seals a new one.
    let sealed = inspect_locked(store, master)
        .ok()
        .and_then(|i| i.audit_head);
    step("reading the backup");
    let mut restored: Inspected = inspect(backup, master)?;
    // A chain of its own: no journal record written before the restore can
    // continue it, so a journal left by a crash before it is emptied is
    // refused at start-up, never replayed over the restored users.
    restored.link = super::seal::new_link(&mut rand::rng());
    step("keeping the store's files aside");
    let journal_path = journal::path_for(store);
    let audit_path = audit::path_for(store);
    let cipher = Arc::new(restored.cipher.clone());
    let audit_fits = !audit_path.exists()
        || audit::reader_at(store, Arc::clone(&cipher))
            .read_all()
            .is_ok();
    let mut aside = Vec::new();
    for p in [store, &journal_path] {
        if p.exists() {
            aside.push(copy_aside(p, now_unix)?);
        }
    }
    if !audit_fits {
        let kept = aside_name(&audit_path, now_unix)?;
        std::fs::rename(&audit_path, &kept)
            .map_err(io_err(format!("moving {} aside", audit_path.display())))?;
        files::sync_dir(&kept)?;
        aside.push(kept);
    }
    // The event first, so that the restored snapshot seals it as the log's
    // newest. A crash before the snapshot is written leaves the old store,
    // whose log ends one batch past its seal: start-up drops that batch.
    let from = backup
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let detail = format!("restore: {} users from {from}", restored.users.len());
    let sealed = sealed.filter(|_| audit_fits);
    let mut log = audit::AuditFile::open(store, cipher, Duration::MAX, SystemTime::now(), sealed)?;
    log.append(
        &mut [Event::operator(AuditKind::StoreRestored, detail).record(now_unix, |_| None)],
    )?;
    restored.audit_head = log.head().cloned();
    // Then the snapshot: a crash before the journal is emptied leaves a
    // journal that does not continue it, which start-up refuses rather than
    // lose anything; running restore again finishes it.
    step("writing the store");
    files::write_atomic(store, restored.encode(false)?.as_bytes())?;
    files::write_atomic(&journal_path, b"")?;
    Ok((restored.users.len(), aside))
}

/// A name beside `path` for its copy from before a restore, that no file has.
fn aside_name(path: &Path, now_unix: u64) -> Result<PathBuf, StorageError> {
    files::unused_name(&PathBuf::from(format!(
        "{}.before-restore-{now_unix}",
        path.display()
    )))
}

/// Copies `path` to a new file beside it (never over one), durably.
fn copy_aside(path: &Path, now_unix: u64) -> Result<PathBuf, StorageError> {
    let kept = aside_name(path, now_unix)?;
    let copied = files::create_private(&kept, files::Owner::Store).and_then(|mut out| {
        std::io::copy(&mut files::open_read(path)?, &mut out)?;
        out.sync_all()
    });
    copied.map_err(io_err(format!("keeping {} aside", path.display())))?;
    files::sync_dir(&kept)?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::file::tests::opts;
    use crate::storage::file::{rotate, FileStore};

    fn kinds(store: &Path, master: &str) -> Vec<AuditKind> {
        let cipher = Arc::new(inspect(store, master).unwrap().cipher);
        let records = audit::reader_at(store, cipher).read_all().unwrap();
        records.into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn restore_never_reads_or_copies_a_store_file_planted_as_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("users.json");
        drop(FileStore::open(&store, "m", &opts()).unwrap());
        let backup_path = dir.path().join("users.backup");
        backup(&store, &backup_path, "m", &mut |_| {}).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "root's secret").unwrap();
        let journal = journal::path_for(&store);
        std::fs::remove_file(&journal).unwrap();
        std::os::unix::fs::symlink(&victim, &journal).unwrap();
        let now = crate::clock::unix_secs(SystemTime::now());
        let e = restore(&backup_path, &store, "m", now, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link") && e.contains("journal"), "{e}");
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path != victim && !path.is_symlink() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains("root's secret"),
                    "{} holds it",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn restores_in_one_second_keep_every_copy_and_each_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("users.json");
        drop(FileStore::open(&store, "m", &opts()).unwrap());
        let backup_path = dir.path().join("users.backup");
        backup(&store, &backup_path, "m", &mut |_| {}).unwrap();
        let now = crate::clock::unix_secs(SystemTime::now());
        let (_, first) = restore(&backup_path, &store, "m", now, &mut |_| {}).unwrap();
        let kept = std::fs::read(&first[0]).unwrap();
        let (_, second) = restore(&backup_path, &store, "m", now, &mut |_| {}).unwrap();
        assert_ne!(first[0], second[0], "a second copy, under another name");
        assert_eq!(std::fs::read(&first[0]).unwrap(), kept, "the first kept");
        assert_eq!(
            kinds(&store, "m"),
            [AuditKind::StoreRestored, AuditKind::StoreRestored]
        );
    }

    #[test]
    fn a_backup_from_before_a_rotation_restores_with_a_new_audit_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("users.json");
        drop(FileStore::open(&store, "old", &opts()).unwrap());
        let backup_path = dir.path().join("users.backup");
        backup(&store, &backup_path, "old", &mut |_| {}).unwrap();
        rotate::rotate(&store, "old", "new", false, 1000, &mut |_| {}).unwrap();
        let now = crate::clock::unix_secs(SystemTime::now());
        let (_, aside) = restore(&backup_path, &store, "old", now, &mut |_| {}).unwrap();
        let audit_aside = format!("{}.before-restore-{now}", audit::path_for(&store).display());
        assert!(aside.contains(&PathBuf::from(&audit_aside)), "{aside:?}");
        // The old key opens it again, audit log included.
        drop(FileStore::open(&store, "old", &opts()).unwrap());
        assert_eq!(kinds(&store, "old"), [AuditKind::StoreRestored]);
    }
}
