//! `users_audit`: the audit log of the PostgreSQL store. One row per batch
//! of events, inserted in the transaction of the batch it goes with, so that
//! a committed change always has its events and a rolled-back one none.
//! Event ids are numbered on from the last row's, under the write lock that
//! every batch holds. Rows whose events are all past the retention are
//! deleted, at most once a day per instance.
//!
//! The events are chained ([`crate::audit::chain`]), and the same
//! transaction seals the newest in `users_meta` (`audit_head`, a token
//! under the store's key), so that rows deleted at the end show too.

use super::connect::connect;
use super::errors::{damaged, db};
use crate::audit::chain::{self, Break};
use crate::audit::reader::visit_newest_first;
use crate::audit::record::id_floor;
use crate::audit::want::{Key, Want};
use crate::audit::{AuditReader, AuditRecord, Event, Head};
use crate::storage::backend::StorageError;
use crate::storage::crypto::FingerprintKey;
use fernet::Fernet;
use postgres::Client;
use std::sync::Mutex;
use std::time::SystemTime;
use users_protocol::AuditKind;

/// The store's two keys, as the audit log uses them: the cipher that seals
/// events, and the key of the digests in `keys`.
pub(crate) type Keys<'a> = (&'a Fernet, &'a FingerprintKey);

/// The `keys` of a row holding `records`: 16 bytes of HMAC-SHA256 under the
/// store's fingerprint key for each [`Key`], never the key in clear.
fn digests(index: &FingerprintKey, keys: impl IntoIterator<Item = Key>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = keys
        .into_iter()
        .map(|k| index.tag(&k.text())[..16].to_vec())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Numbers `records` and inserts them as one row, in the open transaction,
/// linked on from the log's last event, and seals the new head. A log that
/// no longer ends with the head the store sealed (rows deleted at its end)
/// gets an `audit_chain_broken` event first, so that the cut stays on
/// record rather than being sealed over.
pub(crate) fn append(
    client: &mut impl postgres::GenericClient,
    keys: Keys<'_>,
    records: &mut [AuditRecord],
) -> Result<(), StorageError> {
    if records.is_empty() {
        return Ok(());
    }
    let end = settled_end(client, keys)?;
    let (_, head) = insert(client, keys, records, end)?;
    seal(client, keys.0, &head)
}

/// The log's last event id and head, once a cut is recorded (and sealed).
pub(crate) fn settled_end(
    client: &mut impl postgres::GenericClient,
    keys: Keys<'_>,
) -> Result<(u64, Option<Head>), StorageError> {
    let end = last_row(client, keys.0)?;
    let Some(sealed) = sealed_head(client, keys.0)? else {
        return Ok(end);
    };
    if end.1.as_ref() == Some(&sealed) {
        return Ok(end);
    }
    let why = Break {
        id: sealed.id,
        why: "the store sealed it as the newest event, and the log lacks it: events were cut off"
            .into(),
    };
    tracing::error!(%why, "the audit log was altered");
    let now = crate::clock::unix_secs(SystemTime::now());
    let event = Event::operator(AuditKind::AuditChainBroken, why.to_string());
    let end = insert(client, keys, &mut [event.record(now, |_| None)], end)?;
    seal(client, keys.0, &end.1)?;
    Ok(end)
}

/// Numbers and links `records` on from `(last, head)` and inserts them as
/// one row; returns the new last id and head.
fn insert(
    client: &mut impl postgres::GenericClient,
    (cipher, index): Keys<'_>,
    records: &mut [AuditRecord],
    (last, mut head): (u64, Option<Head>),
) -> Result<(u64, Option<Head>), StorageError> {
    let mut next = (last + 1).max(id_floor(SystemTime::now()));
    for r in records.iter_mut() {
        r.id = next;
        next += 1;
    }
    chain::link(records, &mut head);
    let json = serde_json::to_vec(&*records)
        .map_err(|e| StorageError::Database(format!("encoding audit events: {e}")))?;
    let token = cipher.encrypt(&json);
    let at = records.iter().map(|r| r.at).max().unwrap_or(0) as i64;
    let first_at = records.iter().map(|r| r.at).min().unwrap_or(0) as i64;
    let (first, last) = (records[0].id as i64, (next - 1) as i64);
    let keys = digests(index, records.iter().flat_map(Key::of));
    client
        .execute(
            "INSERT INTO users_audit (first_id, last_id, at, first_at, token, keys)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&first, &last, &at, &first_at, &token, &keys],
        )
        .map_err(db("appending to the audit log"))?;
    Ok((last as u64, head))
}

/// Seals `head` as the log's newest event.
fn seal(
    client: &mut impl postgres::GenericClient,
    cipher: &Fernet,
    head: &Option<Head>,
) -> Result<(), StorageError> {
    let sealed = serde_json::to_vec(head)
        .map_err(|e| StorageError::Database(format!("encoding the audit head: {e}")))?;
    client
        .execute(
            "INSERT INTO users_meta (name, value) VALUES ('audit_head', $1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&cipher.encrypt(&sealed)],
        )
        .map_err(db("sealing the audit log's head"))?;
    Ok(())
}

/// The last event's id (0 with none) and head.
fn last_row(
    client: &mut impl postgres::GenericClient,
    cipher: &Fernet,
) -> Result<(u64, Option<Head>), StorageError> {
    let row = client
        .query_opt(
            "SELECT last_id, token FROM users_audit ORDER BY first_id DESC LIMIT 1",
            &[],
        )
        .map_err(db("reading the audit log's last event"))?;
    let Some(row) = row else {
        return Ok((0, None));
    };
    let (last, token): (i64, String) = (row.get(0), row.get(1));
    let records = open_row(cipher, last, &token)?;
    Ok((last as u64, records.last().map(AuditRecord::head)))
}

/// A row's events.
fn open_row(cipher: &Fernet, id: i64, token: &str) -> Result<Vec<AuditRecord>, StorageError> {
    let plain = zeroize::Zeroizing::new(
        cipher
            .decrypt(token)
            .map_err(|_| damaged("users_audit", id, "not sealed with this key"))?,
    );
    serde_json::from_slice(&plain).map_err(|e| damaged("users_audit", id, e))
}

/// The head the store sealed, if any.
fn sealed_head(
    client: &mut impl postgres::GenericClient,
    cipher: &Fernet,
) -> Result<Option<Head>, StorageError> {
    let row = client
        .query_opt(
            "SELECT value FROM users_meta WHERE name = 'audit_head'",
            &[],
        )
        .map_err(db("reading the audit log's head"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let token: String = row.get(0);
    let plain = cipher
        .decrypt(&token)
        .map_err(|_| damaged("users_meta", 0, "audit_head is not sealed with this key"))?;
    serde_json::from_slice(&plain).map_err(|e| damaged("users_meta", 0, e))
}

/// Every event, oldest first, checked link by link up to the sealed head:
/// `verify` on the PostgreSQL store.
pub(crate) fn verify(
    client: &mut impl postgres::GenericClient,
    cipher: &Fernet,
) -> Result<usize, StorageError> {
    let sealed = sealed_head(client, cipher)?;
    let rows = client
        .query(
            "SELECT first_id, token FROM users_audit ORDER BY first_id",
            &[],
        )
        .map_err(db("reading the audit log"))?;
    let mut checker = chain::Checker::new(sealed);
    let mut count = 0;
    for row in rows {
        let (first, token): (i64, String) = (row.get(0), row.get(1));
        for r in open_row(cipher, first, &token)? {
            checker
                .next(&r)
                .map_err(|e| damaged("users_audit", first, e))?;
            count += 1;
        }
    }
    checker.finish().map_err(|e| damaged("users_audit", 0, e))?;
    Ok(count)
}

/// Deletes the rows whose newest event is older than `cutoff` (Unix
/// seconds), but the newest row, whatever its age: it holds the chain's
/// head, which the store sealed.
pub(crate) fn prune(client: &mut Client, cutoff: u64) -> Result<u64, StorageError> {
    client
        .execute(
            "DELETE FROM users_audit WHERE at < $1
               AND first_id < (SELECT max(first_id) FROM users_audit)",
            &[&(cutoff as i64)],
        )
        .map_err(db("dropping old audit events"))
}

/// Reads the audit log on a connection of its own, kept between reads.
pub(crate) struct PgAuditReader {
    /// The database's address.
    url: String,
    /// The store's key.
    cipher: Fernet,
    /// The key of the digests in `keys`.
    index: FingerprintKey,
    /// The connection, made at the first read and again after one fails.
    conn: Mutex<Option<Client>>,
}

/// Rows asked for at a time, newest first.
const ROWS_AT_ONCE: i64 = 64;

impl PgAuditReader {
    pub(crate) fn new(url: String, cipher: Fernet, index: FingerprintKey) -> Self {
        PgAuditReader {
            url,
            cipher,
            index,
            conn: Mutex::new(None),
        }
    }

    /// Runs `f` on the kept connection; one that failed is dropped.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError>,
    ) -> Result<T, String> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(Client::is_closed) {
            *slot = None;
        }
        let client = match &mut *slot {
            Some(c) => c,
            None => slot.insert(connect(&self.url).map_err(|e| e.to_string())?),
        };
        let result = f(client);
        if result.is_err() {
            *slot = None;
        }
        result.map_err(|e| e.to_string())
    }
}

impl AuditReader for PgAuditReader {
    fn read_all(&self) -> Result<Vec<AuditRecord>, String> {
        self.with_client(|client| {
            let rows = client
                .query(
                    "SELECT first_id, token FROM users_audit ORDER BY first_id",
                    &[],
                )
                .map_err(db("reading the audit log"))?;
            let mut out = Vec::new();
            for row in rows {
                let (first, token): (i64, String) = (row.get(0), row.get(1));
                out.extend(open_row(&self.cipher, first, &token)?);
            }
            Ok(out)
        })
    }

    /// Pages back through the rows by their first id (the primary key), a
    /// few at a time, so that a read costs what its page does. A row's `at`
    /// is its newest event's and `first_at` its oldest's, so `since` and
    /// `until` narrow the rows too, without decrypting them; each group
    /// of keys is looked up in `keys` (a GIN index), where a row from before
    /// the index, which has none, always passes.
    fn newest_first(
        &self,
        want: &Want,
        visit: &mut dyn FnMut(AuditRecord) -> bool,
    ) -> Result<(), String> {
        let since = want.since.map(|s| s as i64);
        let until = want.until.map(|u| u as i64);
        let mut before = want.before.map(|b| b as i64);
        let groups: Vec<Vec<Vec<u8>>> = want
            .all_of
            .iter()
            .map(|g| digests(&self.index, g.iter().cloned()))
            .collect();
        let mut sql = String::from(
            "SELECT first_id, token FROM users_audit
             WHERE ($1::bigint IS NULL OR first_id < $1) AND ($2::bigint IS NULL OR at >= $2)
               AND ($4::bigint IS NULL OR first_at IS NULL OR first_at < $4)",
        );
        for n in 0..groups.len() {
            sql.push_str(&format!(" AND (keys IS NULL OR keys && ${})", n + 5));
        }
        sql.push_str(" ORDER BY first_id DESC LIMIT $3");
        self.with_client(|client| loop {
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                vec![&before, &since, &ROWS_AT_ONCE, &until];
            params.extend(
                groups
                    .iter()
                    .map(|g| g as &(dyn postgres::types::ToSql + Sync)),
            );
            let rows = client
                .query(sql.as_str(), &params)
                .map_err(db("reading the audit log"))?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                let (first, token): (i64, String) = (row.get(0), row.get(1));
                before = Some(first);
                if !visit_newest_first(open_row(&self.cipher, first, &token)?, visit) {
                    return Ok(());
                }
            }
        })
    }
}

/// Gives the rows written before the index (version 3 of the schema) their
/// `keys`, a few hundred at a time: once, at an instance's start.
pub(crate) fn index_old_rows(
    client: &mut impl postgres::GenericClient,
    keys: Keys<'_>,
) -> Result<u64, StorageError> {
    let mut done = 0;
    loop {
        let rows = client
            .query(
                "SELECT first_id, token FROM users_audit WHERE keys IS NULL
                 ORDER BY first_id LIMIT 500",
                &[],
            )
            .map_err(db("reading the audit log"))?;
        if rows.is_empty() {
            return Ok(done);
        }
        for row in &rows {
            let (first, token): (i64, String) = (row.get(0), row.get(1));
            let records = open_row(keys.0, first, &token)?;
            let digests = digests(keys.1, records.iter().flat_map(Key::of));
            let first_at = records.iter().map(|r| r.at).min().unwrap_or(0) as i64;
            client
                .execute(
                    "UPDATE users_audit SET keys = $2, first_at = $3 WHERE first_id = $1",
                    &[&first, &digests, &first_at],
                )
                .map_err(db("indexing the audit log"))?;
            done += 1;
        }
    }
}
