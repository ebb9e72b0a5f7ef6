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
use crate::model::User;
use crate::storage::backend::StorageError;
use crate::storage::crypto::KdfParams;
use fernet::Fernet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What a store holds, as read.
pub struct Inspected {
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
}

/// How often a read that met a compaction is tried again.
const ATTEMPTS: usize = 5;

/// Reads the store at `path` with `master`; see the module documentation.
pub fn inspect(path: &Path, master: &str) -> Result<Inspected, StorageError> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        match inspect_once(path, master) {
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

fn inspect_once(path: &Path, master: &str) -> Result<Inspected, StorageError> {
    if super::staged::pending(path) {
        return Err(StorageError::Damaged {
            path: path.to_owned(),
            reason: "a key rotation is under way, or was interrupted: start the service \
                     or run rotate-key again, which finish or undo it"
                .into(),
        });
    }
    let snap = snapshot::read(path, master)?;
    let has_journal = super::journal::path_for(path).exists();
    let (users, replayed) = match snap.link {
        None => {
            let records = snapshot::users(path, snap.plain)?;
            load::load_v1(path, &snap.cipher, snap.journal_seq, records, false)?
        }
        // A backup is a snapshot alone: with no journal, it holds all.
        Some(link) if !has_journal => {
            let users = snapshot::users(path, snap.plain)?;
            let replayed = super::journal::Replayed {
                seq: snap.journal_seq,
                link: Some(link),
                records: 0,
                torn: false,
            };
            (users, replayed)
        }
        Some(link) => {
            let users = snapshot::users(path, snap.plain)?;
            load::load_v2(path, &snap.cipher, (snap.journal_seq, link), users, false)?
        }
    };
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
    })
}

/// The audit events beside the store, read and decrypted; 0 when it has none.
pub fn audit_events(path: &Path, cipher: Fernet) -> Result<usize, StorageError> {
    if !audit::path_for(path).exists() {
        return Ok(0);
    }
    audit::reader_at(path, Arc::new(cipher))
        .read_all()
        .map(|r| r.len())
        .map_err(|reason| StorageError::Damaged {
            path: audit::path_for(path),
            reason,
        })
}

impl Inspected {
    /// The store as one self-contained snapshot: a backup, or a restored store.
    pub fn encode(&self) -> Result<String, StorageError> {
        let users: Vec<Arc<User>> = self.users.iter().cloned().map(Arc::new).collect();
        snapshot::encode(&self.kdf, &self.cipher, self.seq, &self.link, &users)
    }
}
