//! The default backend: an encrypted snapshot plus an append-only journal.
//!
//! Files, beside each other:
//! - `STORE` (the [`snapshot`]): every user up to `journal_seq`, in one Fernet token.
//! - `STORE.journal` (the [`journal`]): one Fernet token per change made after the
//!   snapshot. A batch of changes is appended and fsync'd before any of them is
//!   acknowledged (group commit).
//! - `STORE.audit` (the [`audit`] log): one Fernet token per batch of events,
//!   appended and fsync'd just before the batch's journal record.
//!
//! - `STORE.rotating`, `STORE.audit.rotating`, `STORE.key.rotating`: only
//!   while a key is being changed ([`rotate`]); opening finishes or undoes it.
//!
//! When the journal grows past a threshold, a background thread writes a new
//! snapshot (temp file, fsync, rename, fsync the directory), then the journal is
//! cut down to the changes made since. A version-1 store (no user ids) is given
//! ids and rewritten as version 2 when it is opened.

pub(crate) mod audit;
pub(crate) mod audit_read;
pub(crate) mod files;
pub(crate) mod inspect;
pub mod journal;
mod load;
pub mod operator;
pub mod rotate;
pub(crate) mod seal;
pub(crate) mod snapshot;
pub(crate) mod staged;

use crate::storage::crypto::FingerprintKey;
pub(crate) use crate::storage::crypto::KdfParams;

use crate::audit::{AuditReader, AuditRecord, Head};
use crate::auth::sessions::SessionOp;
use crate::model::User;
use crate::storage::backend::{io_err, Backend, Change, State, StorageError};
use audit::AuditFile;
use fernet::Fernet;
use seal::Link;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

pub(crate) use files::{check_new, write_new, Owner};

#[derive(Debug, Clone)]
pub struct FileOptions {
    /// PBKDF2 iterations for the storage key of a new store.
    pub kdf_iterations: u32,
    /// Journal records that trigger a background snapshot.
    pub compact_after: usize,
    /// How long audit events are kept.
    pub audit_retention: std::time::Duration,
}

/// What [`FileStore::open`] found.
pub struct Opened {
    /// The store, ready for commits.
    pub store: FileStore,
    /// Every user.
    pub users: Vec<User>,
    /// True when no store existed and an empty one was created.
    pub created: bool,
    /// True when a torn last journal record was dropped.
    pub dropped_torn_tail: bool,
    /// The format version the store had, when it was older and was upgraded.
    pub upgraded_from: Option<u32>,
}

/// The open store. Only one thread writes to it (the service's writer).
pub struct FileStore {
    snapshot_path: PathBuf,
    journal_path: PathBuf,
    kdf: KdfParams,
    cipher: Arc<Fernet>,
    fingerprint: FingerprintKey,
    journal: File,
    journal_len: u64,
    journal_records: usize,
    seq: u64,
    /// The link of record `seq`: the next record names it.
    link: Link,
    compact_after: usize,
    compaction: Option<Compaction>,
    /// `STORE.audit`, beside the journal.
    audit: AuditFile,
    /// Held for as long as the store is open: see [`files::lock`].
    _lock: File,
}

struct Compaction {
    seq: u64,
    journal_offset: u64,
    handle: JoinHandle<Result<(), StorageError>>,
}

