//! Compactions in `users_snapshot`: every user as of a log number, as one
//! Fernet token that holds that number too. A starting instance reads the
//! newest one and only the log after it; writing one drops the older
//! snapshots and the log rows it covers, in one transaction.

use super::errors::{damaged, db};
use crate::model::record::UserRecord;
use crate::model::{User, UserId};
use crate::storage::backend::StorageError;
use fernet::Fernet;
use postgres::Client;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

const TABLE: &str = "users_snapshot";

#[derive(Serialize, Deserialize)]
struct Snapshot {
    seq: i64,
    users: Vec<UserRecord>,
}

/// The users of the newest snapshot and the log number it holds; none and 0
/// without one.
pub fn latest(
    client: &mut Client,
    cipher: &Fernet,
) -> Result<(HashMap<UserId, User>, i64), StorageError> {
    let Some(row) = client
        .query_opt(
            "SELECT seq, token FROM users_snapshot ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .map_err(db("reading the snapshot"))?
    else {
        return Ok((HashMap::new(), 0));
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
    Ok((users, seq))
}

/// Writes `users` as the snapshot of log number `seq`, and drops what it
/// makes redundant.
pub fn write(
    client: &mut Client,
    cipher: &Fernet,
    seq: i64,
    users: &[Arc<User>],
) -> Result<(), StorageError> {
    let snap = Snapshot {
        seq,
        users: users.iter().map(|u| UserRecord::from(&**u)).collect(),
    };
    let json = serde_json::to_vec(&snap).map_err(|e| damaged(TABLE, seq, e))?;
    let token = cipher.encrypt(&json);
    let mut tx = client.transaction().map_err(db("writing a snapshot"))?;
    tx.execute(
        "INSERT INTO users_snapshot (seq, token) VALUES ($1, $2)",
        &[&seq, &token],
    )
    .map_err(db("writing a snapshot"))?;
    tx.execute("DELETE FROM users_snapshot WHERE seq < $1", &[&seq])
        .map_err(db("dropping older snapshots"))?;
    tx.execute("DELETE FROM users_log WHERE seq <= $1", &[&seq])
        .map_err(db("dropping the log the snapshot holds"))?;
    tx.commit().map_err(db("writing a snapshot"))
}
