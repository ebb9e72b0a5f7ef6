//! The snapshot file: a small clear JSON header and one Fernet token holding
//! every user, keyed by username, in the stored record structure
//! ([`UserRecord`]), so that plain Python opens it too.

use super::seal::{token_iv, Link, Seal};
use crate::audit::Head;
use crate::model::record::UserRecord;
use crate::model::User;
use crate::storage::backend::StorageError;
use crate::storage::crypto::{FingerprintKey, KdfParams};
use fernet::Fernet;
use serde::de::{Error as _, IgnoredAny, MapAccess};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The `format` field of a snapshot.
pub(crate) const FORMAT: &str = "users-service-store";
/// The `version` this build writes. Version 1 had no user ids; it is read and
/// upgraded, as is version 2. Version 3 records may hold two-factor state
/// (`totp`), which a build that knows only version 2 would drop when it
/// rewrote a record: such a build refuses a version-3 store. Version 4 keeps
/// recovery codes salted, which a version-3 build could not check.
pub(crate) const VERSION: u32 = 4;

#[derive(Serialize, Deserialize)]
struct SnapshotFile<'a> {
    format: String,
    version: u32,
    kdf: KdfParams,
    journal_seq: u64,
    /// Version 2: see [`super::seal`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seal: Option<String>,
    /// Borrowed from the file's bytes: the token is the bulk of the file, and
    /// base64 never needs unescaping, so no second copy is made.
    #[serde(borrow)]
    data: std::borrow::Cow<'a, str>,
}

/// A snapshot read and decrypted.
pub(crate) struct Snapshot {
    /// Its format version, 1 or 2.
    pub version: u32,
    /// How its key was derived.
    pub kdf: KdfParams,
    /// The cipher for its key, which the journal shares.
    pub cipher: Fernet,
    /// The store's fingerprint key, from the same master password.
    pub fingerprint: FingerprintKey,
    /// The last journal record it holds.
    pub journal_seq: u64,
    /// Version 2: the link the next journal record must name.
    pub link: Option<Link>,
    /// Sealed as a backup, to stand without a journal.
    pub backup: bool,
    /// The audit log's newest event when it was written.
    pub audit_head: Option<Head>,
    /// The users JSON, decrypted; wiped when dropped. Read it with [`users`].
    pub plain: Zeroizing<Vec<u8>>,
}

/// The users in a snapshot's plaintext, each converted from its stored record
/// as it is read (to [`User`], or kept as a [`UserRecord`] for an upgrade).
/// The plaintext is dropped as soon as it has been read.
pub(crate) fn users<T>(path: &Path, plain: Zeroizing<Vec<u8>>) -> Result<Vec<T>, StorageError>
where
    T: TryFrom<UserRecord>,
    T::Error: std::fmt::Display,
{
    let Records(users) = serde_json::from_slice(&plain).map_err(|e| StorageError::Damaged {
        path: path.to_owned(),
        reason: format!("decrypted data is not a user table ({e})"),
    })?;
    Ok(users)
}

/// A JSON object keyed by username, read as a list, since every record holds
/// its username too.
struct Records<T>(Vec<T>);