impl FileStore {
    /// Opens the store at `path`, or creates an empty one if neither file exists.
    /// Only one `FileStore` may have a store open at a time, in any process:
    /// another gets [`StorageError::InUse`].
    /// Nothing on disk changes unless both files read back correctly, except that a
    /// torn journal tail is cut off and an old version is rewritten as the current one.
    pub fn open(path: &Path, master: &str, opts: &FileOptions) -> Result<Opened, StorageError> {
        let lock = files::lock(path)?;
        rotate::recover(path)?;
        let journal_path = journal::path_for(path);
        if !path.exists() {
            // An empty journal alone is a creation cut short: the journal is
            // made first, so that a snapshot is never without its journal.
            let journal_len = std::fs::metadata(&journal_path).map_or(0, |m| m.len());
            if journal_len > 0 {
                return Err(StorageError::Damaged {
                    path: journal_path,
                    reason: "a journal exists but its snapshot is missing".into(),
                });
            }
            files::create_or_keep_private(&journal_path)?;
            let kdf = KdfParams::generate(opts.kdf_iterations, &mut rand::rng());
            let keys = kdf.keys(master).map_err(|reason| StorageError::Damaged {
                path: path.to_owned(),
                reason,
            })?;
            let link = seal::new_link(&mut rand::rng());
            let text = snapshot::encode(&kdf, &keys.0, (0, &link, None), &[], false)?;
            files::write_atomic(path, text.as_bytes())?;
            return Ok(Opened {
                store: FileStore::with_journal(path, kdf, keys, (0, link, None), opts, lock)?,
                users: Vec::new(),
                created: true,
                dropped_torn_tail: false,
                upgraded_from: None,
            });
        }

        let snapshot::Snapshot {
            version,
            kdf,
            cipher,
            fingerprint,
            journal_seq,
            link,
            plain,
            audit_head,
            ..
        } = snapshot::read(path, master)?;
        let (users, replayed) = match link {
            None => {
                let records = snapshot::users(path, plain)?;
                load::load_v1(path, &cipher, journal_seq, records, true)?
            }
            Some(link) => {
                let users = snapshot::users(path, plain)?;
                load::load_v2(path, &cipher, (journal_seq, link), users, true)?
            }
        };
        // A version-1 store has no chain yet: the upgrade below starts one.
        let link = replayed
            .link
            .unwrap_or_else(|| seal::new_link(&mut rand::rng()));
        let keys = (cipher, fingerprint);
        let at = (replayed.seq, link, replayed.audit_head.or(audit_head));
        let mut store = FileStore::with_journal(path, kdf, keys, at, opts, lock)?;
        store.journal_records = replayed.records;
        let upgraded_from = (version < snapshot::VERSION).then_some(version);
        if upgraded_from.is_some() {
            store.compact_now(users.iter().cloned().map(Arc::new).collect())?;
        }
        Ok(Opened {
            store,
            users,
            created: false,
            dropped_torn_tail: replayed.torn,
            upgraded_from,
        })
    }

    fn with_journal(
        path: &Path,
        kdf: KdfParams,
        (cipher, fingerprint): (Fernet, FingerprintKey),
        (seq, link, sealed): (u64, Link, Option<Head>),
        opts: &FileOptions,
        lock: File,
    ) -> Result<FileStore, StorageError> {
        let journal_path = journal::path_for(path);
        let journal = files::open_store_file(&journal_path, OpenOptions::new().append(true))
            .map_err(io_err(format!("opening {}", journal_path.display())))?;
        let journal_len = journal
            .metadata()
            .map_err(io_err("reading journal size"))?
            .len();
        let cipher = Arc::new(cipher);
        let audit = AuditFile::open(
            path,
            Arc::clone(&cipher),
            opts.audit_retention,
            std::time::SystemTime::now(),
            sealed.clone(),
        )?;
        files::sync_dir(path)?;
        let mut store = FileStore {
            snapshot_path: path.to_owned(),
            journal_path,
            kdf,
            cipher,
            fingerprint,
            audit,
            journal,
            journal_len,
            journal_records: 0,
            seq,
            link,
            compact_after: opts.compact_after.max(1),
            compaction: None,
            _lock: lock,
        };
        // Opening may have recorded a break (or found a log from before the
        // chain): its head is sealed at once, not at the next batch.
        let head = store.audit.head().cloned();
        if head != sealed {
            store.journal(&[], head.as_ref())?;
        }
        Ok(store)
    }

    /// Writes a snapshot of `users` on this thread, then cuts the journal:
    /// used for upgrades and by tests. Any failure is returned.
    pub fn compact_now(&mut self, users: Vec<Arc<User>>) -> Result<(), StorageError> {
        self.finish_compaction()?;
        let text = snapshot::encode(
            &self.kdf,
            &self.cipher,
            (self.seq, &self.link, self.audit.head()),
            &users,
            false,
        )?;
        drop(users);
        files::write_atomic(&self.snapshot_path, text.as_bytes())?;
        self.journal_records = 0;
        self.cut_journal(self.journal_len)?;
        tracing::info!(seq = self.seq, "snapshot written, journal compacted");
        Ok(())
    }

    /// Waits for a running background snapshot, if any.
    pub fn finish_compaction(&mut self) -> Result<(), StorageError> {
        let Some(c) = self.compaction.take() else {
            return Ok(());
        };
        let result = c.handle.join().unwrap_or_else(|_| {
            Err(StorageError::Io {
                context: "snapshot thread".into(),
                error: std::io::Error::other("panicked"),
            })
        });
        result?;
        self.cut_journal(c.journal_offset)?;
        tracing::info!(seq = c.seq, "snapshot written, journal compacted");
        Ok(())
    }

