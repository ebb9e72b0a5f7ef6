//! `users_audit`: the audit log of the PostgreSQL store. One row per batch
//! of events, inserted in the transaction of the batch it goes with, so that
//! a committed change always has its events and a rolled-back one none.
//! Event ids are numbered on from the last row's, under the write lock that
//! every batch holds. Rows whose events are all past the retention are
//! deleted, at most once a day per instance.

use super::connect::connect;
use super::errors::{damaged, db};
use crate::audit::record::id_floor;
use crate::audit::{AuditReader, AuditRecord};
use crate::storage::backend::StorageError;
use fernet::Fernet;
use postgres::Client;
use std::time::SystemTime;

/// Numbers `records` and inserts them as one row, in the open transaction.
pub(crate) fn append(
    client: &mut impl postgres::GenericClient,
    cipher: &Fernet,
    records: &mut [AuditRecord],
) -> Result<(), StorageError> {
    if records.is_empty() {
        return Ok(());
    }
    let last: i64 = client
        .query_one("SELECT coalesce(max(last_id), 0) FROM users_audit", &[])
        .map_err(db("reading the audit log's last id"))?
        .get(0);
    let mut next = (last as u64 + 1).max(id_floor(SystemTime::now()));
    for r in records.iter_mut() {
        r.id = next;
        next += 1;
    }
    let json = serde_json::to_vec(&*records)
        .map_err(|e| StorageError::Database(format!("encoding audit events: {e}")))?;
    let token = cipher.encrypt(&json);
    let at = records.iter().map(|r| r.at).max().unwrap_or(0) as i64;
    let (first, last) = (records[0].id as i64, (next - 1) as i64);
    client
        .execute(
            "INSERT INTO users_audit (first_id, last_id, at, token) VALUES ($1, $2, $3, $4)",
            &[&first, &last, &at, &token],
        )
        .map_err(db("appending to the audit log"))?;
    Ok(())
}

/// Deletes the rows whose newest event is older than `cutoff` (Unix seconds).
pub(crate) fn prune(client: &mut Client, cutoff: u64) -> Result<u64, StorageError> {
    client
        .execute("DELETE FROM users_audit WHERE at < $1", &[&(cutoff as i64)])
        .map_err(db("dropping old audit events"))
}

/// Reads the audit log on a connection of its own.
pub(crate) struct PgAuditReader {
    /// The database's address.
    pub url: String,
    /// The store's key.
    pub cipher: Fernet,
}

impl AuditReader for PgAuditReader {
    fn read_all(&self) -> Result<Vec<AuditRecord>, String> {
        let mut client = connect(&self.url).map_err(|e| e.to_string())?;
        let rows = client
            .query(
                "SELECT first_id, token FROM users_audit ORDER BY first_id",
                &[],
            )
            .map_err(|e| db("reading the audit log")(e).to_string())?;
        let mut out = Vec::new();
        for row in rows {
            let (first, token): (i64, String) = (row.get(0), row.get(1));
            let plain = zeroize::Zeroizing::new(self.cipher.decrypt(&token).map_err(|_| {
                damaged("users_audit", first, "not sealed with this key").to_string()
            })?);
            let records: Vec<AuditRecord> = serde_json::from_slice(&plain)
                .map_err(|e| damaged("users_audit", first, e).to_string())?;
            out.extend(records);
        }
        Ok(out)
    }
}
