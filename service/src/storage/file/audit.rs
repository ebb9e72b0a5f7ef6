//! `STORE.audit`: the audit log beside the file store. One line per batch,
//! each a Fernet token (the store's key) of a JSON array of
//! [`AuditRecord`]s, appended and fsync'd before the batch's journal record:
//! a change that is acknowledged always has its events. A crash between the
//! two can leave events of a change that never landed, never the reverse.
//!
//! Lines whose events are all older than the retention are dropped, at
//! start-up and then once a day, by rewriting the file (temp file, fsync,
//! rename).

use super::files;
use crate::audit::{AuditReader, AuditRecord};
use crate::storage::backend::{io_err, StorageError};
use fernet::Fernet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    retention: Duration,
    pruned_at: Instant,
}

impl AuditFile {
    /// Opens (or creates) the log beside `store`: cuts a torn last line,
    /// drops events past `retention`, and finds the next event id. Only the
    /// file's tail and its oldest lines are read, so a long log opens fast.
    pub(crate) fn open(
        store: &Path,
        cipher: Arc<Fernet>,
        retention: Duration,
        now: SystemTime,
    ) -> Result<AuditFile, StorageError> {
        let path = path_for(store);
        files::create_or_keep_private(&path)?;
        let mut file = files::open_existing(&path, OpenOptions::new().read(true).append(true))
            .map_err(io_err(format!("opening {}", path.display())))?;
        let (whole, last) = last_line(&mut file).map_err(io_err("reading the audit log"))?;
        let after_last = match last {
            Some(line) => decrypt(&cipher, &line)
                .ok_or_else(|| damaged(&path))?
                .iter()
                .map(|r| r.id + 1)
                .max()
                .unwrap_or(1),
            None => 1,
        };
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
            retention,
            pruned_at: Instant::now(),
        };
        log.prune(now)?;
        Ok(log)
    }

    /// Gives `records` their ids and appends them as one line, fsync'd.
    /// Returns the length before, for [`AuditFile::undo`].
    pub(crate) fn append(
        &mut self,
        records: &mut [AuditRecord],
    ) -> Result<Option<u64>, StorageError> {
        if records.is_empty() {
            return Ok(None);
        }
        for r in records.iter_mut() {
            r.id = self.next_id;
            self.next_id += 1;
        }
        let token = encrypt(&self.cipher, records).map_err(|e| StorageError::Io {
            context: "encoding audit events".into(),
            error: std::io::Error::other(e),
        })?;
        let line = format!("{token}\n");
        let before = self.len;
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.undo(before);
            return Err(io_err("appending to the audit log")(e));
        }
        self.len += line.len() as u64;
        Ok(Some(before))
    }

    /// Cuts the log back to `len`: the batch it ended with was not committed.
    pub(crate) fn undo(&mut self, len: u64) {
        match self.file.set_len(len).and_then(|()| self.file.sync_data()) {
            Ok(()) => self.len = len,
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

    fn prune(&mut self, now: SystemTime) -> Result<(), StorageError> {
        let cutoff = now
            .checked_sub(self.retention)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        // The oldest lines come first: read until one holds a recent event.
        let f = files::open_read(&self.path).map_err(io_err("reading the audit log"))?;
        let mut drop_upto = 0u64;
        for line in BufReader::new(f).split(b'\n') {
            let line = line.map_err(io_err("reading the audit log"))?;
            let text = String::from_utf8_lossy(&line);
            let records = decrypt(&self.cipher, &text).ok_or_else(|| damaged(&self.path))?;
            if records.iter().any(|r| r.at >= cutoff) {
                break;
            }
            drop_upto += line.len() as u64 + 1;
        }
        if drop_upto == 0 {
            return Ok(());
        }
        // The rest is copied as it is, without decrypting it.
        let mut rest = files::open_read(&self.path).map_err(io_err("reading the audit log"))?;
        rest.seek(SeekFrom::Start(drop_upto))
            .map_err(io_err("reading the audit log"))?;
        let replaced =
            files::write_atomic_with(&self.path, |f| std::io::copy(&mut rest, f).map(drop));
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
        Ok(())
    }

    /// A reader of this log, for audit_log.
    pub(crate) fn reader(&self) -> Arc<dyn AuditReader> {
        Arc::new(FileAuditReader {
            path: self.path.clone(),
            cipher: Arc::clone(&self.cipher),
        })
    }
}

/// Where the file's complete lines end, and the last of them. The tail is
/// read in growing chunks until it holds a whole line, or the file is read.
fn last_line(file: &mut File) -> std::io::Result<(u64, Option<String>)> {
    let len = file.metadata()?.len();
    let mut chunk = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(chunk);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let Some(end) = tail.iter().rposition(|b| *b == b'\n') else {
            if start == 0 {
                return Ok((0, None));
            }
            chunk *= 4;
            continue;
        };
        match tail[..end].iter().rposition(|b| *b == b'\n') {
            Some(before) => {
                let line = String::from_utf8_lossy(&tail[before + 1..end]).into_owned();
                return Ok((start + end as u64 + 1, Some(line)));
            }
            None if start == 0 => {
                let line = String::from_utf8_lossy(&tail[..end]).into_owned();
                return Ok((end as u64 + 1, Some(line)));
            }
            None => chunk *= 4,
        }
    }
}