    fn start_compaction(&mut self, users: Vec<Arc<User>>) {
        let (kdf, cipher, path, seq, link, head) = (
            self.kdf.clone(),
            Arc::clone(&self.cipher),
            self.snapshot_path.clone(),
            self.seq,
            self.link.clone(),
            self.audit.head().cloned(),
        );
        let handle = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                let at = (seq, &link, head.as_ref());
                let text = snapshot::encode(&kdf, &cipher, at, &users, false)?;
                drop(users);
                files::write_atomic(&path, text.as_bytes())
            });
        match handle {
            Ok(handle) => {
                self.compaction = Some(Compaction {
                    seq,
                    journal_offset: self.journal_len,
                    handle,
                });
                // Records counted from here on are the ones the new snapshot lacks.
                self.journal_records = 0;
            }
            // The journal still holds every change: the next batch tries again.
            Err(e) => tracing::warn!(error = %e, "could not start a snapshot thread"),
        }
    }

    /// Replaces the journal by its part after `offset`: the records newer than the
    /// snapshot just written. Until the rename, the old journal is still valid
    /// (replay skips records the snapshot already holds).
    fn cut_journal(&mut self, offset: u64) -> Result<(), StorageError> {
        let mut tail = Vec::new();
        let mut f = files::open_read(&self.journal_path).map_err(io_err("reading the journal"))?;
        f.seek(SeekFrom::Start(offset))
            .and_then(|_| f.read_to_end(&mut tail))
            .map_err(io_err("reading the journal"))?;
        // Past this point the journal file may have been replaced, or not:
        // appending to the wrong one would lose acknowledged changes, so any
        // failure is fatal.
        let replaced = files::write_atomic(&self.journal_path, &tail).and_then(|()| {
            OpenOptions::new()
                .append(true)
                .open(&self.journal_path)
                .map_err(io_err("reopening the journal"))
        });
        match replaced {
            Ok(journal) => {
                self.journal = journal;
                self.journal_len = tail.len() as u64;
                Ok(())
            }
            Err(e) => Err(StorageError::Fatal(format!("cutting the journal: {e}"))),
        }
    }

    /// Last journalled sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Makes every later commit fail, as a full disk would.
    #[cfg(test)]
    pub fn break_for_test(&mut self) {
        if let Ok(f) = OpenOptions::new().write(true).open("/dev/full") {
            self.journal = f;
        }
    }
}

impl FileStore {
    /// Appends `changes`, and the audit log's new head if the batch had
    /// events, to the journal, fsync'd.
    fn journal(&mut self, changes: &[Change], head: Option<&Head>) -> Result<(), StorageError> {
        if changes.is_empty() && head.is_none() {
            return Ok(());
        }
        let (buf, link) =
            journal::encode(&self.cipher, self.seq + 1, self.link.clone(), changes, head)?;
        let records = changes.len() + usize::from(head.is_some());
        let written = self
            .journal
            .write_all(buf.as_bytes())
            .and_then(|()| self.journal.sync_data());
        if let Err(e) = written {
            // Cut off whatever part reached the file, so replay never sees it.
            let undone = self
                .journal
                .set_len(self.journal_len)
                .and_then(|()| self.journal.sync_data());
            return Err(match undone {
                Ok(()) => io_err("appending to the journal")(e),
                Err(undo) => StorageError::Fatal(format!(
                    "the journal could not be put back after a failed write ({e}; then {undo})"
                )),
            });
        }
        self.seq += records as u64;
        self.link = link;
        self.journal_len += buf.len() as u64;
        self.journal_records += records;
        Ok(())
    }
}

impl Backend for FileStore {
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError> {
        self.journal(changes, None)
    }

    fn commit_batch(
        &mut self,
        changes: &[Change],
        _: &[SessionOp],
        audit: &mut [AuditRecord],
    ) -> Result<(), StorageError> {
        // The events first: if the journal then fails they are cut off
        // again. The journal seals the log's new head.
        let Some(appended) = self.audit.append(audit)? else {
            return self.journal(changes, None);
        };
        let head = self.audit.head().cloned();
        // A journal that could not be put back may hold the batch: its
        // events stay then, as the process stops.
        self.journal(changes, head.as_ref()).inspect_err(|e| {
            if !matches!(e, StorageError::Fatal(_)) {
                self.audit.undo(appended)
            }
        })
    }

    fn fingerprint_key(&self) -> Option<FingerprintKey> {
        Some(self.fingerprint.clone())
    }

    fn audit_reader(&self) -> Arc<dyn AuditReader> {
        self.audit.reader()
    }

    fn maintain(&mut self, state: &mut dyn FnMut() -> State) -> Result<(), StorageError> {
        self.audit.maintain()?;
        if self
            .compaction
            .as_ref()
            .is_some_and(|c| c.handle.is_finished())
        {
            self.finish_compaction()?;
        }
        if self.compaction.is_none() && self.journal_records >= self.compact_after {
            self.start_compaction(state().users);
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), StorageError> {
        self.finish_compaction()
    }
}

#[cfg(test)]
mod binding_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upgrade_tests;
