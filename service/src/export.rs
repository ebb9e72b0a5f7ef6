//! `users-service export` and `import`: users in the original service's
//! "Data Storage" structure, an object keyed by username whose records carry
//! hex `password_hash` and `password_salt`, plus `password_iterations` (and
//! the stable `id`), so that imported users log in with their old passwords.
//!
//! An export is sealed under the master password unless asked for in clear
//! (`--plaintext`): a small clear header with the key derivation, like the
//! store's, and one Fernet token. Only a sealed export carries two-factor
//! secrets; a clear one leaves them out, and those accounts set it up again.

use crate::actions::MAX_METADATA;
use crate::audit::Event;
use crate::auth::password;
use crate::clock::unix_secs;
use crate::migrate::{open_batch, StoreAt};
use crate::model::record::UserRecord;
use crate::model::{User, UserId};
use crate::storage::backend::{Change, StorageError};
use crate::storage::crypto::KdfParams;
use crate::storage::file::inspect::inspect;
use crate::storage::file::FileOptions;
use crate::storage::postgres::store::PgStore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use users_protocol::{validate, AuditKind};
use zeroize::Zeroizing;

/// The `format` of a sealed export.
pub(crate) const FORMAT: &str = "users-service-export";

#[derive(Serialize, Deserialize)]
struct Sealed {
    format: String,
    version: u32,
    kdf: KdfParams,
    data: String,
}

/// How many times [`export`] and [`import`] call their `step`.
pub const EXPORT_STAGES: u64 = 2;
pub const IMPORT_STAGES: u64 = 4;

/// Why an export or an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Io(String),
    /// The file is not an export this service reads.
    #[error("{0} is not a users export: {1}")]
    NotAnExport(String, String),
    /// Some users cannot be imported; nothing was.
    #[error("nothing was imported: {0}")]
    Refused(String),
}

/// Writes every user of `from` to `dest` (which must not exist); returns how many.
pub fn export(
    from: &StoreAt,
    dest: &Path,
    master: &str,
    opts: &FileOptions,
    plaintext: bool,
    step: &mut dyn FnMut(&str),
) -> Result<usize, ExportError> {
    crate::storage::file::check_new(dest)?;
    step("reading the store");
    let (users, kdf, cipher) = match from {
        StoreAt::File(path) => {
            let i = inspect(path, master)?;
            (
                i.users.into_iter().map(Arc::new).collect::<Vec<_>>(),
                i.kdf,
                i.cipher,
            )
        }
        StoreAt::Database(url) => {
            let opened = PgStore::open(url, master, opts.kdf_iterations, usize::MAX)?;
            let kdf = KdfParams::generate(opts.kdf_iterations, &mut rand::rng());
            let cipher = kdf.cipher(master).map_err(ExportError::Io)?;
            (opened.users.all(), kdf, cipher)
        }
    };
    step("writing the export");
    let records: BTreeMap<&str, UserRecord> = users
        .iter()
        .map(|u| {
            let mut r = UserRecord::from(&**u);
            if plaintext {
                r.totp = None;
            }
            (u.username.as_str(), r)
        })
        .collect();
    let json = Zeroizing::new(
        serde_json::to_vec_pretty(&records).map_err(|e| ExportError::Io(e.to_string()))?,
    );
    let bytes = if plaintext {
        json.to_vec()
    } else {
        let sealed = Sealed {
            format: FORMAT.into(),
            version: 1,
            kdf,
            data: cipher.encrypt(&json),
        };
        serde_json::to_vec(&sealed).map_err(|e| ExportError::Io(e.to_string()))?
    };
    crate::storage::file::write_new(dest, &bytes, crate::storage::file::Owner::Maker)?;
    Ok(records.len())
}

/// Most PBKDF2 iterations an imported hash may ask for: each login with it
/// costs that many, so a file cannot make logins a way to stall the service.
pub(crate) const MAX_IMPORT_ITERATIONS: u32 = 10_000_000;

