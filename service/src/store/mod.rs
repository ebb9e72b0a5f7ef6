//! Encrypted, durable storage: a snapshot plus an append-only journal.
//!
//! Files, beside each other:
//! - `STORE` (the snapshot): clear JSON `{"format", "version", "kdf", "journal_seq", "data"}`,
//!   where `data` is the Fernet token of the users JSON, keyed by username, in the
//!   original service's record structure; it holds every change up to `journal_seq`.
//! - `STORE.journal`: one Fernet token per line, each one change `{"seq", "op", ...}`
//!   made after the snapshot. A batch of changes is appended and fsync'd before any
//!   of them is acknowledged (group commit).
//!
//! When the journal grows past a threshold, a background thread writes a new
//! snapshot (temp file, fsync, rename, fsync the directory), then the journal is cut
//! down to the changes made since. Start-up replays the journal; a torn last line (a
//! crash mid-append) is dropped, while damage anywhere else stops start-up.

mod crypto;
mod files;

pub use crypto::KdfParams;

use fernet::Fernet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use users_protocol::UserRecord;

/// The `format` field of a snapshot.
pub const FORMAT: &str = "users-service-store";
/// The `version` field this build writes and reads.
pub const VERSION: u32 = 1;

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The master password does not decrypt the snapshot.
    #[error("cannot decrypt {0}: wrong master password (USERS_SERVICE_PASSWORD), or the file was altered")]
    WrongPassword(PathBuf),
    /// A file is not what this service writes.
    #[error("{path} is damaged: {reason}")]
    Damaged {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system refused.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// One change, as journalled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Insert or replace the record stored under `user.username`.
    Put {
        /// The record as it is now.
        user: Arc<UserRecord>,
    },
    /// Remove the record stored under `username`.
    Delete {
        /// The stored username.
        username: String,
    },
}

#[derive(Serialize, Deserialize)]
struct JournalEntry {
    seq: u64,
    #[serde(flatten)]
    change: Change,
}

#[derive(Serialize, Deserialize)]
struct SnapshotFile<'a> {
    format: String,
    version: u32,
    kdf: KdfParams,
    journal_seq: u64,
    /// Borrowed from the file's bytes: the token is the bulk of the file, and
    /// base64 never needs unescaping, so no second copy is made.
    #[serde(borrow)]
    data: std::borrow::Cow<'a, str>,
}

/// Tuning.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PBKDF2 iterations for the storage key of a new store.
    pub kdf_iterations: u32,
    /// Journal records that trigger a background snapshot.
    pub compact_after: usize,
}

/// What [`Store::open`] found.
pub struct Opened {
    /// The store, ready for commits.
    pub store: Store,
    /// Every user, keyed by stored username.
    pub users: HashMap<String, Arc<UserRecord>>,
    /// True when no store existed and an empty one was created.
    pub created: bool,
    /// True when a torn last journal record was dropped.
    pub dropped_torn_tail: bool,
}

/// The open store. Only one thread writes to it (the service's writer).
pub struct Store {
    snapshot_path: PathBuf,
    journal_path: PathBuf,
    kdf: KdfParams,
    cipher: Arc<Fernet>,
    journal: File,
    journal_len: u64,
    journal_records: usize,
    seq: u64,
    compact_after: usize,
    compaction: Option<Compaction>,
}

struct Compaction {
    seq: u64,
    journal_offset: u64,
    handle: JoinHandle<Result<(), StoreError>>,
}

/// The journal beside a snapshot.
pub fn journal_path(snapshot: &Path) -> PathBuf {
    let mut s = snapshot.as_os_str().to_owned();
    s.push(".journal");
    PathBuf::from(s)
}

