//! `STORE.audit`: the audit log beside the file store. One line per batch,
//! each a Fernet token (the store's key) of a JSON array of
//! [`AuditRecord`]s, appended and fsync'd before the batch's journal record:
//! a change that is acknowledged always has its events. A crash between the
//! two can leave events of a change that never landed, never the reverse.
//!
//! Lines whose events are all older than the retention are dropped, at
//! start-up and then once a day, by rewriting the file (temp file, fsync,
//! rename).
//!
//! The events are chained ([`crate::audit::chain`]), and the journal seals
//! the newest: at start-up a log that ends one batch past the sealed head
//! lost its journal record to a crash, and that batch is cut; a log that
//! lacks the sealed head was cut short, which is recorded as an
//! `audit_chain_broken` event, for `verify` names where.

use super::audit_read::{decrypt, encrypt, AuditIndex, FileAuditReader};
use super::files;
use crate::audit::chain;
use crate::audit::{AuditReader, AuditRecord, Event, Head};
use crate::storage::backend::{io_err, StorageError};
use fernet::Fernet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use users_protocol::AuditKind;

/// The audit log's path for the store at `store`.
pub(crate) fn path_for(store: &Path) -> PathBuf {
    files::with_suffix(store, ".audit")
}

/// How often old events are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The open audit log, appended to by the writer only.
pub(crate) struct AuditFile {
    path: PathBuf,
    cipher: Arc<Fernet>,
    file: File,
    len: u64,
    next_id: u64,
    /// The newest event, which the next one links to.
    head: Option<Head>,
    /// Shared with the readers.
    index: Arc<RwLock<AuditIndex>>,
    retention: Duration,
    pruned_at: Instant,
}

/// What [`AuditFile::undo`] puts back.
pub(crate) struct Appended {
    len: u64,
    head: Option<Head>,
}

impl AuditFile {
    /// Opens (or creates) the log beside `store`: cuts a torn last line,
    /// checks its end against the head the store `sealed` (see the module),
    /// drops events past `retention`, and finds the next event id. Only the
    /// file's tail and its oldest lines are read, so a long log opens fast.
    pub(crate) fn open(
        store: &Path,
        cipher: Arc<Fernet>,
        retention: Duration,
        now: SystemTime,
        sealed: Option<Head>,
    ) -> Result<AuditFile, StorageError> {
        let path = path_for(store);
        files::create_or_keep_private(&path)?;
        let mut file = files::open_existing(&path, OpenOptions::new().read(true).append(true))
            .map_err(io_err(format!("opening {}", path.display())))?;
        let (whole, last) = last_line(&mut file).map_err(io_err("reading the audit log"))?;
        let last = match last {
            Some(line) => decrypt(&cipher, &line).ok_or_else(|| damaged(&path))?,
            None => Vec::new(),
        };
        let after_last = last.iter().map(|r| r.id + 1).max().unwrap_or(1);
        let next_id = after_last.max(crate::audit::record::id_floor(now));
        let len = file
            .metadata()
            .map_err(io_err("reading the audit log"))?
            .len();
        if whole < len {
            tracing::warn!(
                "the audit log's last line was cut short (a crash while writing it); dropped"
            );
            file.set_len(whole)
                .and_then(|()| file.sync_data())
                .map_err(io_err("cutting the audit log's torn line"))?;
        }
        let mut log = AuditFile {
            file,
            len: whole,
            path,
            cipher,
            next_id,
            head: last.last().map(AuditRecord::head),
            index: Arc::default(),
            retention,
            pruned_at: Instant::now(),
        };
        log.settle(sealed, now)?;
        log.prune(now)?;
        log.reindex()?;
        Ok(log)
    }

    /// Builds the index from the whole log, at start-up.
    fn reindex(&mut self) -> Result<(), StorageError> {
        let text = files::read(&self.path).map_err(io_err("reading the audit log"))?;
        let index = AuditIndex::build(&self.cipher, &text).ok_or_else(|| damaged(&self.path))?;
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = index;
        Ok(())
    }

