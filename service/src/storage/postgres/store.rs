//! [`PgStore`]: the [`Backend`] over PostgreSQL, shared by any number of
//! instances.
//!
//! Every batch runs in one transaction under a cluster-wide advisory lock:
//! [`Backend::begin`] takes the lock and reads the log rows the other
//! instances appended since this one last looked, which the writer applies
//! before it checks the batch's writes against the table (a username taken
//! a moment ago on another instance is then seen as taken); the commit
//! appends one row, notifies the others (`NOTIFY users_log`) and releases the
//! lock. Between batches, [`Backend::follow`] reads new rows without the lock.
//!
//! When the connection fails, the batch is reported failed and the
//! connection dropped; the next batch connects again. If the failed batch
//! did land after all, the next catch-up reads it like another instance's
//! and memory agrees with the database again.

use super::audit::{self, PgAuditReader};
use super::connect::connect;
use super::errors::db;
use super::log::{Batch, Log, Position};
use super::{header, schema, snapshot};
use crate::audit::{AuditReader, AuditRecord};
use crate::auth::sessions::SessionOp;
use crate::model::User;
use crate::storage::backend::{io_err, Backend, Caught, Change, State, StorageError};
use crate::storage::crypto::FingerprintKey;
use crate::storage::table::UserTable;
use fernet::Fernet;
use postgres::Client;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often old audit events are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The advisory lock a batch holds from its catch-up to its commit
/// ("users-wr" in ASCII).
pub(crate) const WRITE_LOCK: i64 = 0x7573_6572_732d_7772;

/// Set on the writer's connection. An instance that stops (frozen, or its
/// machine gone) in the middle of a batch would hold the write lock and
/// stall every instance's writes: PostgreSQL ends such a session after this
/// long idle in its transaction, and a batch that waits longer than the
/// lock timeout for the lock fails with an error instead of waiting on.
const SESSION_LIMITS: &str = "SET idle_in_transaction_session_timeout = '5s'; \
     SET lock_timeout = '10s'; SET statement_timeout = '60s'; SET client_min_messages = warning";

/// The PostgreSQL store, open.
pub struct PgStore {
    url: String,
    /// None after a failure, until the next batch connects again.
    conn: Option<Conn>,
    cipher: Fernet,
    fingerprint: FingerprintKey,
    /// The last batch this instance has applied; its number is also told
    /// to the listener so that it does not wake the writer for batches
    /// already applied.
    at: Position,
    applied: Arc<AtomicI64>,
    /// This instance's own batches since its last snapshot.
    since_snapshot: usize,
    compact_after: usize,
    /// A transaction is open: `begin` succeeded and no commit ended it yet.
    in_batch: bool,
    /// A snapshot being written, on a thread and a connection of its own so
    /// that batches do not wait for it.
    snapshotting: Option<JoinHandle<Result<(), StorageError>>>,
    /// How long audit events are kept, and when old ones were last dropped.
    audit_retention: Duration,
    audit_pruned: Option<Instant>,
}

/// The writer's connection, with the log's statements prepared on it.
struct Conn {
    client: Client,
    log: Log,
}

impl Conn {
    fn open(url: &str) -> Result<Conn, StorageError> {
        let mut client = connect(url)?;
        client
            .batch_execute(SESSION_LIMITS)
            .map_err(db("setting the session's limits"))?;
        schema::migrate(&mut client)?;
        let log = Log::prepare(&mut client)?;
        Ok(Conn { client, log })
    }

    /// Reads the log after `at`.
    fn catch_up(
        &mut self,
        cipher: &Fernet,
        at: Position,
    ) -> Result<(Caught, Position), StorageError> {
        let mut caught = Caught::default();
        let last = self
            .log
            .read_after(&mut self.client, cipher, at, |_, batch| {
                caught.changes.extend(batch.changes()?);
                caught.sessions.extend(batch.sessions);
                Ok(())
            })?;
        Ok((caught, last))
    }
}

/// A store just opened: its users and live sessions.
pub struct Opened {
    pub store: PgStore,
    pub users: UserTable,
    pub sessions: Vec<SessionOp>,
}

/// What the listener needs to follow a store.
pub struct ListenTarget {
    pub url: String,
    pub cipher: Fernet,
    /// The last batch the writer has applied.
    pub applied: Arc<AtomicI64>,
}