impl Store {
    /// Opens the store at `path`, or creates an empty one if neither file exists.
    /// Nothing on disk changes unless both files read back correctly, except that a
    /// torn journal tail is cut off.
    pub fn open(path: &Path, master: &str, opts: &StoreOptions) -> Result<Opened, StoreError> {
        let journal_path = journal_path(path);
        if !path.exists() {
            if journal_path.exists() {
                return Err(StoreError::Damaged {
                    path: journal_path,
                    reason: "a journal exists but its snapshot is missing".into(),
                });
            }
            let kdf = KdfParams::generate(opts.kdf_iterations, &mut rand::rng());
            let cipher = kdf.cipher(master).map_err(|reason| StoreError::Damaged {
                path: path.to_owned(),
                reason,
            })?;
            let snapshot = encode_snapshot(&kdf, &cipher, 0, &[])?;
            files::write_atomic(path, snapshot.as_bytes())?;
            let store = Store::with_journal(path, kdf, cipher, 0, opts)?;
            return Ok(Opened {
                store,
                users: HashMap::new(),
                created: true,
                dropped_torn_tail: false,
            });
        }

        let raw = std::fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
        let damaged = |reason: String| StoreError::Damaged {
            path: path.to_owned(),
            reason,
        };
        let file: SnapshotFile = serde_json::from_slice(&raw)
            .map_err(|e| damaged(format!("not a users-service store ({e})")))?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(damaged(format!(
                "unsupported format {} version {}",
                file.format, file.version
            )));
        }
        let cipher = file.kdf.cipher(master).map_err(damaged)?;
        let plain = cipher
            .decrypt(&file.data)
            .map_err(|_| StoreError::WrongPassword(path.to_owned()))?;
        let (kdf, journal_seq) = (file.kdf, file.journal_seq);
        drop(raw);
        // Straight into the Arcs the table keeps: no second copy of 100,000 records.
        let mut users: HashMap<String, Arc<UserRecord>> = serde_json::from_slice(&plain)
            .map_err(|e| damaged(format!("decrypted data is not a user table ({e})")))?;
        drop(plain);

        let (seq, records, torn) = replay_journal(&journal_path, &cipher, journal_seq, &mut users)?;
        let mut store = Store::with_journal(path, kdf, cipher, seq, opts)?;
        store.journal_records = records;
        Ok(Opened {
            store,
            users,
            created: false,
            dropped_torn_tail: torn,
        })
    }

    fn with_journal(
        path: &Path,
        kdf: KdfParams,
        cipher: Fernet,
        seq: u64,
        opts: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let journal_path = journal_path(path);
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let journal = o
            .open(&journal_path)
            .map_err(io_err(format!("opening {}", journal_path.display())))?;
        let journal_len = journal
            .metadata()
            .map_err(io_err("reading journal size"))?
            .len();
        files::sync_dir(path)?;
        Ok(Store {
            snapshot_path: path.to_owned(),
            journal_path,
            kdf,
            cipher: Arc::new(cipher),
            journal,
            journal_len,
            journal_records: 0,
            seq,
            compact_after: opts.compact_after.max(1),
            compaction: None,
        })
    }

    /// Appends `changes` to the journal and fsyncs it. On error nothing of them
    /// remains in the journal, as far as the disk allows, and the caller must undo
    /// them in memory.
    pub fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut buf = String::new();
        let mut seq = self.seq;
        for change in changes {
            seq += 1;
            let entry = JournalEntry {
                seq,
                change: change.clone(),
            };
            let json = serde_json::to_vec(&entry).map_err(|e| StoreError::Io {
                context: "encoding a journal record".into(),
                source: std::io::Error::other(e),
            })?;
            buf.push_str(&self.cipher.encrypt(&json));
            buf.push('\n');
        }
        let written = self
            .journal
            .write_all(buf.as_bytes())
            .and_then(|()| self.journal.sync_data());
        if let Err(e) = written {
            // Cut off whatever part reached the file, so replay never sees it.
            let _ = self.journal.set_len(self.journal_len);
            let _ = self.journal.sync_data();
            return Err(io_err("appending to the journal")(e));
        }
        self.seq = seq;
        self.journal_len += buf.len() as u64;
        self.journal_records += changes.len();
        Ok(())
    }

    /// Finishes a background snapshot that is done, and starts one when the journal
    /// has grown past the threshold. `users` is called only to start one.
    pub fn maybe_compact(
        &mut self,
        users: impl FnOnce() -> Vec<Arc<UserRecord>>,
    ) -> Result<(), StoreError> {
        if self
            .compaction
            .as_ref()
            .is_some_and(|c| c.handle.is_finished())
        {
            self.finish_compaction()?;
        }
        if self.compaction.is_none() && self.journal_records >= self.compact_after {
            self.start_compaction(users());
        }
        Ok(())
    }

    /// Writes a snapshot now and waits for it: used at shutdown and by tests.
    pub fn compact_now(&mut self, users: Vec<Arc<UserRecord>>) -> Result<(), StoreError> {
        self.finish_compaction()?;
        self.start_compaction(users);
        self.finish_compaction()
    }

    /// Waits for a running background snapshot, if any.
    pub fn finish_compaction(&mut self) -> Result<(), StoreError> {
        let Some(c) = self.compaction.take() else {
            return Ok(());
        };
        let result = c.handle.join().unwrap_or_else(|_| {
            Err(StoreError::Io {
                context: "snapshot thread".into(),
                source: std::io::Error::other("panicked"),
            })
        });
        result?;
        self.cut_journal(c.journal_offset)?;
        tracing::info!(seq = c.seq, "snapshot written, journal compacted");
        Ok(())
    }

    fn start_compaction(&mut self, users: Vec<Arc<UserRecord>>) {
        let (kdf, cipher, path, seq) = (
            self.kdf.clone(),
            Arc::clone(&self.cipher),
            self.snapshot_path.clone(),
            self.seq,
        );
        let handle = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                let text = encode_snapshot(&kdf, &cipher, seq, &users)?;
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
            Err(e) => tracing::warn!(error = %e, "could not start a snapshot thread"),
        }
    }

    /// Replaces the journal by its part after `offset`: the records newer than the
    /// snapshot just written. Until the rename, the old journal is still valid
    /// (replay skips records the snapshot already holds).
    fn cut_journal(&mut self, offset: u64) -> Result<(), StoreError> {
        let mut tail = Vec::new();
        let mut f = File::open(&self.journal_path).map_err(io_err("reading the journal"))?;
        f.seek(SeekFrom::Start(offset))
            .and_then(|_| f.read_to_end(&mut tail))
            .map_err(io_err("reading the journal"))?;
        files::write_atomic(&self.journal_path, &tail)?;
        self.journal = OpenOptions::new()
            .append(true)
            .open(&self.journal_path)
            .map_err(io_err("reopening the journal"))?;
        self.journal_len = tail.len() as u64;
        Ok(())
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

fn encode_snapshot(
    kdf: &KdfParams,
    cipher: &Fernet,
    seq: u64,
    users: &[Arc<UserRecord>],
) -> Result<String, StoreError> {
    struct Table<'a>(&'a [Arc<UserRecord>]);
    impl Serialize for Table<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|u| (&u.username, &**u)))
        }
    }
    let plain =
        zeroize::Zeroizing::new(
            serde_json::to_vec(&Table(users)).map_err(|e| StoreError::Io {
                context: "encoding the snapshot".into(),
                source: std::io::Error::other(e),
            })?,
        );
    let file = SnapshotFile {
        format: FORMAT.into(),
        version: VERSION,
        kdf: kdf.clone(),
        journal_seq: seq,
        data: cipher.encrypt(&plain).into(),
    };
    serde_json::to_string(&file).map_err(|e| StoreError::Io {
        context: "encoding the snapshot".into(),
        source: std::io::Error::other(e),
    })
}

