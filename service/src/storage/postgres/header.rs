//! The store's key in PostgreSQL. `users_meta` holds the key derivation's
//! parameters in clear (`kdf`: algorithm, count, salt, as the file store's
//! header) and a check token sealed under the key (`check`). The first
//! instance on an empty database makes both; every other instance derives the
//! same key from the master password and the stored parameters, and the check
//! token tells a wrong password before anything is read or written.

use super::errors::db;
use crate::storage::backend::StorageError;
use crate::storage::crypto::{FingerprintKey, KdfParams};
use fernet::Fernet;
use postgres::GenericClient;

/// What the check token holds.
const CHECK: &[u8] = b"users-service PostgreSQL store";

/// Serializes the making of the header across instances (`pg_advisory_xact_lock`
/// key, "users-kd" in ASCII).
pub(crate) const LOCK: i64 = 0x7573_6572_732d_6b64;

/// What a wrong password is reported against.
pub(crate) const STORE_NAME: &str = "the PostgreSQL store";

/// The store's cipher for `master`, making the header with `iterations` and
/// `rng` if the database has none yet.
pub fn open_key(
    client: &mut impl GenericClient,
    master: &str,
    iterations: u32,
    rng: &mut impl rand::RngCore,
) -> Result<Fernet, StorageError> {
    open_keys(client, master, iterations, rng).map(|(cipher, _)| cipher)
}

/// [`open_key`], with the store's fingerprint key.
pub(crate) fn open_keys(
    client: &mut impl GenericClient,
    master: &str,
    iterations: u32,
    rng: &mut impl rand::RngCore,
) -> Result<(Fernet, FingerprintKey), StorageError> {
    let mut tx = client
        .transaction()
        .map_err(db("reading the store's header"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .map_err(db("waiting for another instance to make the header"))?;
    let rows = tx
        .query(
            "SELECT name, value FROM users_meta WHERE name IN ('kdf', 'check')",
            &[],
        )
        .map_err(db("reading the store's header"))?;
    let get = |name: &str| {
        rows.iter()
            .find(|r| r.get::<_, &str>(0) == name)
            .map(|r| r.get::<_, String>(1))
    };
    let damaged = |reason: String| StorageError::Database(format!("users_meta: {reason}"));
    match (get("kdf"), get("check")) {
        (Some(kdf), Some(check)) => {
            let params: KdfParams =
                serde_json::from_str(&kdf).map_err(|e| damaged(format!("kdf: {e}")))?;
            let (cipher, fingerprint) = params.keys(master).map_err(damaged)?;
            match cipher.decrypt(&check) {
                Ok(plain) if plain == CHECK => Ok((cipher, fingerprint)),
                _ => Err(StorageError::WrongPassword(STORE_NAME.into())),
            }
        }
        (None, None) => {
            let params = KdfParams::generate(iterations, rng);
            let (cipher, fingerprint) = params.keys(master).map_err(damaged)?;
            let kdf = serde_json::to_string(&params).map_err(|e| damaged(e.to_string()))?;
            let check = cipher.encrypt(CHECK);
            tx.execute(
                "INSERT INTO users_meta (name, value) VALUES ('kdf', $1), ('check', $2)",
                &[&kdf, &check],
            )
            .map_err(db("writing the store's header"))?;
            tx.commit().map_err(db("writing the store's header"))?;
            Ok((cipher, fingerprint))
        }
        _ => Err(damaged(
            "the header is half there (kdf or check missing)".into(),
        )),
    }
}

/// Replaces the header, in the open transaction `tx`, by `params` and a
/// check token under `cipher`, their key: a key rotation's last step.
pub(crate) fn replace(
    tx: &mut postgres::Transaction,
    params: &KdfParams,
    cipher: &Fernet,
) -> Result<(), StorageError> {
    let kdf = serde_json::to_string(params)
        .map_err(|e| StorageError::Database(format!("users_meta: {e}")))?;
    let check = cipher.encrypt(CHECK);
    for (name, value) in [("kdf", kdf), ("check", check)] {
        tx.execute(
            "UPDATE users_meta SET value = $2 WHERE name = $1",
            &[&name, &value],
        )
        .map_err(db("writing the store's header"))?;
    }
    Ok(())
}