    /// The newest event, for the store to seal.
    pub(crate) fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Checks the log's end against the head the store sealed.
    fn settle(&mut self, sealed: Option<Head>, now: SystemTime) -> Result<(), StorageError> {
        let Some(sealed) = sealed else {
            return Ok(()); // a store from before the chain, or new
        };
        if self.head.as_ref() == Some(&sealed) {
            return Ok(());
        }
        let reading = |e| io_err("reading the audit log")(e);
        // One batch past it: its journal record never landed.
        if let Some((start, _)) = line_before(&mut self.file, self.len).map_err(reading)? {
            let before = line_before(&mut self.file, start).map_err(reading)?;
            let ends_sealed = before
                .and_then(|(_, line)| decrypt(&self.cipher, &line))
                .is_some_and(|r| r.last().map(AuditRecord::head).as_ref() == Some(&sealed));
            if ends_sealed {
                tracing::warn!("dropped the audit events of a batch that was not committed");
                self.undo(Appended {
                    len: start,
                    head: Some(sealed),
                });
                return Ok(());
            }
        }
        let why = chain::Break {
            id: sealed.id,
            why: "the store sealed it as the newest event, and the log lacks it: \
                  events were cut off, or the store was put back"
                .into(),
        };
        tracing::error!(%why, "the audit log was altered");
        let event = Event::operator(AuditKind::AuditChainBroken, why.to_string());
        self.append(&mut [event.record(crate::clock::unix_secs(now), |_| None)])?;
        Ok(())
    }

    /// Gives `records` their ids and links, and appends them as one line,
    /// fsync'd. Returns what [`AuditFile::undo`] needs.
    pub(crate) fn append(
        &mut self,
        records: &mut [AuditRecord],
    ) -> Result<Option<Appended>, StorageError> {
        if records.is_empty() {
            return Ok(None);
        }
        for r in records.iter_mut() {
            r.id = self.next_id;
            self.next_id += 1;
        }
        let before = Appended {
            len: self.len,
            head: self.head.clone(),
        };
        chain::link(records, &mut self.head);
        let token = match encrypt(&self.cipher, records) {
            Ok(token) => token,
            Err(e) => {
                self.head = before.head;
                return Err(StorageError::Io {
                    context: "encoding audit events".into(),
                    error: std::io::Error::other(e),
                });
            }
        };
        let line = format!("{token}\n");
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.undo(before);
            return Err(io_err("appending to the audit log")(e));
        }
        self.len += line.len() as u64;
        self.index.write().unwrap_or_else(|e| e.into_inner()).add(
            before.len,
            line.len() as u32,
            records,
        );
        Ok(Some(before))
    }

    /// Cuts the log back to where it was: the batch it ended with was not
    /// committed.
    pub(crate) fn undo(&mut self, to: Appended) {
        self.head = to.head;
        self.index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .cut(to.len);
        match self
            .file
            .set_len(to.len)
            .and_then(|()| self.file.sync_data())
        {
            Ok(()) => self.len = to.len,
            Err(e) => tracing::error!(
                error = %e,
                "the audit log keeps events of a batch that was not committed"
            ),
        }
    }

    /// Once a day: drops the lines whose events are all past the retention.
    pub(crate) fn maintain(&mut self) -> Result<(), StorageError> {
        if self.pruned_at.elapsed() >= PRUNE_EVERY {
            self.pruned_at = Instant::now();
            self.prune(SystemTime::now())?;
        }
        Ok(())
    }

    /// Drops the oldest lines past the retention; says whether it did.
    fn prune(&mut self, now: SystemTime) -> Result<bool, StorageError> {
        let cutoff = now
            .checked_sub(self.retention)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        // The oldest lines come first: read until one holds a recent event.
        // The newest line stays, whatever its age: it holds the chain's
        // head, which the store sealed.
        let f = files::open_read(&self.path).map_err(io_err("reading the audit log"))?;
        let mut drop_upto = 0u64;
        for line in BufReader::new(f).split(b'\n') {
            let line = line.map_err(io_err("reading the audit log"))?;
            if drop_upto + line.len() as u64 + 1 >= self.len {
                break;
            }
            let text = String::from_utf8_lossy(&line);
            let records = decrypt(&self.cipher, &text).ok_or_else(|| damaged(&self.path))?;
            if records.iter().any(|r| r.at >= cutoff) {
                break;
            }
            drop_upto += line.len() as u64 + 1;
        }
        if drop_upto == 0 {
            return Ok(false);
        }
        // The rest is copied as it is, without decrypting it.
        let mut rest = files::open_read(&self.path).map_err(io_err("reading the audit log"))?;
        rest.seek(SeekFrom::Start(drop_upto))
            .map_err(io_err("reading the audit log"))?;
        // Readers meet the new file and the index shifted to it together.
        let index = Arc::clone(&self.index);
        let mut index = index.write().unwrap_or_else(|e| e.into_inner());
        let replaced =
            files::write_atomic_with(&self.path, |f| std::io::copy(&mut rest, f).map(drop));
        if replaced.is_ok() {
            index.drop_front(drop_upto);
        }
        drop(index);
        // Whatever the path names now, the next batch must go there, not to
        // a file the rename took away: failing that, nothing is safe to add.
        self.file = append(&self.path)
            .and_then(|f| {
                let len = f.metadata().map_err(io_err("reading the audit log"))?.len();
                Ok((f, len))
            })
            .map(|(f, len)| {
                self.len = len;
                f
            })
            .map_err(|e| StorageError::Fatal(format!("reopening the audit log: {e}")))?;
        replaced?;
        tracing::info!(bytes = drop_upto, "dropped audit events past the retention");
        Ok(true)
    }

    /// A reader of this log, for audit_log, through its index.
    pub(crate) fn reader(&self) -> Arc<dyn AuditReader> {
        Arc::new(FileAuditReader {
            path: self.path.clone(),
            cipher: Arc::clone(&self.cipher),
            index: Some(Arc::clone(&self.index)),
        })
    }
}