/// A reader of the audit log beside the store at `store`, without opening
/// it for writing: for `verify`, beside a running service.
pub(crate) fn reader_at(store: &Path, cipher: Arc<Fernet>) -> Arc<dyn AuditReader> {
    Arc::new(FileAuditReader {
        path: path_for(store),
        cipher,
    })
}

fn append(path: &Path) -> Result<File, StorageError> {
    files::open_existing(path, OpenOptions::new().append(true))
        .map_err(io_err(format!("opening {}", path.display())))
}

/// One line's token: a batch of events, sealed.
pub(crate) fn encrypt(
    cipher: &Fernet,
    records: &[AuditRecord],
) -> Result<String, serde_json::Error> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(records)?);
    Ok(cipher.encrypt(&json))
}

/// A line's events; `None` if it is not a batch sealed with `cipher`.
pub(crate) fn decrypt(cipher: &Fernet, line: &str) -> Option<Vec<AuditRecord>> {
    let plain = zeroize::Zeroizing::new(cipher.decrypt(line.trim()).ok()?);
    serde_json::from_slice(&plain).ok()
}

fn damaged(path: &Path) -> StorageError {
    StorageError::Damaged {
        path: path.to_owned(),
        reason: "a line is not an audit batch sealed with this store's key".into(),
    }
}

/// Reads the log while the writer appends to it.
struct FileAuditReader {
    path: PathBuf,
    cipher: Arc<Fernet>,
}

impl AuditReader for FileAuditReader {
    fn read_all(&self) -> Result<Vec<AuditRecord>, String> {
        let text =
            files::read_to_string(&self.path).map_err(|e| format!("reading the audit log: {e}"))?;
        let mut out = Vec::new();
        // A line still being written has no newline yet: it is left for later.
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            match decrypt(&self.cipher, line) {
                Some(records) => out.extend(records),
                None => return Err("the audit log is damaged".into()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::VERSION;
    use users_protocol::AuditKind;

    fn record(at: u64) -> AuditRecord {
        AuditRecord {
            v: VERSION,
            id: 0,
            at,
            kind: AuditKind::AccountCreated,
            actor: None,
            target: None,
            client: None,
            success: true,
            detail: "secret-free".into(),
        }
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn appends_undoes_prunes_and_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("users.json");
        let cipher = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
        let day = Duration::from_secs(86_400);
        let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, SystemTime::now()).unwrap();
        let mut old = [record(now() - 2 * 86_400)];
        log.append(&mut old).unwrap();
        let first = old[0].id;
        assert!(first >= now() << 20, "ids start at the time's floor");
        let mut batch = [record(now()), record(now())];
        log.append(&mut batch).unwrap();
        assert_eq!((batch[0].id, batch[1].id), (first + 1, first + 2));
        let mut undone = [record(now())];
        let before = log.append(&mut undone).unwrap().unwrap();
        log.undo(before);
        let text = std::fs::read_to_string(path_for(&store)).unwrap();
        assert!(!text.contains("secret-free") && !text.contains("account_created"));
        let read = log.reader().read_all().unwrap();
        let ids = |read: &[AuditRecord]| read.iter().map(|r| r.id - first).collect::<Vec<_>>();
        assert_eq!(ids(&read), [0, 1, 2]);
        // A torn line is cut at the next start, and the old line dropped.
        std::fs::OpenOptions::new()
            .append(true)
            .open(path_for(&store))
            .unwrap()
            .write_all(b"gAAAAA-torn")
            .unwrap();
        drop(log);
        let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, SystemTime::now()).unwrap();
        let read = log.reader().read_all().unwrap();
        assert_eq!(ids(&read), [1, 2]);
        let mut next = [record(now())];
        log.append(&mut next).unwrap();
        assert_eq!(next[0].id, first + 3, "ids go on after the last one kept");
        // Every event dropped for age: ids still do not go back.
        drop(log);
        let later_on = SystemTime::now() + 10 * day;
        let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, later_on).unwrap();
        assert!(log.reader().read_all().unwrap().is_empty());
        let mut later = [record(now())];
        log.append(&mut later).unwrap();
        assert!(later[0].id > next[0].id);
        // Another key cannot read it.
        let other = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
        assert!(AuditFile::open(&store, other, day, SystemTime::now()).is_err());
    }
}
