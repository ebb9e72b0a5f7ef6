//! Reading `STORE.audit`: how a line is sealed ([`encrypt`], [`decrypt`]),
//! and an index of the log, in memory: where each line (a batch of
//! events) starts, its ids and times, and for each key of its events
//! ([`Key`]: an account that acted or was acted on, a name, a kind) the
//! lines that hold one. audit_log then reads only the lines that can match,
//! newest first, and stops when its page is full: what a read costs follows
//! the page, not the size of the log.
//!
//! Keys are kept as 64-bit hashes under a random key of this process, never
//! as text. The index is built when the log is opened, grows with each
//! append, and is built again after old lines are dropped.

use super::files;
use crate::audit::reader::visit_newest_first;
use crate::audit::want::{Key, Want};
use crate::audit::{AuditReader, AuditRecord};
use fernet::Fernet;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Lines taken from the index at a time, between which it is let go.
const LINES_AT_ONCE: usize = 64;

/// One line of the log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    /// Where it starts in the file, and its length with its newline.
    pub offset: u64,
    pub len: u32,
    /// Its first event's id.
    pub first_id: u64,
    /// Its oldest and newest event times (Unix seconds).
    min_at: u64,
    max_at: u64,
}

/// The index.
#[derive(Default)]
pub(crate) struct AuditIndex {
    /// Changes when the file is replaced (old lines dropped): a reader
    /// opens the file again.
    generation: u64,
    lines: Vec<Line>,
    /// For each key's hash, the lines holding it, in order.
    postings: HashMap<u64, Vec<u32>>,
    hasher: std::collections::hash_map::RandomState,
}

impl AuditIndex {
    /// The index of `text`, the whole log; `None` if a line is not a batch
    /// sealed with `cipher`.
    pub(crate) fn build(cipher: &Fernet, text: &[u8]) -> Option<AuditIndex> {
        let mut index = AuditIndex::default();
        let mut offset = 0u64;
        for line in text.split_inclusive(|b| *b == b'\n') {
            if !line.ends_with(b"\n") {
                break; // being written
            }
            let records = decrypt(cipher, std::str::from_utf8(line).ok()?)?;
            index.add(offset, line.len() as u32, &records);
            offset += line.len() as u64;
        }
        Some(index)
    }

    /// Adds the line at `offset` holding `records`.
    pub(crate) fn add(&mut self, offset: u64, len: u32, records: &[AuditRecord]) {
        let Some(first) = records.first() else {
            return;
        };
        let n = self.lines.len() as u32;
        self.lines.push(Line {
            offset,
            len,
            first_id: first.id,
            min_at: records.iter().map(|r| r.at).min().unwrap_or(0),
            max_at: records.iter().map(|r| r.at).max().unwrap_or(0),
        });
        for key in records.iter().flat_map(Key::of) {
            let list = self.postings.entry(self.hash(&key)).or_default();
            if list.last() != Some(&n) {
                list.push(n);
            }
        }
    }

    /// Forgets the lines before `bytes`, which the file no longer has: the
    /// others move up, without reading anything again.
    pub(crate) fn drop_front(&mut self, bytes: u64) {
        let gone = self.lines.partition_point(|l| l.offset < bytes);
        self.lines.drain(..gone);
        for line in &mut self.lines {
            line.offset -= bytes;
        }
        let gone = gone as u32;
        for list in self.postings.values_mut() {
            let old = list.partition_point(|n| *n < gone);
            list.drain(..old);
            for n in list.iter_mut() {
                *n -= gone;
            }
        }
        self.postings.retain(|_, l| !l.is_empty());
        self.generation += 1;
    }

    /// Forgets the lines from `offset` on: their batch was not committed.
    pub(crate) fn cut(&mut self, offset: u64) {
        let keep = self.lines.partition_point(|l| l.offset < offset);
        self.lines.truncate(keep);
        for list in self.postings.values_mut() {
            while list.last().is_some_and(|n| *n as usize >= keep) {
                list.pop();
            }
        }
        self.postings.retain(|_, l| !l.is_empty());
    }

