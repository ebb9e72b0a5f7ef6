//! `rotate-key` on a file store: every file re-encrypted under a new master
//! password with a fresh salt, such that a crash at any point leaves a store
//! that one of the two passwords opens, whole.
//!
//! Three files use the key (the snapshot, the journal, the audit log), and
//! a key file may hold the password; no rename replaces several files at
//! once. So the new files are staged beside the old, and one rename is the
//! commit:
//! 0. `STORE.rotation`, the marker, holding the new key's salt.
//! 1. `STORE.rotating`: every user, under the new key, in a chain of its
//!    own; `STORE.audit.rotating`; for a key-file store, `STORE.key.rotating`
//!    (the old key file is first copied to `STORE.key.before-rotate-<time>`,
//!    since backups made before need it). Each is written by temp file,
//!    fsync, rename.
//! 2. Commit: `STORE.rotating` is renamed over `STORE`.
//! 3. Finish: the journal is emptied (the new snapshot holds all of it),
//!    the staged audit log and key file are renamed into place, and the
//!    marker is removed.
//!
//! [`recover`] decides by the marker and by `STORE` itself, never by which
//! staged files happen to exist: with a marker, `STORE`'s salt equal to the
//! marker's means committed (finish again), anything else means not (remove
//! the staged files, then the marker). Without a marker no rotation is under
//! way, and staged files are leftovers, removed; the journal is untouched.
//! Both ways are idempotent. Every command that takes the store's lock runs
//! it first.

use super::files::{self, with_suffix};
use super::inspect::{inspect_locked, Inspected};
use super::journal;
use super::seal;
use super::snapshot;
use super::staged::{key_path, marker, pending, staged_others, staged_snapshot};
use super::{audit, audit_read};
use crate::audit::record::id_floor;
use crate::audit::{AuditRecord, Event, Head};
use crate::clock::unix_secs;
use crate::storage::backend::{io_err, StorageError};
use crate::storage::crypto::KdfParams;
use fernet::Fernet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What [`recover`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovered {
    /// No rotation was under way.
    Nothing,
    /// A rotation had not committed: the old password opens the store.
    RolledBack,
    /// A rotation had committed: the new password opens the store.
    Finished,
}

/// Rolls an interrupted rotation back or finishes it; see the module
/// documentation. The caller holds the store's lock.
pub fn recover(store: &Path) -> Result<Recovered, StorageError> {
    let staged = [staged_snapshot(store), marker(store)]
        .into_iter()
        .chain(staged_others(store).map(|(s, _)| s));
    for tmp in staged.map(|s| with_suffix(&s, ".tmp")) {
        remove_if_there(&tmp)?;
    }
    if !pending(store) || !store.exists() {
        return Ok(Recovered::Nothing);
    }
    let salt = match files::read_to_string(&marker(store)) {
        Ok(salt) => Some(salt),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(format!("reading {}", marker(store).display()))(e)),
    };
    let committed = match &salt {
        Some(salt) => snapshot::kdf_of(store)?.salt == *salt,
        None => false,
    };
    if committed {
        finish(store)?;
        tracing::warn!(
            "an interrupted key rotation was finished: the new master password opens the store"
        );
        return Ok(Recovered::Finished);
    }
    for (staged, _) in staged_others(store) {
        remove_if_there(&staged)?;
    }
    remove_if_there(&staged_snapshot(store))?;
    files::sync_dir(store)?;
    remove_if_there(&marker(store))?;
    files::sync_dir(store)?;
    match salt {
        Some(_) => {
            tracing::warn!(
                "an interrupted key rotation was undone: the old master password opens the store"
            );
            Ok(Recovered::RolledBack)
        }
        None => {
            tracing::warn!("removed the files of no key rotation under way beside the store");
            Ok(Recovered::Nothing)
        }
    }
}

