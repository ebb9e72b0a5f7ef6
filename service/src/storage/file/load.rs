//! Turning the files into users: a version-1 store by username (and given ids),
//! a version-2 store by id, its journal checked against the snapshot's seal.

use super::journal::{self, Replayed};
use super::seal::Link;
use crate::model::record::UserRecord;
use crate::model::{User, UserId};
use crate::storage::backend::StorageError;
use fernet::Fernet;
use std::collections::HashMap;
use std::path::Path;

/// A record that cannot become a user is damage in the file it came from.
fn to_user(file: &Path, r: UserRecord) -> Result<User, StorageError> {
    User::try_from(r).map_err(|e| StorageError::Damaged {
        path: file.to_owned(),
        reason: e.to_string(),
    })
}

/// Version 1: records keyed by username, journal deletes by username. Ids are
/// given once everything is replayed.
pub(super) fn load_v1(
    snapshot_path: &Path,
    cipher: &Fernet,
    journal_seq: u64,
    records: Vec<UserRecord>,
    cut_torn: bool,
) -> Result<(Vec<User>, Replayed), StorageError> {
    // Version-1 records have no ids; a snapshot whose records do was written
    // as version 2, and its header was changed to skip the seal.
    if let Some(r) = records.iter().find(|r| r.id.is_some()) {
        return Err(StorageError::Damaged {
            path: snapshot_path.to_owned(),
            reason: format!(
                "it says version 1 but holds version-2 records ('{}' has an id)",
                r.username
            ),
        });
    }
    let mut by_name: HashMap<String, UserRecord> = records
        .into_iter()
        .map(|r| (r.username.clone(), r))
        .collect();
    let journal_path = journal::path_for(snapshot_path);
    let replayed = journal::replay(&journal_path, cipher, (journal_seq, None), cut_torn, |op| {
        match op {
            journal::Op::Put { user } => {
                by_name.insert(user.username.clone(), *user);
            }
            journal::Op::Delete {
                username: Some(name),
                ..
            } => {
                by_name.remove(&name);
            }
            journal::Op::Delete { username: None, .. } => {
                return Err("a version-1 deletion without a username".into())
            }
            // Taken by replay; a version-1 journal has none.
            journal::Op::AuditHead { .. } => {}
        }
        Ok(())
    })?;
    let mut rng = rand::rng();
    let users = by_name
        .into_values()
        .map(|r| to_user(snapshot_path, r.upgrade(|| UserId::random(&mut rng))))
        .collect::<Result<_, _>>()?;
    Ok((users, replayed))
}

/// Version 2: records and journal by stable id. The journal is short next to
/// the snapshot, so its records are gathered by id first and laid over the
/// snapshot's users in one pass, rather than indexing every user.
pub(super) fn load_v2(
    snapshot_path: &Path,
    cipher: &Fernet,
    (journal_seq, link): (u64, Link),
    snapshot_users: Vec<User>,
    cut_torn: bool,
) -> Result<(Vec<User>, Replayed), StorageError> {
    // Some(user) puts, None deletes; the last record for an id wins.
    let mut newer: HashMap<UserId, Option<User>> = HashMap::new();
    let journal_path = journal::path_for(snapshot_path);
    let replayed = journal::replay(
        &journal_path,
        cipher,
        (journal_seq, Some(link)),
        cut_torn,
        |op| {
            match op {
                journal::Op::Put { user } => {
                    let u = User::try_from(*user).map_err(|e| e.to_string())?;
                    newer.insert(u.id, Some(u));
                }
                journal::Op::Delete { id: Some(id), .. } => {
                    newer.insert(id, None);
                }
                journal::Op::Delete { id: None, .. } => {
                    return Err("a deletion without an id".into())
                }
                // Taken by replay, never passed on.
                journal::Op::AuditHead { .. } => {}
            }
            Ok(())
        },
    )?;
    if newer.is_empty() {
        return Ok((snapshot_users, replayed));
    }
    let mut users = Vec::with_capacity(snapshot_users.len() + newer.len());
    for u in snapshot_users {
        match newer.remove(&u.id) {
            None => users.push(u),
            Some(Some(changed)) => users.push(changed),
            Some(None) => {}
        }
    }
    users.extend(newer.into_values().flatten());
    Ok((users, replayed))
}
