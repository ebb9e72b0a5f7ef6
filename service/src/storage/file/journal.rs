//! The journal: one Fernet token per line, each one change made after the
//! snapshot, numbered by `seq`.
//!
//! A crash during an append can leave only the last line incomplete (a batch
//! is one write, and each record ends in a newline), so a last line without
//! its newline is a torn append and is cut off, with a warning. Any complete
//! line that cannot be read, the last included, is damage and stops start-up.

use super::seal::{link_of, Link};
use crate::audit::Head;
use crate::model::record::UserRecord;
use crate::model::UserId;
use crate::storage::backend::{io_err, Change, StorageError};
use fernet::Fernet;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// The journal beside a snapshot.
pub fn path_for(snapshot: &Path) -> PathBuf {
    super::files::with_suffix(snapshot, ".journal")
}

/// One journalled change. Version 1 deleted by `username`, version 2 by `id`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Insert or replace a user.
    Put {
        /// The record as it is now.
        user: Box<UserRecord>,
    },
    /// The audit log's newest event after the batch this record ends
    /// (see [`crate::audit::chain`]); changes nothing.
    AuditHead {
        /// The event's id and digest.
        head: Head,
    },
    /// Remove a user.
    Delete {
        /// Version 2: the user's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<UserId>,
        /// Version 1: the stored username.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
}

impl From<&Change> for Op {
    fn from(change: &Change) -> Op {
        match change {
            Change::Put(u) => Op::Put {
                user: Box::new(UserRecord::from(&**u)),
            },
            Change::Delete(id) => Op::Delete {
                id: Some(*id),
                username: None,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    seq: u64,
    /// The link of the record before this one (see [`super::seal`]); absent
    /// in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<Link>,
    #[serde(flatten)]
    op: Op,
}

/// The journal lines for `changes`, and the audit log's new head if the
/// batch had events, numbered from `first_seq`, chained on from `link`;
/// returns them and the link of the last one.
pub fn encode(
    cipher: &Fernet,
    first_seq: u64,
    mut link: Link,
    changes: &[Change],
    audit_head: Option<&Head>,
) -> Result<(String, Link), StorageError> {
    let mut buf = String::new();
    let ops = changes
        .iter()
        .map(Op::from)
        .chain(audit_head.cloned().map(|head| Op::AuditHead { head }));
    for (seq, op) in (first_seq..).zip(ops) {
        let entry = Entry {
            seq,
            after: Some(link),
            op,
        };
        let json = serde_json::to_vec(&entry).map_err(|e| StorageError::Io {
            context: "encoding a journal record".into(),
            error: std::io::Error::other(e),
        })?;
        let token = cipher.encrypt(&json);
        link = link_of(&token);
        buf.push_str(&token);
        buf.push('\n');
    }
    Ok((buf, link))
}

/// One journal line: its token, and the record it decrypts to, if it is one.
fn decode_line<'a>(cipher: &Fernet, line: &'a [u8]) -> Option<(&'a str, Entry)> {
    let token = std::str::from_utf8(line.strip_suffix(b"\n")?).ok()?;
    let plain = cipher.decrypt(token).ok()?;
    Some((token, serde_json::from_slice::<Entry>(&plain).ok()?))
}

/// Decodes one journal line as replay does, and says whether it holds a
/// record: the fuzzing target's way in.
pub fn check_line(cipher: &Fernet, line: &[u8]) -> bool {
    decode_line(cipher, line).is_some()
}

/// What [`replay`] found.
pub struct Replayed {
    /// The last sequence number applied (or `from_seq`).
    pub seq: u64,
    /// The link of that record (or the one replay started from).
    pub link: Option<Link>,
    /// Records in the journal, applied or not.
    pub records: usize,
    /// Whether a torn last line was cut off.
    pub torn: bool,
    /// The last audit head a record sealed, if any did.
    pub audit_head: Option<Head>,
}

/// Passes every journal record newer than `from_seq` to `apply`, in order.
/// `apply` refuses a record it cannot use, with the reason.
///
/// Records up to `from_seq` are ones the snapshot already holds (left by a
/// compaction) and are skipped. The first newer one must be `from_seq + 1`,
/// and each after it the next number: a gap or a repeat is damage. With
/// `link` (version 2), each newer record must also name the link before it,
/// starting from the snapshot's: a journal that does not continue this
/// snapshot is damage too.
pub fn replay(
    path: &Path,
    cipher: &Fernet,
    (from_seq, mut link): (u64, Option<Link>),
    cut_torn: bool,
    mut apply: impl FnMut(Op) -> Result<(), String>,
) -> Result<Replayed, StorageError> {
    let data = match super::files::read(path) {
        Ok(d) => d,
        // A version-2 snapshot always has its journal beside it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && link.is_none() => {
            return Ok(Replayed {
                seq: from_seq,
                link,
                records: 0,
                torn: false,
                audit_head: None,
            })
        }
        Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
    };
    let damaged = |reason: String| StorageError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let mut seq = from_seq;
    let mut good_len = 0usize;
    let mut audit_head = None;
    for (i, line) in lines.iter().enumerate() {
        let Some((token, entry)) = decode_line(cipher, line) else {
            // Only a last line without its newline is an append cut short.
            if i + 1 == lines.len() && !line.ends_with(b"\n") {
                break;
            }
            return Err(damaged(format!("record {} cannot be read", i + 1)));
        };
        let n = i + 1;
        if entry.seq <= seq && seq == from_seq {
            good_len += line.len();
            continue; // already in the snapshot
        }
        if entry.seq != seq + 1 {
            return Err(damaged(format!(
                "record {n} has number {} where {} should follow: {}",
                entry.seq,
                seq + 1,
                if entry.seq <= seq {
                    "a repeat"
                } else {
                    "records are missing"
                }
            )));
        }
        match &link {
            Some(expected) if entry.after.as_ref() != Some(expected) => {
                return Err(damaged(format!(
                    "record {n} does not continue the snapshot beside it \
                     (a snapshot or journal from another moment?)"
                )));
            }
            Some(_) => link = Some(link_of(token)),
            // A version-1 snapshot is followed by version-1 records only: a
            // chained one means the header was changed to say version 1.
            None if entry.after.is_some() => {
                return Err(damaged(format!(
                    "record {n} belongs to a version-2 store, but the snapshot says version 1"
                )));
            }
            None => {}
        }
        seq = entry.seq;
        match entry.op {
            Op::AuditHead { head } => audit_head = Some(head),
            op => apply(op).map_err(|why| damaged(format!("record {n}: {why}")))?,
        }
        good_len += line.len();
    }
    let torn = good_len < data.len();
    // A reader that must not write (verify, backup) leaves the tail as it is.
    if torn && cut_torn {
        tracing::warn!(
            bytes = data.len() - good_len,
            "dropping a torn record at the end of the journal"
        );
        let f = super::files::open_existing(path, OpenOptions::new().write(true))
            .map_err(io_err("truncating the journal"))?;
        f.set_len(good_len as u64)
            .and_then(|()| f.sync_all())
            .map_err(io_err("truncating the journal"))?;
    }
    Ok(Replayed {
        seq,
        link,
        records: lines.len() - usize::from(torn),
        torn,
        audit_head,
    })
}
