//! The log of committed batches in `users_log`: one row per batch, numbered
//! from 1 without gaps, its changes in one Fernet token. The token holds the
//! batch's number too, so a row moved, copied or replayed under another
//! number is refused, as is a gap. The changes are the file journal's
//! records ([`Op`]), so both stores say a change the same way; the session
//! changes ride along, so that every instance knows every session.

use super::errors::{damaged, db};
use crate::auth::sessions::SessionOp;
use crate::model::User;
use crate::storage::backend::{Change, StorageError};
use crate::storage::file::journal::Op;
use fernet::Fernet;
use postgres::{GenericClient, Statement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const TABLE: &str = "users_log";

/// One committed batch, as its token holds it.
#[derive(Serialize, Deserialize)]
pub struct Batch {
    seq: i64,
    ops: Vec<Op>,
    /// The batch's session changes, in order.
    #[serde(default)]
    pub sessions: Vec<SessionOp>,
}

impl Batch {
    /// Batch number `seq` of `changes` and `sessions`.
    pub fn new(seq: i64, changes: &[Change], sessions: &[SessionOp]) -> Self {
        Batch {
            seq,
            ops: changes.iter().map(Op::from).collect(),
            sessions: sessions.to_vec(),
        }
    }

    /// The batch's changes to the users, in order; the reason if one is not
    /// what this service writes.
    pub fn changes(&self) -> Result<Vec<Change>, String> {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Put { user } => User::try_from((**user).clone())
                    .map(|u| Change::Put(Arc::new(u)))
                    .map_err(|e| e.to_string()),
                Op::Delete { id: Some(id), .. } => Ok(Change::Delete(*id)),
                Op::Delete { id: None, .. } => Err("a deletion without an id".into()),
                Op::AuditHead { .. } => {
                    Err("an audit head, which only a file's journal holds".into())
                }
            })
            .collect()
    }
}

/// The log's statements, prepared once per connection: a batch costs no
/// round trip to parse them again.
pub struct Log {
    append: Statement,
    read_after: Statement,
}

impl Log {
    /// Prepares the statements on `client`.
    pub fn prepare(client: &mut impl GenericClient) -> Result<Log, StorageError> {
        let mut prepare = |sql| {
            client
                .prepare(sql)
                .map_err(db("preparing the log's statements"))
        };
        Ok(Log {
            append: prepare("INSERT INTO users_log (seq, token) VALUES ($1, $2)")?,
            // The row at $1, as a digest (it may be large, and only its
            // identity matters), and the last row come too, so that a log
            // that is not the one this instance followed is seen (read_after).
            read_after: prepare(
                "SELECT seq,
                        CASE WHEN seq > $1 THEN token END,
                        CASE WHEN seq = $1 THEN sha256(convert_to(token, 'UTF8')) END
                 FROM users_log
                 WHERE seq >= $1 OR seq = (SELECT max(seq) FROM users_log) ORDER BY seq",
            )?,
        })
    }

    /// Appends `batch`; returns where the log then ends. Two instances
    /// appending the same number cannot both succeed: the number is the
    /// table's primary key.
    pub fn append(
        &self,
        client: &mut impl GenericClient,
        cipher: &Fernet,
        batch: &Batch,
    ) -> Result<Position, StorageError> {
        let seq = batch.seq;
        let json = serde_json::to_vec(batch).map_err(|e| damaged(TABLE, seq, e))?;
        let token = cipher.encrypt(&json);
        client
            .execute(&self.append, &[&seq, &token])
            .map_err(db("appending to the log"))?;
        Ok(Position::at(seq, &token))
    }

    /// Passes each batch after `at`, in order, to `apply`; returns the
    /// position after the last one. `apply` refuses a batch it cannot use,
    /// with the reason.
    ///
    /// The log must go on from `at`: one that no longer holds the batch after
    /// it (a snapshot took it in: this instance fell too far behind), one that
    /// ends before it, or one whose row at `at` is another batch than the one
    /// this instance applied (the database was restored, or failed over to a
    /// copy that lacked batches) is a [`StorageError::Fatal`].
    pub fn read_after(
        &self,
        client: &mut impl GenericClient,
        cipher: &Fernet,
        at: Position,
        mut apply: impl FnMut(i64, Batch) -> Result<(), String>,
    ) -> Result<Position, StorageError> {
        let after = at.seq;
        let rows = client
            .query(&self.read_after, &[&after])
            .map_err(db("reading the log"))?;
        let diverged = |what: String| {
            StorageError::Fatal(format!(
                "{what}, and this instance has applied batch {after}: the database was restored \
                 or failed over to a copy that lacks batches; stopping rather than go on from a \
                 past the others do not share"
            ))
        };
        if rows.is_empty() && after > 0 {
            return Err(diverged("the database's log is empty".into()));
        }
        let mut pos = at;
        for row in rows {
            let seq: i64 = row.get(0);
            if seq < after {
                return Err(diverged(format!("the database's log ends at batch {seq}")));
            }
            if seq == after {
                let digest: Option<Vec<u8>> = row.get(2);
                if at.digest.is_some_and(|d| digest.as_deref() != Some(&d[..])) {
                    return Err(diverged(format!(
                        "the database's batch {seq} is another one"
                    )));
                }
                continue;
            }
            if seq != pos.seq + 1 && pos.seq == after {
                return Err(StorageError::Fatal(format!(
                    "this instance has batch {after}, and the log now starts at batch {seq}: \
                     it fell behind by more than a snapshot; restarting loads the snapshot"
                )));
            }
            let token: String = row.get(1);
            if seq != pos.seq + 1 {
                let missing = format!("batch {} is missing", pos.seq + 1);
                return Err(damaged(TABLE, seq, missing));
            }
            let plain = cipher
                .decrypt(&token)
                .map_err(|_| damaged(TABLE, seq, "it does not decrypt under the store's key"))?;
            let batch: Batch =
                serde_json::from_slice(&plain).map_err(|e| damaged(TABLE, seq, e))?;
            if batch.seq != seq {
                return Err(damaged(TABLE, seq, format!("it holds batch {}", batch.seq)));
            }
            apply(seq, batch).map_err(|reason| damaged(TABLE, seq, reason))?;
            pos = Position::at(seq, &token);
        }
        Ok(pos)
    }
}

/// Where an instance is in the log: the last batch it applied, and a digest
/// of that batch's row when it read or wrote the row itself (not when the
/// batch came in a snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub seq: i64,
    pub digest: Option<[u8; 32]>,
}

impl Position {
    /// Batch `seq`, known only by its number.
    pub fn seq(seq: i64) -> Self {
        Position { seq, digest: None }
    }

    /// Batch `seq`, whose row holds `token`.
    fn at(seq: i64, token: &str) -> Self {
        Position {
            seq,
            digest: Some(Sha256::digest(token.as_bytes()).into()),
        }
    }
}
