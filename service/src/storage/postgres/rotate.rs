//! `rotate-key` on the PostgreSQL store: every token re-encrypted under a
//! new master password with a fresh salt, and the header replaced, in one
//! transaction: interrupted anywhere, the database still has the old key
//! throughout. Running instances hold the old key, so the rotation is
//! refused while any is connected (they name their connections, see
//! [`super::connect::APPLICATION`]); an instance that starts meanwhile
//! waits on the header's lock, then finds the new key; one that was missed
//! (its connection down at the time) meets a batch under the new key at
//! its next write, and fails rather than write under the old one.

use super::errors::{damaged, db};
use super::{exclusive, header};
use crate::audit::Event;
use crate::storage::backend::StorageError;
use crate::storage::crypto::KdfParams;
use fernet::Fernet;

/// The tables holding tokens, with their key column.
const TABLES: [(&str, &str); 3] = [
    ("users_snapshot", "seq"),
    ("users_log", "seq"),
    ("users_audit", "first_id"),
];

/// How many times [`rotate`] calls its `step`.
pub const STAGES: u64 = 2 + TABLES.len() as u64;

/// Re-encrypts the database at `url` from `old` to `new`, with
/// `kdf_iterations` for the new key. Returns how many rows were
/// re-encrypted. `step` is told each stage as it starts.
pub fn rotate(
    url: &str,
    old: &str,
    new: &str,
    kdf_iterations: u32,
    step: &mut dyn FnMut(&str),
) -> Result<u64, StorageError> {
    let mut client = exclusive::connect_migrated(url)?;
    let mut tx = exclusive::begin(&mut client)?;
    step("checking the old key");
    let old_cipher = header::open_key(&mut tx, old, kdf_iterations, &mut rand::rng())?;
    let params = KdfParams::generate(kdf_iterations, &mut rand::rng());
    let (cipher, index) = params
        .keys(new)
        .map_err(|e| StorageError::Database(format!("the new key: {e}")))?;
    let mut rows = 0;
    for (table, key) in TABLES {
        step(&format!("re-encrypting {table}"));
        rows += reencrypt(&mut tx, table, key, &old_cipher, &cipher)?;
    }
    reseal_audit_head(&mut tx, &old_cipher, &cipher)?;
    // The audit log's index is keyed by the store's key too.
    tx.batch_execute("UPDATE users_audit SET keys = NULL")
        .map_err(db("re-indexing the audit log"))?;
    super::audit::index_old_rows(&mut tx, (&cipher, &index))?;
    header::replace(&mut tx, &params, &cipher)?;
    // An instance the check missed (its connection down at that moment)
    // cannot read this batch, and fails its next write.
    let next = exclusive::end(&mut tx)? + 1;
    exclusive::mark(&mut tx, &cipher, next)?;
    let now = crate::clock::unix_secs(std::time::SystemTime::now());
    let mut event = [Event::key_rotated(kdf_iterations).record(now, |_| None)];
    super::audit::append(&mut tx, (&cipher, &index), &mut event)?;
    step("committing");
    tx.commit().map_err(db("committing the rotation"))?;
    Ok(rows)
}

fn reencrypt(
    tx: &mut postgres::Transaction,
    table: &str,
    key: &str,
    old: &Fernet,
    new: &Fernet,
) -> Result<u64, StorageError> {
    let select = format!("SELECT {key}, token FROM {table}");
    let update = tx
        .prepare(&format!("UPDATE {table} SET token = $2 WHERE {key} = $1"))
        .map_err(db("preparing the rotation"))?;
    let rows = tx.query(&select, &[]).map_err(db("reading the tokens"))?;
    for row in &rows {
        let (id, token): (i64, &str) = (row.get(0), row.get(1));
        let plain = old
            .decrypt(token)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| damaged(table, id, "it does not decrypt under the store's key"))?;
        tx.execute(&update, &[&id, &new.encrypt(&plain)])
            .map_err(db("writing a re-encrypted token"))?;
    }
    Ok(rows.len() as u64)
}

/// The audit log's sealed head (`users_meta.audit_head`), under the new key.
fn reseal_audit_head(
    tx: &mut postgres::Transaction,
    old: &Fernet,
    new: &Fernet,
) -> Result<(), StorageError> {
    let row = tx
        .query_opt(
            "SELECT value FROM users_meta WHERE name = 'audit_head'",
            &[],
        )
        .map_err(db("reading the audit log's head"))?;
    let Some(row) = row else {
        return Ok(());
    };
    let token: &str = row.get(0);
    let plain = old.decrypt(token).map_err(|_| {
        damaged(
            "users_meta",
            0,
            "audit_head does not decrypt under the store's key",
        )
    })?;
    tx.execute(
        "UPDATE users_meta SET value = $1 WHERE name = 'audit_head'",
        &[&new.encrypt(&plain)],
    )
    .map_err(db("sealing the audit log's head"))?;
    Ok(())
}
