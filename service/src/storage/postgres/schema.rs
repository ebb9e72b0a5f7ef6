//! The schema, as numbered migrations. At start-up an instance applies those
//! the database lacks, in one transaction per step, under an advisory lock so
//! that instances starting together do not race. A database migrated by a
//! newer release is refused rather than written in a shape this one does not
//! know.
//!
//! The tables:
//! - `users_meta`: the store's sealed header (the key derivation's salt and
//!   count, sealed under the key, as the file store's header), by name.
//! - `users_log`: one row per committed batch of changes to users and
//!   sessions: a sequence number and a Fernet token. Every instance follows
//!   it in order.
//! - `users_snapshot`: compactions: all users and live sessions as of a log
//!   sequence number, as one Fernet token, so that a starting instance reads
//!   the newest snapshot and only the log after it.
//! - `users_audit` (version 2): the audit log, one Fernet token per batch of
//!   events, with the ids of its first and last event and its time in clear
//!   for paging and retention; version 3 adds `keys`, keyed digests of who
//!   acted, on whom, by which names and of which kind, and `first_at`, its
//!   oldest event's time, for audit_log's index.

use crate::storage::backend::StorageError;
use postgres::Client;

/// The migrations, in order; step N brings the schema to version N.
const MIGRATIONS: &[&str] = &[
    // 1: the log, its snapshots and the sealed header.
    "CREATE TABLE users_meta (
         name  text PRIMARY KEY,
         value text NOT NULL
     );
     CREATE TABLE users_log (
         seq   bigint PRIMARY KEY,
         token text   NOT NULL
     );
     CREATE TABLE users_snapshot (
         seq   bigint PRIMARY KEY,
         token text   NOT NULL
     );",
    // 2: the audit log.
    "CREATE TABLE users_audit (
         first_id bigint PRIMARY KEY,
         last_id  bigint NOT NULL,
         at       bigint NOT NULL,
         token    text   NOT NULL
     );
     CREATE INDEX users_audit_at ON users_audit (at);",
    // 3: the audit log's index. Rows from before have none, and are read
    // whatever a query asks.
    "ALTER TABLE users_audit ADD COLUMN keys bytea[], ADD COLUMN first_at bigint;
     CREATE INDEX users_audit_keys ON users_audit USING gin (keys);
     CREATE INDEX users_audit_unkeyed ON users_audit (first_id) WHERE keys IS NULL;",
];

/// The schema version this release writes.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// Serializes migrations across instances: `pg_advisory_xact_lock` key
/// ("users-sc" in ASCII).
const LOCK: i64 = 0x7573_6572_732d_7363;

/// Brings the database's schema to [`VERSION`]; returns the version it had.
pub fn migrate(client: &mut Client) -> Result<i32, StorageError> {
    let fail = |what: &str| {
        let what = what.to_owned();
        move |e: postgres::Error| StorageError::Database(format!("{what}: {e}"))
    };
    let mut tx = client
        .transaction()
        .map_err(fail("starting the migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .map_err(fail("waiting for another instance's migration"))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS users_schema (version integer NOT NULL)")
        .map_err(fail("creating users_schema"))?;
    let found: i32 = match tx
        .query_opt("SELECT version FROM users_schema", &[])
        .map_err(fail("reading the schema version"))?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO users_schema (version) VALUES (0)", &[])
                .map_err(fail("recording the schema version"))?;
            0
        }
    };
    if found > VERSION {
        return Err(StorageError::Database(format!(
            "the database has schema version {found}, newer than this release's {VERSION}: \
             run the newer users-service, or restore a backup taken before it"
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = i as i32 + 1;
        tx.batch_execute(step)
            .map_err(fail(&format!("migrating to schema version {version}")))?;
        tx.execute("UPDATE users_schema SET version = $1", &[&version])
            .map_err(fail("recording the schema version"))?;
    }
    tx.commit().map_err(fail("committing the migration"))?;
    Ok(found)
}
