//! Reading a file store without its lock and without writing to it, for
//! `verify` and `backup`, which run beside a service that has the store
//! open. A torn last journal line (an append under way, or cut short) is left
//! as it is and reported. A snapshot replaced by a compaction between the
//! two reads shows as a journal that does not continue it; [`inspect`]
//! then reads both again.

use super::audit;
use super::load;
use super::seal::{self, Link};
use super::snapshot;
use crate::audit::chain::Checker;
use crate::audit::Head;
use crate::model::User;
use crate::storage::backend::StorageError;
use crate::storage::crypto::KdfParams;
use fernet::Fernet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What a store holds, as read.
pub(crate) struct Inspected {
    /// Its format version.
    pub version: u32,
    /// Every user.
    pub users: Vec<User>,
    /// The key derivation, and the cipher it gives.
    pub kdf: KdfParams,
    pub cipher: Fernet,
    /// The last journal record replayed, and its link.
    pub seq: u64,
    pub link: Link,
    /// Journal records after the snapshot.
    pub journal_records: usize,
    /// A last journal line without its newline was left unread.
    pub torn: bool,
    /// Whether a journal was beside the snapshot (a backup has none).
    pub has_journal: bool,
    /// The audit log's newest event as the store sealed it.
    pub audit_head: Option<Head>,
}

/// How often a read that met a compaction is tried again.
const ATTEMPTS: usize = 5;

/// Reads the store at `path` with `master`; see the module documentation.
pub(crate) fn inspect(path: &Path, master: &str) -> Result<Inspected, StorageError> {
    inspect_with(path, master, &mut || {})
}

/// [`inspect`], calling `between` after the snapshot is read and before
/// the journal is: where a compaction can cross the read.
fn inspect_with(
    path: &Path,
    master: &str,
    between: &mut dyn FnMut(),
) -> Result<Inspected, StorageError> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        match inspect_once(path, master, between, true) {
            Ok(i) => return Ok(i),
            Err(e @ StorageError::Damaged { .. }) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(50 << attempt));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StorageError::Damaged {
        path: path.to_owned(),
        reason: "could not be read".into(),
    }))
}

/// Which file a path names now: a compaction replaces the snapshot by rename.
fn identity(path: &Path) -> Option<(u64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let at = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some((m.len(), at.as_nanos() as u64))
    }
}

/// [`inspect`] for a command holding the store's lock (nothing else writes
/// it), which may have staged a key rotation beside it.
pub(crate) fn inspect_locked(path: &Path, master: &str) -> Result<Inspected, StorageError> {
    inspect_once(path, master, &mut || {}, false)
}

fn inspect_once(
    path: &Path,
    master: &str,
    between: &mut dyn FnMut(),
    refuse_rotation: bool,
) -> Result<Inspected, StorageError> {
    if refuse_rotation && super::staged::pending(path) {
        return Err(StorageError::Damaged {
            path: path.to_owned(),
            reason: "a key rotation is under way, or was interrupted: start the service \
                     or run rotate-key again, which finish or undo it"
                .into(),
        });
    }
    let before = identity(path);
    let snap = snapshot::read(path, master)?;
    between();
    let has_journal = super::journal::path_for(path).exists();
    let (users, replayed) = match snap.link {
        None => {
            let records = snapshot::users(path, snap.plain)?;
            load::load_v1(path, &snap.cipher, snap.journal_seq, records, false)?
        }
        // A store's journal is made before its snapshot and never removed:
        // one missing lost every change after the snapshot.
        Some(_) if !has_journal && !snap.backup => {
            return Err(StorageError::Damaged {
                path: super::journal::path_for(path),
                reason: "it is missing (only a backup stands without its journal)".into(),
            })
        }
        // A backup is a snapshot alone: with no journal, it holds all.
        Some(link) if !has_journal => {
            let users = snapshot::users(path, snap.plain)?;
            let replayed = super::journal::Replayed {
                seq: snap.journal_seq,
                link: Some(link),
                records: 0,
                torn: false,
                audit_head: None,
            };
            (users, replayed)
        }
        Some(link) => {
            let users = snapshot::users(path, snap.plain)?;
            load::load_v2(path, &snap.cipher, (snap.journal_seq, link), users, false)?
        }
    };
    // A compaction that replaced the snapshot after it was read, and then
    // emptied the journal, leaves a read that agrees with itself but lacks
    // the changes the new snapshot took in: read again.
    if identity(path) != before {
        return Err(StorageError::Damaged {
            path: path.to_owned(),
            reason: "it was replaced while being read".into(),
        });
    }
    Ok(Inspected {
        version: snap.version,
        users,
        kdf: snap.kdf,
        cipher: snap.cipher,
        seq: replayed.seq,
        link: replayed
            .link
            .unwrap_or_else(|| seal::new_link(&mut rand::rng())),
        journal_records: replayed.records,
        torn: replayed.torn,
        has_journal,
        audit_head: replayed.audit_head.or(snap.audit_head),
    })
}