    fn hash(&self, key: &Key) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Up to `max` lines that may hold an event `want` matches, newest
    /// first. A read asks again with `before` set to the oldest line's first
    /// id, so that the index is not held while lines are read.
    pub(crate) fn newest_first(&self, want: &Want, max: usize) -> Vec<Line> {
        let fits = |l: &Line| {
            want.since.is_none_or(|s| l.max_at >= s) && want.until.is_none_or(|u| l.min_at < u)
        };
        let below = |l: &Line| want.before.is_none_or(|b| l.first_id < b);
        // Lines only get newer: past `since`, none can match.
        let recent = |l: &Line| want.since.is_none_or(|s| l.max_at >= s);
        let mut groups: Vec<Cow<'_, [u32]>> = want.all_of.iter().map(|g| self.union(g)).collect();
        groups.sort_by_key(|g| g.len());
        match groups.split_first() {
            None => {
                let end = self.lines.partition_point(below);
                let newest = self.lines[..end].iter().rev().take_while(|l| recent(l));
                newest.filter(|l| fits(l)).take(max).copied().collect()
            }
            // The shortest group drives; the others are looked up in.
            Some((driver, others)) => {
                let end = driver.partition_point(|n| below(&self.lines[*n as usize]));
                driver[..end]
                    .iter()
                    .rev()
                    .filter(|n| others.iter().all(|o| o.binary_search(n).is_ok()))
                    .map(|n| self.lines[*n as usize])
                    .take_while(recent)
                    .filter(fits)
                    .take(max)
                    .collect()
            }
        }
    }

    /// The lines holding any of `keys`, in order; one key's as they are.
    fn union(&self, keys: &[Key]) -> Cow<'_, [u32]> {
        if let [key] = keys {
            return Cow::Borrowed(
                self.postings
                    .get(&self.hash(key))
                    .map_or(&[], Vec::as_slice),
            );
        }
        let mut lines: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.postings.get(&self.hash(k)))
            .flatten()
            .copied()
            .collect();
        lines.sort_unstable();
        lines.dedup();
        Cow::Owned(lines)
    }
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

/// Reads the log while the writer appends to it: through the index for
/// audit_log, or whole for the operator commands, which have none.
pub(crate) struct FileAuditReader {
    pub(super) path: PathBuf,
    pub(super) cipher: Arc<Fernet>,
    pub(super) index: Option<Arc<RwLock<AuditIndex>>>,
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

    fn newest_first(
        &self,
        want: &Want,
        visit: &mut dyn FnMut(AuditRecord) -> bool,
    ) -> Result<(), String> {
        let Some(index) = &self.index else {
            return self.read_all().map(|all| {
                visit_newest_first(all, visit);
            });
        };
        let open =
            || files::open_read(&self.path).map_err(|e| format!("reading the audit log: {e}"));
        let mut file: Option<(u64, std::fs::File)> = None;
        let mut want = want.clone();
        loop {
            // The file is opened under the index's lock, so that the two
            // agree: a file replaced since is opened again.
            let lines = {
                let index = index.read().unwrap_or_else(|e| e.into_inner());
                if file.as_ref().is_none_or(|(g, _)| *g != index.generation) {
                    file = Some((index.generation, open()?));
                }
                index.newest_first(&want, LINES_AT_ONCE)
            };
            let Some((_, file)) = &file else {
                return Ok(());
            };
            let Some(oldest) = lines.last() else {
                return Ok(());
            };
            want.before = Some(oldest.first_id);
            for line in lines {
                let mut bytes = vec![0; line.len as usize];
                file.read_exact_at(&mut bytes, line.offset)
                    .map_err(|e| format!("reading the audit log: {e}"))?;
                let records = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| decrypt(&self.cipher, t))
                    .ok_or("the audit log is damaged")?;
                if !visit_newest_first(records, visit) {
                    return Ok(());
                }
            }
        }
    }
}