/// Step 3: after the commit, idempotent.
fn finish(store: &Path) -> Result<(), StorageError> {
    files::write_atomic(&journal::path_for(store), b"")?;
    for (staged, target) in staged_others(store) {
        if staged.exists() {
            std::fs::rename(&staged, &target)
                .map_err(io_err(format!("replacing {}", target.display())))?;
        }
    }
    remove_if_there(&staged_snapshot(store))?;
    files::sync_dir(store)?;
    remove_if_there(&marker(store))?;
    files::sync_dir(store)
}

fn remove_if_there(path: &Path) -> Result<(), StorageError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format!("removing {}", path.display()))(e)),
    }
}

/// Takes the store's lock to run [`recover`], before a command reads the
/// master password (a finished rotation may put a new key file in place).
/// A store in use was recovered by the process using it.
pub fn recover_if_idle(store: &Path) -> Result<Recovered, StorageError> {
    match files::lock(store) {
        Ok(_lock) => recover(store),
        Err(StorageError::InUse(_)) => Ok(Recovered::Nothing),
        Err(e) => Err(e),
    }
}

/// How many times [`rotate`] calls its `step`.
pub const STAGES: u64 = 4;

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    /// Users re-encrypted.
    pub users: usize,
    /// Audit lines (batches of events) re-encrypted.
    pub audit_lines: usize,
    /// Where the old key file was kept: backups made before need it.
    pub old_key_kept: Option<std::path::PathBuf>,
}

/// Re-encrypts the store at `store` from `old` to `new`, with a fresh salt
/// and `kdf_iterations`. With `key_file`, the new password is also
/// written to the store's key file, in the same commit. Refused while the
/// store is in use. `step` is told each stage as it starts.
pub fn rotate(
    store: &Path,
    old: &str,
    new: &str,
    key_file: bool,
    kdf_iterations: u32,
    step: &mut dyn FnMut(&str),
) -> Result<Rotated, StorageError> {
    let _lock = files::lock(store)?;
    recover(store)?;
    // Read (and the old password checked) before the marker is written: a
    // refusal leaves nothing behind.
    step("reading the store under the old key");
    let current = inspect_locked(store, old)?;
    let kdf = KdfParams::generate(kdf_iterations, &mut rand::rng());
    files::write_atomic(&marker(store), kdf.salt.as_bytes())?;
    let staged = stage(store, current, new, key_file, &kdf, step).and_then(|rotated| {
        step("switching to the new key");
        commit(store).map(|()| rotated)
    });
    // A failure (a full disk, say) is settled now, not at the next start:
    // undone if the commit did not happen, finished if it did.
    let rotated = match staged {
        Ok(rotated) => rotated,
        Err(e) => {
            return Err(match recover(store) {
                Ok(Recovered::Finished) => committed_but(e),
                Ok(_) => e,
                Err(undo) => StorageError::Io {
                    context: format!("{e}; settling the rotation failed too ({undo})"),
                    error: std::io::Error::other("the next start finishes or undoes it"),
                },
            })
        }
    };
    finish(store).map_err(committed_but)?;
    Ok(rotated)
}

/// An error after the commit: the operator must know the new password is
/// the one now.
fn committed_but(e: StorageError) -> StorageError {
    StorageError::Io {
        context: "the new master password opens the store now, but finishing the rotation \
                  failed (the next start finishes it)"
            .into(),
        error: std::io::Error::other(e.to_string()),
    }
}

/// Step 2: the one rename after which the new key opens the store.
fn commit(store: &Path) -> Result<(), StorageError> {
    std::fs::rename(staged_snapshot(store), store)
        .map_err(io_err(format!("replacing {}", store.display())))?;
    files::sync_dir(store)
}

