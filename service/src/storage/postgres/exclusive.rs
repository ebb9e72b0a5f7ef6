//! An operator's transaction over the whole database (`rotate-key`,
//! `restore`): it holds the header's lock and the write lock, and is
//! refused while any instance is connected, since instances keep the key
//! and the state in memory. Instances name their connections
//! ([`APPLICATION`]); one whose connection was down at the time is stopped
//! by the mark these transactions leave in the log ([`mark`]).

use super::connect::{connect, APPLICATION};
use super::errors::db;
use super::log::Batch;
use super::{header, schema, store::WRITE_LOCK};
use crate::storage::backend::StorageError;
use fernet::Fernet;
use postgres::{Client, GenericClient};

/// Connects to `url` and brings its schema up to date, for [`begin`].
pub(crate) fn connect_migrated(url: &str) -> Result<Client, StorageError> {
    let mut client = connect(url)?;
    client
        .batch_execute("SET client_min_messages = warning")
        .map_err(db("setting the session's limits"))?;
    schema::migrate(&mut client)?;
    Ok(client)
}

/// Begins the transaction on `client`; see the module documentation.
pub(crate) fn begin(client: &mut Client) -> Result<postgres::Transaction<'_>, StorageError> {
    let mut tx = client.transaction().map_err(db("starting a transaction"))?;
    tx.batch_execute(&format!(
        "SELECT pg_advisory_xact_lock({}); SELECT pg_advisory_xact_lock({WRITE_LOCK})",
        header::LOCK
    ))
    .map_err(db("waiting for the other instances' writes"))?;
    let others: i64 = tx
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND application_name = $1",
            &[&APPLICATION],
        )
        .map_err(db("looking for running instances"))?
        .get(0);
    if others > 0 {
        return Err(StorageError::Database(format!(
            "{others} connection(s) of running users-service instances are open on the \
             database; stop every instance first"
        )));
    }
    Ok(tx)
}

/// The last number the log or a snapshot has used (0 for none).
pub(crate) fn end(tx: &mut impl GenericClient) -> Result<i64, StorageError> {
    Ok(tx
        .query_one(
            "SELECT greatest((SELECT max(seq) FROM users_log), \
                             (SELECT max(seq) FROM users_snapshot), 0)",
            &[],
        )
        .map_err(db("reading the log's end"))?
        .get(0))
}

/// Appends an empty batch numbered `seq` under `cipher`, and tells the
/// instances. An instance still running from before meets it at its next
/// read: under another key it cannot read it; after a gap (a restore) its
/// next batch is missing. Either way it stops rather than write.
pub(crate) fn mark(
    tx: &mut impl GenericClient,
    cipher: &Fernet,
    seq: i64,
) -> Result<(), StorageError> {
    let batch = serde_json::to_vec(&Batch::new(seq, &[], &[]))
        .map_err(|e| StorageError::Database(format!("encoding a batch: {e}")))?;
    tx.execute(
        "INSERT INTO users_log (seq, token) VALUES ($1, $2)",
        &[&seq, &cipher.encrypt(&batch)],
    )
    .map_err(db("appending to the log"))?;
    tx.batch_execute(&format!("NOTIFY users_log, '{seq}'"))
        .map_err(db("notifying the instances"))
}