/// Reads an export, sealed (opened with `master`) or in clear, of at most
/// `max_bytes`.
fn read(file: &Path, master: &str, max_bytes: u64) -> Result<Vec<UserRecord>, ExportError> {
    let name = file.display().to_string();
    // Read up to one byte past the limit, whatever the file claims to be
    // (a pipe, a device, a file still growing).
    let mut bytes = Zeroizing::new(Vec::new());
    crate::storage::file::files::open_read(file)
        .and_then(|f| f.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| ExportError::Io(format!("reading {name}: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(ExportError::NotAnExport(
            name,
            format!("it has more than --max-bytes {max_bytes} bytes"),
        ));
    }
    let plain = match serde_json::from_slice::<Sealed>(&bytes) {
        Ok(s) if s.format == FORMAT => {
            if s.kdf.iterations > MAX_IMPORT_ITERATIONS {
                return Err(ExportError::NotAnExport(
                    name,
                    format!(
                        "its key derivation asks for more than {MAX_IMPORT_ITERATIONS} iterations"
                    ),
                ));
            }
            let cipher = s
                .kdf
                .cipher(master)
                .map_err(|e| ExportError::NotAnExport(name.clone(), e))?;
            Zeroizing::new(cipher.decrypt(&s.data).map_err(|_| {
                ExportError::NotAnExport(
                    name.clone(),
                    "the master password does not open it".into(),
                )
            })?)
        }
        _ => bytes,
    };
    let Entries(entries) = serde_json::from_slice(&plain)
        .map_err(|e| ExportError::NotAnExport(name.clone(), e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    let mut records = Vec::with_capacity(entries.len());
    for (key, r) in entries {
        if !seen.insert(key.clone()) {
            return Err(ExportError::Refused(format!(
                "'{key}' is in the file twice"
            )));
        }
        if key != r.username {
            return Err(ExportError::Refused(format!(
                "the record under '{key}' is named '{}'",
                r.username
            )));
        }
        records.push(r);
    }
    Ok(records)
}

/// An object's entries in file order, a key given twice kept twice (a map
/// would keep only the last, and drop a user without a word).
struct Entries(Vec<(String, UserRecord)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("users keyed by username")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Entries, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// What the service would refuse in a record, field by field, before it
/// becomes a user: the rules of create_user and update_user, and password
/// material the service could use.
fn check_record(r: &UserRecord) -> Result<(), String> {
    validate::username(&r.username).map_err(|e| e.message)?;
    validate::email(&r.email).map_err(|e| e.message)?;
    for (field, value) in r.profile.iter() {
        validate::profile_field(field, value).map_err(|e| e.message)?;
    }
    let metadata = serde_json::to_vec(&r.metadata).map_or(usize::MAX, |m| m.len());
    if metadata > MAX_METADATA {
        return Err(format!(
            "metadata must be at most {MAX_METADATA} bytes of JSON"
        ));
    }
    let hex_len = |h: &str| hex::decode(h).map(|b| b.len()).ok();
    // Empty: an account without a password, which signs in with a passkey.
    match hex_len(&r.password_hash) {
        Some(password::HASH_LEN) => {}
        Some(0) if !r.passkeys.is_empty() => {}
        _ => {
            return Err(format!(
                "password_hash must be {} bytes, in hex (or empty, for an account with a passkey)",
                password::HASH_LEN
            ))
        }
    }
    if !matches!(hex_len(&r.password_salt), Some(8..=64)) {
        return Err("password_salt must be 8 to 64 bytes, in hex".into());
    }
    let times = [
        Some(&r.created_at),
        Some(&r.updated_at),
        r.last_login.as_ref(),
    ];
    if times.into_iter().flatten().any(|t| t.len() > 64) {
        return Err("created_at, updated_at and last_login must be times (RFC 3339)".into());
    }
    if let Some(totp) = &r.totp {
        if totp.secret.len() > 64 || totp.recovery.len() > crate::model::totp::RECOVERY_CODES {
            return Err("totp is not two-factor state this service writes".into());
        }
    }
    if !(1..=MAX_IMPORT_ITERATIONS).contains(&r.password_iterations) {
        return Err(format!(
            "password_iterations must be 1 to {MAX_IMPORT_ITERATIONS}"
        ));
    }
    Ok(())
}

/// Adds the users of `file` to the store at `to`; returns how many. Every
/// user is checked first: a username or email taken (in the store or twice
/// in the file), or a record the service would refuse, refuses all.
pub fn import(
    to: &StoreAt,
    file: &Path,
    master: &str,
    opts: &FileOptions,
    max_bytes: u64,
    step: &mut dyn FnMut(&str),
) -> Result<usize, ExportError> {
    step("reading the export");
    let records = read(file, master, max_bytes)?;
    // Each record on its own first: on PostgreSQL, the time between opening
    // the batch and committing it holds every instance's writes.
    step("checking every user");
    let mut problems = Vec::new();
    let mut users = Vec::with_capacity(records.len());
    for r in records {
        let name = r.username.clone();
        let user = check_record(&r).and_then(|()| {
            User::try_from(r.upgrade(|| UserId::random(&mut rand::rng())))
                .map_err(|e| e.to_string())
        });
        match user {
            Ok(u) => users.push(u),
            Err(why) => problems.push(format!("'{name}': {why}")),
        }
    }
    if !problems.is_empty() {
        problems.truncate(20);
        return Err(ExportError::Refused(problems.join("; ")));
    }
    step("opening the store");
    let (mut backend, mut table) = open_batch(to, master, opts)?;
    for u in users {
        let name = u.username.clone();
        if table.get(&u.username).is_some() {
            problems.push(format!("'{name}': the username is taken"));
        } else if table.get_by_email(&u.email).is_some() {
            problems.push(format!("'{name}': the email is taken"));
        } else if table.get_by_id(u.id).is_some() {
            problems.push(format!("'{name}': its id is another user's"));
        } else {
            table.put(u);
        }
    }
    if !problems.is_empty() {
        let _ = backend.commit_batch(&[], &[], &mut []);
        problems.truncate(20);
        return Err(ExportError::Refused(problems.join("; ")));
    }
    step("writing the users");
    let changes = table.take_changes();
    let now = unix_secs(SystemTime::now());
    let from = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut audit: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Put(u) => Some(
                Event::new(AuditKind::AccountCreated, None, u.id)
                    .detail(format!("imported from {from}"))
                    .record(now, |_| Some(u.username.clone())),
            ),
            Change::Delete(_) => None,
        })
        .collect();
    backend.commit_batch(&changes, &[], &mut audit)?;
    backend.close()?;
    Ok(changes.len())
}