impl<'de, T> Deserialize<'de> for Records<T>
where
    T: TryFrom<UserRecord>,
    T::Error: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T> serde::de::Visitor<'de> for V<T>
        where
            T: TryFrom<UserRecord>,
            T::Error: std::fmt::Display,
        {
            type Value = Records<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("users keyed by username")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Records<T>, A::Error> {
                let mut users = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((_, record)) = m.next_entry::<IgnoredAny, UserRecord>()? {
                    users.push(T::try_from(record).map_err(A::Error::custom)?);
                }
                Ok(Records(users))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Where a snapshot stands: the last journal record it holds, that record's
/// link, and the audit log's newest event then.
pub(crate) type At<'a> = (u64, &'a Link, Option<&'a Head>);

/// Encodes a snapshot of `users` holding every change up to `seq`, whose last
/// journal record has `link`; sealed as a backup when `backup`.
pub(crate) fn encode(
    kdf: &KdfParams,
    cipher: &Fernet,
    (seq, link, audit_head): At<'_>,
    users: &[Arc<User>],
    backup: bool,
) -> Result<String, StorageError> {
    struct Table<'a>(&'a [Arc<User>]);
    impl Serialize for Table<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|u| (&u.username, UserRecord::from(&**u))))
        }
    }
    let encoding = |e: serde_json::Error| StorageError::Io {
        context: "encoding the snapshot".into(),
        error: std::io::Error::other(e),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&Table(users)).map_err(encoding)?);
    let data = cipher.encrypt(&plain);
    let seal = Seal {
        journal_seq: seq,
        link: link.clone(),
        data_iv: token_iv(&data).unwrap_or_default(),
        backup,
        audit_head: audit_head.cloned(),
    };
    let file = SnapshotFile {
        format: FORMAT.into(),
        version: VERSION,
        kdf: kdf.clone(),
        journal_seq: seq,
        seal: Some(seal.encrypt(cipher).map_err(encoding)?),
        data: data.into(),
    };
    serde_json::to_string(&file).map_err(encoding)
}

/// Reads and decrypts the snapshot at `path`.
pub(crate) fn read(path: &Path, master: &str) -> Result<Snapshot, StorageError> {
    let raw = super::files::read(path).map_err(crate::storage::backend::io_err(format!(
        "reading {}",
        path.display()
    )))?;
    let damaged = |reason: String| StorageError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let file = parse_header(&raw).map_err(damaged)?;
    let (cipher, fingerprint) = file.kdf.keys(master).map_err(damaged)?;
    let plain = Zeroizing::new(
        cipher
            .decrypt(&file.data)
            .map_err(|_| StorageError::WrongPassword(path.display().to_string()))?,
    );
    let (link, backup, audit_head) = match file.version {
        1 => (None, false, None),
        _ => {
            let seal = check_seal(&file, &cipher).map_err(damaged)?;
            (Some(seal.link), seal.backup, seal.audit_head)
        }
    };
    Ok(Snapshot {
        version: file.version,
        kdf: file.kdf,
        cipher,
        fingerprint,
        journal_seq: file.journal_seq,
        link,
        backup,
        audit_head,
        plain,
    })
}

/// The key derivation in the clear header of the snapshot at `path`.
pub(crate) fn kdf_of(path: &Path) -> Result<KdfParams, StorageError> {
    let raw = super::files::read(path).map_err(crate::storage::backend::io_err(format!(
        "reading {}",
        path.display()
    )))?;
    parse_header(&raw)
        .map(|f| f.kdf)
        .map_err(|reason| StorageError::Damaged {
            path: path.to_owned(),
            reason,
        })
}

/// Checks a snapshot file's clear header for format and version, as start-up
/// does before decrypting anything: the fuzzing target's way in.
pub fn check_header(raw: &[u8]) -> Result<(), String> {
    parse_header(raw).map(drop)
}

fn parse_header(raw: &[u8]) -> Result<SnapshotFile<'_>, String> {
    let file: SnapshotFile =
        serde_json::from_slice(raw).map_err(|e| format!("not a users-service store ({e})"))?;
    if file.format != FORMAT || !(1..=VERSION).contains(&file.version) {
        return Err(format!(
            "unsupported format {} version {}",
            file.format, file.version
        ));
    }
    Ok(file)
}

/// The seal, once it is shown to belong to this header and data.
fn check_seal(file: &SnapshotFile, cipher: &Fernet) -> Result<Seal, String> {
    let seal = file
        .seal
        .as_deref()
        .and_then(|t| Seal::decrypt(t, cipher))
        .ok_or("its seal is missing or was altered")?;
    if seal.journal_seq != file.journal_seq {
        return Err(format!(
            "its header says journal_seq {} but it was sealed at {}",
            file.journal_seq, seal.journal_seq
        ));
    }
    if token_iv(&file.data).as_ref() != Some(&seal.data_iv) {
        return Err("its data is not the data it was sealed with".into());
    }
    Ok(seal)
}