impl PgStore {
    /// Connects to `url`, migrates the schema, opens the key with `master`
    /// (making the header with `kdf_iterations` on an empty database), and
    /// loads every user and session. A snapshot is written every
    /// `compact_after` of this instance's batches.
    pub fn open(
        url: &str,
        master: &str,
        kdf_iterations: u32,
        compact_after: usize,
    ) -> Result<Opened, StorageError> {
        let mut conn = Conn::open(url)?;
        let (cipher, fingerprint) =
            header::open_keys(&mut conn.client, master, kdf_iterations, &mut rand::rng())?;
        // The snapshot and the log as of one moment, however busy the others.
        conn.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .map_err(db("starting to load"))?;
        let (snap, from) = snapshot::latest(&mut conn.client, &cipher)?;
        let mut users = UserTable::from_users(snap.users.into_values().map(Arc::new));
        let (caught, at) = conn.catch_up(&cipher, Position::seq(from))?;
        conn.client.batch_execute("COMMIT").map_err(db("loading"))?;
        users.apply_committed(caught.changes);
        let mut sessions = snap.sessions;
        sessions.extend(caught.sessions);
        upgrade(&mut conn.client, &cipher, at.seq, &users, &sessions)?;
        settle_audit(&mut conn.client, (&cipher, &fingerprint))?;
        let indexed = audit::index_old_rows(&mut conn.client, (&cipher, &fingerprint))?;
        if indexed > 0 {
            tracing::info!(rows = indexed, "indexed the audit log's older rows");
        }
        Ok(Opened {
            store: PgStore {
                url: url.to_owned(),
                conn: Some(conn),
                cipher,
                fingerprint,
                at,
                applied: Arc::new(AtomicI64::new(at.seq)),
                since_snapshot: 0,
                compact_after: compact_after.max(1),
                in_batch: false,
                snapshotting: None,
                audit_retention: crate::audit::DEFAULT_RETENTION,
                audit_pruned: None,
            },
            users,
            sessions,
        })
    }

    /// Keep audit events this long (90 days unless set).
    pub fn set_audit_retention(&mut self, retention: Duration) {
        self.audit_retention = retention;
    }

    /// Once a day (and at the first batch), drops audit events past the
    /// retention, between batches. A failure is logged; the next day tries again.
    fn prune_audit(&mut self) {
        if self.in_batch || self.audit_pruned.is_some_and(|t| t.elapsed() < PRUNE_EVERY) {
            return;
        }
        self.audit_pruned = Some(Instant::now());
        let cutoff = SystemTime::now()
            .checked_sub(self.audit_retention)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        match self.with_conn(|c, _, _| audit::prune(&mut c.client, cutoff)) {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "dropped audit events past the retention"),
            Err(e) => tracing::warn!(error = %e, "could not drop old audit events"),
        }
    }

    /// What the listener needs to follow this store.
    pub fn listen_target(&self) -> ListenTarget {
        ListenTarget {
            url: self.url.clone(),
            cipher: self.cipher.clone(),
            applied: Arc::clone(&self.applied),
        }
    }

    fn move_to(&mut self, at: Position) {
        self.at = at;
        self.applied.store(at.seq, Ordering::SeqCst);
    }

    /// Runs `f` on the connection, made again if the last one failed and
    /// no batch is open (a batch's transaction and lock went with its
    /// connection: it fails rather than go on without them). On failure it
    /// drops the connection, and with it any transaction and lock it held.
    fn with_conn<T>(
        &mut self,
        f: impl FnOnce(&mut Conn, &Fernet, Position) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None;
        }
        let conn = match &mut self.conn {
            Some(c) => c,
            None if self.in_batch => {
                self.in_batch = false;
                return Err(StorageError::Database(
                    "the connection broke during a batch".into(),
                ));
            }
            slot => slot.insert(Conn::open(&self.url)?),
        };
        let result = f(conn, &self.cipher, self.at);
        if result.is_err() {
            self.conn = None;
            self.in_batch = false;
        }
        result
    }
}

impl Backend for PgStore {
    fn shared(&self) -> bool {
        true
    }