/// Where the file's complete lines end, and the last of them. The tail is
/// read in growing chunks until it holds a whole line, or the file is read.
fn last_line(file: &mut File) -> std::io::Result<(u64, Option<String>)> {
    let len = file.metadata()?.len();
    // A line is whole once it has its newline: where the last one is.
    let mut whole = 0;
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(64 * 1024);
        let mut chunk = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        if let Some(p) = chunk.iter().rposition(|b| *b == b'\n') {
            whole = start + p as u64 + 1;
            break;
        }
        end = start;
    }
    Ok((whole, line_before(file, whole)?.map(|(_, line)| line)))
}

/// The whole line that ends just before `end` (with its newline at
/// `end - 1`), and where it starts; none at the file's start. The tail is
/// read in growing chunks until it holds the line.
fn line_before(file: &mut File, end: u64) -> std::io::Result<Option<(u64, String)>> {
    if end == 0 {
        return Ok(None);
    }
    let mut size = 64 * 1024u64;
    loop {
        let start = end.saturating_sub(size);
        let mut chunk = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        let body = &chunk[..chunk.len() - 1];
        let text = |from: usize| String::from_utf8_lossy(&body[from..]).into_owned();
        match body.iter().rposition(|b| *b == b'\n') {
            Some(p) => return Ok(Some((start + p as u64 + 1, text(p + 1)))),
            None if start == 0 => return Ok(Some((0, text(0)))),
            None => size *= 4,
        }
    }
}

/// A reader of the audit log beside the store at `store`, without opening
/// it for writing: for `verify`, beside a running service.
pub(crate) fn reader_at(store: &Path, cipher: Arc<Fernet>) -> Arc<dyn AuditReader> {
    Arc::new(FileAuditReader {
        path: path_for(store),
        cipher,
        index: None,
    })
}

fn append(path: &Path) -> Result<File, StorageError> {
    files::open_existing(path, OpenOptions::new().append(true))
        .map_err(io_err(format!("opening {}", path.display())))
}

fn damaged(path: &Path) -> StorageError {
    StorageError::Damaged {
        path: path.to_owned(),
        reason: "a line is not an audit batch sealed with this store's key".into(),
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
