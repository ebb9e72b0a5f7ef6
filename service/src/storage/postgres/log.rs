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
            })
            .collect()
    }
}

/// The number of the last batch committed (0 when none), whether its row is
/// still in the log or a snapshot has taken it in.
pub fn head(client: &mut impl GenericClient) -> Result<i64, StorageError> {
    let row = client
        .query_one(
            "SELECT greatest((SELECT coalesce(max(seq), 0) FROM users_log),
                             (SELECT coalesce(max(seq), 0) FROM users_snapshot))",
            &[],
        )
        .map_err(db("reading the log's head"))?;
    Ok(row.get(0))
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
            // The last row comes too, so that a log that ends before `after`
            // (a database restored, or failed over to a copy that lacks
            // batches) is seen.
            read_after: prepare(
                "SELECT seq, token FROM users_log
                 WHERE seq > $1 OR seq = (SELECT max(seq) FROM users_log) ORDER BY seq",
            )?,
        })
    }

    /// Appends `batch`. Two instances appending the same number cannot both
    /// succeed: the number is the table's primary key.
    pub fn append(
        &self,
        client: &mut impl GenericClient,
        cipher: &Fernet,
        batch: &Batch,
    ) -> Result<(), StorageError> {
        let seq = batch.seq;
        let json = serde_json::to_vec(batch).map_err(|e| damaged(TABLE, seq, e))?;
        let token = cipher.encrypt(&json);
        client
            .execute(&self.append, &[&seq, &token])
            .map_err(db("appending to the log"))?;
        Ok(())
    }

    /// Passes each batch after `after`, in order, to `apply`; returns the
    /// number of the last one (or `after`). `apply` refuses a batch it cannot
    /// use, with the reason. A log that no longer holds the batch after
    /// `after` (a snapshot has taken it in) is reported: this instance fell
    /// too far behind; one that ends before `after` is too (the database
    /// lost batches this instance has applied).
    pub fn read_after(
        &self,
        client: &mut impl GenericClient,
        cipher: &Fernet,
        after: i64,
        mut apply: impl FnMut(i64, Batch) -> Result<(), String>,
    ) -> Result<i64, StorageError> {
        let rows = client
            .query(&self.read_after, &[&after])
            .map_err(db("reading the log"))?;
        let behind = |head: i64| {
            StorageError::Fatal(format!(
                "the database's log ends at batch {head}, and this instance has applied batch \
                 {after}: it was restored or failed over to a copy that lacks batches; \
                 stopping rather than go on from a past the others do not share"
            ))
        };
        if rows.is_empty() && after > 0 {
            return Err(behind(0));
        }
        let mut last = after;
        for row in rows {
            let (seq, token): (i64, String) = (row.get(0), row.get(1));
            match seq.cmp(&after) {
                std::cmp::Ordering::Less => return Err(behind(seq)),
                std::cmp::Ordering::Equal => continue,
                std::cmp::Ordering::Greater => {}
            }
            if seq != last + 1 && last == after {
                return Err(StorageError::Fatal(format!(
                    "this instance has batch {after}, and the log now starts at batch {seq}: \
                     it fell behind by more than a snapshot; restarting loads the snapshot"
                )));
            }
            if seq != last + 1 {
                return Err(damaged(
                    TABLE,
                    seq,
                    format!("batch {} is missing", last + 1),
                ));
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
            last = seq;
        }
        Ok(last)
    }
}