/// Step 1; the caller holds the lock.
fn stage(
    store: &Path,
    current: Inspected,
    new: &str,
    key_file: bool,
    kdf: &KdfParams,
    step: &mut dyn FnMut(&str),
) -> Result<Rotated, StorageError> {
    let old_cipher = Arc::new(current.cipher.clone());
    let cipher = kdf.cipher(new).map_err(|reason| StorageError::Damaged {
        path: store.to_owned(),
        reason,
    })?;
    // The audit log first, so that the new snapshot seals its newest event;
    // checked against the head the store sealed before it is sealed anew
    // (a batch a crash left is dropped, a cut is recorded).
    step("re-encrypting the audit log");
    drop(audit::AuditFile::open(
        store,
        Arc::clone(&old_cipher),
        Duration::MAX,
        SystemTime::now(),
        current.audit_head.clone(),
    )?);
    let [(staged_audit, audit_path), (staged_key, _)] = staged_others(store);
    let now = SystemTime::now();
    let event = Event::key_rotated(kdf.iterations).record(unix_secs(now), |_| None);
    let (audit_lines, head) =
        reencrypt_lines(&audit_path, &staged_audit, &old_cipher, &cipher, event)?;
    step("writing the users under the new key");
    let users: Vec<_> = current.users.into_iter().map(Arc::new).collect();
    let link = seal::new_link(&mut rand::rng());
    let at = (current.seq, &link, Some(&head));
    let text = snapshot::encode(kdf, &cipher, at, &users, false)?;
    files::write_atomic(&staged_snapshot(store), text.as_bytes())?;
    drop(text);
    let mut old_key_kept = None;
    if key_file {
        let base = with_suffix(
            &key_path(store),
            &format!(".before-rotate-{}", unix_secs(now)),
        );
        let kept = files::unused_name(&base)?;
        let old_key = zeroize::Zeroizing::new(
            files::read(&key_path(store))
                .map_err(io_err(format!("reading {}", key_path(store).display())))?,
        );
        files::write_new(&kept, &old_key, files::Owner::Store)?;
        old_key_kept = Some(kept);
        files::write_atomic(&staged_key, new.as_bytes())?;
    }
    Ok(Rotated {
        users: users.len(),
        audit_lines,
        old_key_kept,
    })
}

/// Writes `to` with each line of `from` decrypted by `old` and encrypted by
/// `new` (a missing `from` is an empty log), then a line of `event`,
/// numbered after the last and linked to it. Returns the lines re-encrypted
/// and the log's new head.
fn reencrypt_lines(
    from: &Path,
    to: &Path,
    old: &Fernet,
    new: &Fernet,
    mut event: AuditRecord,
) -> Result<(usize, Head), StorageError> {
    let damaged = || StorageError::Damaged {
        path: from.to_owned(),
        reason: "a line is not sealed with the store's key".into(),
    };
    let source = match files::open_read(from) {
        Ok(f) => Some(BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(format!("reading {}", from.display()))(e)),
    };
    let mut source = source;
    let mut count = 0;
    let mut failure = None;
    let mut last_id = 0;
    let mut head = None;
    files::write_atomic_with(to, |out| {
        let mut line = Vec::new();
        while let Some(source) = source.as_mut() {
            line.clear();
            source.read_until(b'\n', &mut line)?;
            // The writer ends every line: one without its end was cut short
            // by a crash, and start-up drops it; so does this.
            let Some(token) = line.strip_suffix(b"\n") else {
                break;
            };
            let records = std::str::from_utf8(token)
                .ok()
                .and_then(|t| audit_read::decrypt(old, t));
            let Some(records) = records else {
                failure = Some(damaged());
                return Err(std::io::Error::other("damaged"));
            };
            last_id = records.iter().map(|r| r.id).fold(last_id, u64::max);
            head = records.last().map(AuditRecord::head).or(head.take());
            let token = audit_read::encrypt(new, &records).map_err(std::io::Error::other)?;
            writeln!(out, "{token}")?;
            count += 1;
        }
        event.id = (last_id + 1).max(id_floor(SystemTime::now()));
        let mut events = [event.clone()];
        crate::audit::chain::link(&mut events, &mut head);
        let token = audit_read::encrypt(new, &events).map_err(std::io::Error::other)?;
        writeln!(out, "{token}")
    })
    .map_err(|e| failure.take().unwrap_or(e))?;
    Ok((count, head.unwrap_or_else(|| event.head())))
}

#[cfg(test)]
#[path = "rotate_tests.rs"]
mod tests;
