//! Compactions in `users_snapshot`: every user and live session as of a log
//! number, as one Fernet token that holds that number too. A starting
//! instance reads the newest one and only the log after it. Writing one
//! drops the older snapshots, and the log up to the snapshot before it: the
//! log keeps one snapshot's worth of batches, so that a running instance a
//! little behind can still follow it.

use super::errors::{damaged, db};
use crate::auth::sessions::SessionOp;
use crate::model::record::UserRecord;
use crate::model::{User, UserId};
use crate::storage::backend::{State, StorageError};
use fernet::Fernet;
use postgres::Client;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const TABLE: &str = "users_snapshot";

#[derive(Serialize, Deserialize)]
struct Snapshot {
    seq: i64,
    users: Vec<UserRecord>,
    #[serde(default)]
    sessions: Vec<SessionOp>,
}

/// What a snapshot held.
#[derive(Default)]
pub struct Loaded {
    pub users: HashMap<UserId, User>,
    pub sessions: Vec<SessionOp>,
}

/// The users and sessions of the newest snapshot and the log number it
/// holds; none and 0 without one.
pub fn latest(client: &mut Client, cipher: &Fernet) -> Result<(Loaded, i64), StorageError> {
    let Some(row) = client
        .query_opt(
            "SELECT seq, token FROM users_snapshot ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .map_err(db("reading the snapshot"))?
    else {
        return Ok((Loaded::default(), 0));
    };
    let (seq, token): (i64, String) = (row.get(0), row.get(1));
    let plain = cipher
        .decrypt(&token)
        .map_err(|_| damaged(TABLE, seq, "it does not decrypt under the store's key"))?;
    let snap: Snapshot = serde_json::from_slice(&plain).map_err(|e| damaged(TABLE, seq, e))?;
    if snap.seq != seq {
        return Err(damaged(
            TABLE,
            seq,
            format!("it holds the snapshot of {}", snap.seq),
        ));
    }
    let mut users = HashMap::with_capacity(snap.users.len());
    for record in snap.users {
        let user = User::try_from(record).map_err(|e| damaged(TABLE, seq, e))?;
        users.insert(user.id, user);
    }
    let sessions = snap.sessions;
    Ok((Loaded { users, sessions }, seq))
}

/// Writes `state` as the snapshot of log number `seq`, and drops what it
/// makes redundant. Two instances writing the same number write the same
/// state: the second is skipped.
pub fn write(
    client: &mut Client,
    cipher: &Fernet,
    seq: i64,
    state: &State,
) -> Result<(), StorageError> {
    let snap = Snapshot {
        seq,
        users: state.users.iter().map(|u| UserRecord::from(&**u)).collect(),
        sessions: state.sessions.clone(),
    };
    let json = serde_json::to_vec(&snap).map_err(|e| damaged(TABLE, seq, e))?;
    let token = cipher.encrypt(&json);
    let mut tx = client.transaction().map_err(db("writing a snapshot"))?;
    tx.execute(
        "INSERT INTO users_snapshot (seq, token) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&seq, &token],
    )
    .map_err(db("writing a snapshot"))?;
    let before: i64 = tx
        .query_one(
            "SELECT coalesce(max(seq), 0) FROM users_snapshot WHERE seq < $1",
            &[&seq],
        )
        .map_err(db("reading the snapshots"))?
        .get(0);
    tx.execute("DELETE FROM users_snapshot WHERE seq < $1", &[&seq])
        .map_err(db("dropping older snapshots"))?;
    tx.execute("DELETE FROM users_log WHERE seq <= $1", &[&before])
        .map_err(db("dropping the log the snapshots hold"))?;
    tx.commit().map_err(db("writing a snapshot"))
}

/// Inserts, in the open transaction `tx`, the snapshot of log number `seq`
/// holding `users` and no sessions: a restore's whole state.
pub fn insert_restored(
    tx: &mut impl postgres::GenericClient,
    cipher: &Fernet,
    seq: i64,
    users: &[std::sync::Arc<User>],
) -> Result<(), StorageError> {
    let snap = Snapshot {
        seq,
        users: users.iter().map(|u| UserRecord::from(&**u)).collect(),
        sessions: Vec::new(),
    };
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(&snap).map_err(|e| damaged(TABLE, seq, e))?);
    tx.execute(
        "INSERT INTO users_snapshot (seq, token) VALUES ($1, $2)",
        &[&seq, &cipher.encrypt(&json)],
    )
    .map_err(db("writing the restored snapshot"))?;
    Ok(())
}