/// The audit events beside the store, read, decrypted and checked link by
/// link up to the head the store `sealed` (see [`crate::audit::chain`]);
/// 0 when it has none. Events after that head are a batch being committed,
/// or one a crash left, which start-up drops.
pub(crate) fn audit_events(
    path: &Path,
    cipher: Fernet,
    sealed: Option<&Head>,
) -> Result<usize, StorageError> {
    let damaged = |reason: String| StorageError::Damaged {
        path: audit::path_for(path),
        reason,
    };
    let records = match audit::path_for(path).exists() {
        true => audit::reader_at(path, Arc::new(cipher))
            .read_all()
            .map_err(damaged)?,
        false => Vec::new(),
    };
    let mut chain = Checker::new(sealed.cloned());
    for r in &records {
        chain.next(r).map_err(|e| damaged(e.to_string()))?;
    }
    chain.finish().map_err(|e| damaged(e.to_string()))?;
    Ok(records.len())
}

impl Inspected {
    /// The store as one self-contained snapshot: a backup (sealed as one),
    /// or a restored store.
    pub(crate) fn encode(&self, backup: bool) -> Result<String, StorageError> {
        let users: Vec<Arc<User>> = self.users.iter().cloned().map(Arc::new).collect();
        snapshot::encode(
            &self.kdf,
            &self.cipher,
            // A backup has no audit log beside it to seal.
            (
                self.seq,
                &self.link,
                self.audit_head.as_ref().filter(|_| !backup),
            ),
            &users,
            backup,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::backend::{Backend, Change};
    use crate::storage::file::tests::{opts, user};
    use crate::storage::file::FileStore;

    #[test]
    fn a_compaction_crossing_the_read_is_read_again_not_copied_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        let mut store = FileStore::open(&path, "m", &opts()).unwrap().store;
        let ada = user("ada");
        store.commit(&[Change::Put(Arc::clone(&ada))]).unwrap();
        // The snapshot is read without ada; then a compaction takes her into
        // a new snapshot and empties the journal.
        let mut compacted = false;
        let read = inspect_with(&path, "m", &mut || {
            if !compacted {
                compacted = true;
                store.compact_now(vec![Arc::clone(&ada)]).unwrap();
            }
        })
        .unwrap();
        let names: Vec<_> = read.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ada"]);
    }

    #[test]
    fn a_store_that_lost_its_journal_is_damaged_and_a_backup_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        let mut store = FileStore::open(&path, "m", &opts()).unwrap().store;
        store.commit(&[Change::Put(user("ada"))]).unwrap();
        drop(store);
        let backup = dir.path().join("users.backup");
        std::fs::write(&backup, inspect(&path, "m").unwrap().encode(true).unwrap()).unwrap();
        assert_eq!(inspect(&backup, "m").unwrap().users.len(), 1);
        std::fs::remove_file(super::super::journal::path_for(&path)).unwrap();
        let lost = inspect(&path, "m").err().unwrap().to_string();
        assert!(lost.contains("missing"), "{lost}");
    }
}