    fn begin(&mut self) -> Result<Caught, StorageError> {
        let (caught, last) = self.with_conn(|c, cipher, seq| {
            c.client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
                ))
                .map_err(db("waiting for the other instances' writes"))?;
            c.catch_up(cipher, seq)
        })?;
        self.move_to(last);
        self.in_batch = true;
        Ok(caught)
    }

    /// Outside the writer (a migration's copy): a batch of its own, refused
    /// if the other instances have written meanwhile.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError> {
        let caught = self.begin()?;
        if !caught.changes.is_empty() {
            let _ = self.commit_batch(&[], &[], &mut []);
            return Err(StorageError::Database(
                "another instance wrote to the database meanwhile".into(),
            ));
        }
        self.commit_batch(changes, &[], &mut [])
    }

    fn fingerprint_key(&self) -> Option<FingerprintKey> {
        Some(self.fingerprint.clone())
    }

    fn audit_reader(&self) -> Arc<dyn AuditReader> {
        Arc::new(PgAuditReader::new(
            self.url.clone(),
            self.cipher.clone(),
            self.fingerprint.clone(),
        ))
    }

    fn commit_batch(
        &mut self,
        changes: &[Change],
        sessions: &[SessionOp],
        events: &mut [AuditRecord],
    ) -> Result<(), StorageError> {
        if !self.in_batch {
            return Err(StorageError::Database(
                "a commit without a batch begun".into(),
            ));
        }
        let empty = changes.is_empty() && sessions.is_empty();
        let index = self.fingerprint.clone();
        let at = self.with_conn(|c, cipher, at| {
            audit::append(&mut c.client, (cipher, &index), events)?;
            if empty {
                c.client.batch_execute("COMMIT").map_err(db("committing"))?;
                return Ok(at);
            }
            let next = at.seq + 1;
            let now = c
                .log
                .append(&mut c.client, cipher, &Batch::new(next, changes, sessions))?;
            // The number lets an instance that has it already skip the notice.
            c.client
                .batch_execute(&format!("NOTIFY users_log, '{next}'; COMMIT"))
                .map_err(db("committing"))?;
            Ok(now)
        })?;
        self.in_batch = false;
        if !empty {
            self.move_to(at);
            self.since_snapshot += 1;
        }
        Ok(())
    }

    fn follow(&mut self) -> Result<Caught, StorageError> {
        let (caught, last) = self.with_conn(|c, cipher, at| c.catch_up(cipher, at))?;
        self.move_to(last);
        Ok(caught)
    }

    fn maintain(&mut self, state: &mut dyn FnMut() -> State) -> Result<(), StorageError> {
        self.prune_audit();
        if self.snapshotting.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        self.finish_snapshot();
        if self.since_snapshot < self.compact_after || self.conn.is_none() {
            return Ok(());
        }
        let (state, url, cipher, seq) =
            (state(), self.url.clone(), self.cipher.clone(), self.at.seq);
        let thread = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                let mut client = connect(&url)?;
                client
                    .batch_execute("SET client_min_messages = warning")
                    .map_err(db("setting the session's limits"))?;
                snapshot::write(&mut client, &cipher, seq, &state)
            })
            .map_err(io_err("starting the snapshot's thread"))?;
        self.snapshotting = Some(thread);
        self.since_snapshot = 0;
        Ok(())
    }

    fn close(&mut self) -> Result<(), StorageError> {
        if let Some(h) = self.snapshotting.take() {
            return h.join().unwrap_or_else(|_| {
                Err(StorageError::Database(
                    "the snapshot's thread panicked".into(),
                ))
            });
        }
        Ok(())
    }
}

/// Writes a snapshot at once when what was read holds something in an
/// older form (recovery codes kept as a plain SHA-256), so that the newest
/// snapshot holds it only in this release's form. The log rows before it go
/// with the next snapshot, as always.
fn upgrade(
    client: &mut Client,
    cipher: &Fernet,
    seq: i64,
    users: &UserTable,
    sessions: &[SessionOp],
) -> Result<(), StorageError> {
    let old = |u: &&Arc<User>| u.totp.as_ref().is_some_and(|t| t.recovery.salted_on_read());
    if !users.iter().any(|u| old(&u)) {
        return Ok(());
    }
    tracing::info!("rewriting the store's snapshot: recovery codes are now kept salted");
    let state = State {
        users: users.all(),
        sessions: sessions.to_vec(),
    };
    snapshot::write(client, cipher, seq, &state)
}

/// Records `audit_chain_broken` when the audit log no longer ends with the
/// event the store sealed as its newest (rows deleted at its end), at
/// start-up, under the write lock, so that an instance starting at the same
/// time as another records it once.
fn settle_audit(client: &mut Client, keys: audit::Keys<'_>) -> Result<(), StorageError> {
    let mut tx = client.transaction().map_err(db("checking the audit log"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .map_err(db("waiting for the other instances' writes"))?;
    audit::settled_end(&mut tx, keys)?;
    tx.commit().map_err(db("checking the audit log"))
}

impl PgStore {
    /// Reaps a finished snapshot; one that failed is logged, since the log
    /// still holds everything it would have.
    fn finish_snapshot(&mut self) {
        let Some(h) = self.snapshotting.take() else {
            return;
        };
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "snapshot failed; the log keeps every change")
            }
            Err(_) => tracing::error!("the snapshot's thread panicked; the log keeps every change"),
        }
    }
}