/// Applies the journal's records newer than `from_seq` to `users`. Returns the last
/// sequence number, the number of records in the journal, and whether a torn tail
/// was cut off.
///
/// A crash during an append can leave only the last line incomplete (a batch is one
/// write), so exactly one unreadable line at the end is a torn append and is cut
/// off; an unreadable line anywhere else is damage and stops start-up.
fn replay_journal(
    path: &Path,
    cipher: &Fernet,
    from_seq: u64,
    users: &mut HashMap<String, Arc<UserRecord>>,
) -> Result<(u64, usize, bool), StoreError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((from_seq, 0, false)),
        Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
    };
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let mut seq = from_seq;
    let mut good_len = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let body = line.strip_suffix(b"\n");
        let entry = body
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|t| cipher.decrypt(t).ok())
            .and_then(|p| serde_json::from_slice::<JournalEntry>(&p).ok());
        let Some(entry) = entry else {
            if i + 1 == lines.len() {
                break; // torn last append
            }
            return Err(damaged(format!("record {} cannot be read", i + 1)));
        };
        if entry.seq > seq {
            if seq > from_seq && entry.seq != seq + 1 {
                return Err(damaged(format!("record {} is out of sequence", i + 1)));
            }
            seq = entry.seq;
            match entry.change {
                Change::Put { user } => {
                    users.insert(user.username.clone(), user);
                }
                Change::Delete { username } => {
                    users.remove(&username);
                }
            }
        }
        good_len += line.len();
    }
    let records = lines.len() - usize::from(good_len < data.len());
    let torn = good_len < data.len();
    if torn {
        tracing::warn!(
            bytes = data.len() - good_len,
            "dropping a torn record at the end of the journal"
        );
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err("truncating the journal"))?;
        f.set_len(good_len as u64)
            .and_then(|()| f.sync_all())
            .map_err(io_err("truncating the journal"))?;
    }
    Ok((seq, records, torn))
}

#[cfg(test)]
mod tests;
