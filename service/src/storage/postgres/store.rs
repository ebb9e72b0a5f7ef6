//! [`PgStore`]: the [`Backend`] over PostgreSQL, for one instance per
//! database so far. It holds a session advisory lock while it runs, the way
//! the file store holds its file lock, so that a second instance is refused
//! rather than writing beside one it does not follow.
//!
//! A batch is one `INSERT` into the log, committed before the writer answers
//! anyone. When the connection fails, the batch is reported failed; before
//! the next one, the store reconnects and reads the log's head: if the lost
//! batch did land after all, memory and database differ, and the store stops
//! the service ([`StorageError::Fatal`]) so that a restart loads the truth.

use super::errors::db;
use super::{header, log, schema, snapshot};
use crate::model::{User, UserId};
use crate::storage::backend::{Backend, Change, StorageError};
use crate::storage::file::journal::Op;
use fernet::Fernet;
use postgres::{Client, NoTls};
use std::collections::HashMap;
use std::sync::Arc;

/// The session advisory lock one instance holds ("users-in" in ASCII).
const INSTANCE: i64 = 0x7573_6572_732d_696e;

/// The PostgreSQL store, open.
pub struct PgStore {
    url: String,
    client: Client,
    cipher: Fernet,
    /// The last batch this instance knows committed.
    seq: i64,
    /// Batches since the last snapshot.
    since_snapshot: usize,
    compact_after: usize,
    /// A batch failed with the connection: check the head before the next.
    unsure: bool,
}

/// A store just opened, and its users.
pub struct Opened {
    pub store: PgStore,
    pub users: Vec<User>,
}

fn connect(url: &str) -> Result<Client, StorageError> {
    let mut client = Client::connect(url, NoTls).map_err(db("connecting"))?;
    let held: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&INSTANCE])
        .map_err(db("taking the instance lock"))?
        .get(0);
    if !held {
        return Err(StorageError::Database(
            "another users-service is using this database (one instance per database for now)"
                .into(),
        ));
    }
    Ok(client)
}

impl PgStore {
    /// Connects to `url`, migrates the schema, opens the key with `master`
    /// (making the header with `kdf_iterations` on an empty database), and
    /// loads every user. A snapshot is written every `compact_after` batches.
    pub fn open(
        url: &str,
        master: &str,
        kdf_iterations: u32,
        compact_after: usize,
    ) -> Result<Opened, StorageError> {
        let mut client = connect(url)?;
        schema::migrate(&mut client)?;
        let cipher = header::open_key(&mut client, master, kdf_iterations, &mut rand::rng())?;
        let (mut users, from) = snapshot::latest(&mut client, &cipher)?;
        let seq = log::read_after(&mut client, &cipher, from, |_, ops| apply(&mut users, ops))?;
        Ok(Opened {
            store: PgStore {
                url: url.to_owned(),
                client,
                cipher,
                seq,
                since_snapshot: usize::try_from(seq - from).unwrap_or(0),
                compact_after: compact_after.max(1),
                unsure: false,
            },
            users: users.into_values().collect(),
        })
    }

    /// After a failed batch: a new connection, and the head as this store
    /// left it, or the service must stop.
    fn settle(&mut self) -> Result<(), StorageError> {
        if !self.unsure && !self.client.is_closed() {
            return Ok(());
        }
        self.client = connect(&self.url)?;
        let head = log::head(&mut self.client)?;
        if head != self.seq {
            return Err(StorageError::Fatal(format!(
                "the database holds batch {head}, this instance knew {}: restarting loads it",
                self.seq
            )));
        }
        self.unsure = false;
        Ok(())
    }
}

/// Applies one batch's changes to `users`.
fn apply(users: &mut HashMap<UserId, User>, ops: Vec<Op>) -> Result<(), String> {
    for op in ops {
        match op {
            Op::Put { user } => {
                let u = User::try_from(*user).map_err(|e| e.to_string())?;
                users.insert(u.id, u);
            }
            Op::Delete { id: Some(id), .. } => {
                users.remove(&id);
            }
            Op::Delete { id: None, .. } => return Err("a deletion without an id".into()),
        }
    }
    Ok(())
}

impl Backend for PgStore {
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.settle()?;
        let next = self.seq + 1;
        if let Err(e) = log::append(&mut self.client, &self.cipher, next, changes) {
            // Whether it landed is not known until the next batch settles it.
            self.unsure = true;
            return Err(e);
        }
        self.seq = next;
        self.since_snapshot += 1;
        Ok(())
    }

    fn maintain(&mut self, users: &mut dyn FnMut() -> Vec<Arc<User>>) -> Result<(), StorageError> {
        if self.since_snapshot < self.compact_after || self.unsure {
            return Ok(());
        }
        snapshot::write(&mut self.client, &self.cipher, self.seq, &users())?;
        self.since_snapshot = 0;
        Ok(())
    }

    fn close(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
