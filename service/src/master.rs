//! The master password: `USERS_SERVICE_PASSWORD`, or the file named by
//! `USERS_SERVICE_PASSWORD_FILE` (systemd credentials, container secrets), or
//! else a random secret kept in a key file beside the store, readable by its
//! owner only. Never a built-in default.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use users_protocol::Secret;

/// The key file used when no master password is given.
pub fn key_file(store: &Path) -> PathBuf {
    crate::storage::file::staged::key_path(store)
}

/// What the operator gave: the two environment variables, as read.
#[derive(Debug, Default)]
pub struct Given {
    /// `USERS_SERVICE_PASSWORD`.
    pub password: Option<Secret>,
    /// `USERS_SERVICE_PASSWORD_FILE`.
    pub file: Option<PathBuf>,
}

/// Where the master password came from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// The environment variable.
    Env,
    /// The file `USERS_SERVICE_PASSWORD_FILE` names.
    File(PathBuf),
    /// An existing key file.
    KeyFile(PathBuf),
    /// A key file created now.
    NewKeyFile(PathBuf),
}

/// Why no master password could be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The key file exists but holds nothing.
    #[error("key file {0} is empty")]
    EmptyKeyFile(PathBuf),
    /// The store exists, but neither the variable nor its key file does.
    #[error(
        "{0} exists but USERS_SERVICE_PASSWORD (or _FILE) is not set and there is no key file {1} \
         (a backup of a store that has a key file: USERS_SERVICE_PASSWORD_FILE=STORE.key)"
    )]
    NoKey(PathBuf, PathBuf),
    /// The key file could not be read or written.
    #[error("key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Both variables are set, and they might disagree.
    #[error("set USERS_SERVICE_PASSWORD or USERS_SERVICE_PASSWORD_FILE, not both")]
    Both,
    /// The password file cannot be read, or holds nothing.
    #[error("USERS_SERVICE_PASSWORD_FILE {0}: {1}")]
    File(PathBuf, String),
    /// rotate-key was given no new password, and the store has no key file
    /// to hold a generated one.
    #[error("set USERS_SERVICE_NEW_PASSWORD or USERS_SERVICE_NEW_PASSWORD_FILE to the new master password")]
    NoNew,
    /// Both new-password variables are set.
    #[error("set USERS_SERVICE_NEW_PASSWORD or USERS_SERVICE_NEW_PASSWORD_FILE, not both")]
    BothNew,
    /// The new master password is the one in use.
    #[error("the new master password is the current one")]
    SameNew,
    /// A new password for a key file begins or ends with a space.
    #[error("a master password kept in a key file cannot begin or end with spaces")]
    Spaces,
}

/// The password in a file: all of it, less one line break at the end (the
/// one an editor or `echo` adds), which is never part of a password.
fn read_password_file(path: &Path) -> Result<Secret, MasterError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| MasterError::File(path.to_owned(), e.to_string()))?,
    );
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if body.is_empty() {
        return Err(MasterError::File(
            path.to_owned(),
            "the file is empty".into(),
        ));
    }
    Ok(Secret::new(body))
}

/// The new master password for `rotate-key`: `given` holds the
/// `USERS_SERVICE_NEW_PASSWORD` variables. A store whose secret is in its key
/// file gets a fresh random one when neither is set.
pub fn resolve_new(given: Given, old: &Secret, key_file: bool) -> Result<Secret, MasterError> {
    let password = given.password.filter(|p| !p.is_empty());
    let new = match (password, given.file) {
        (Some(_), Some(_)) => return Err(MasterError::BothNew),
        (Some(p), None) => p,
        (None, Some(file)) => read_password_file(&file)?,
        (None, None) if key_file => random_secret(),
        (None, None) => return Err(MasterError::NoNew),
    };
    if new.expose() == old.expose() {
        return Err(MasterError::SameNew);
    }
    // A key file is read back without the spaces around it.
    if key_file && new.expose().trim() != new.expose() {
        return Err(MasterError::Spaces);
    }
    Ok(new)
}

/// 32 random bytes, as a key file holds them.
fn random_secret() -> Secret {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// Resolves the master password. A store without its key file and without
/// either variable is an error: a new key would not open it.
pub fn resolve(given: Given, store: &Path) -> Result<(Secret, Source), MasterError> {
    let password = given.password.filter(|p| !p.is_empty());
    match (password, given.file) {
        (Some(_), Some(_)) => return Err(MasterError::Both),
        (Some(p), None) => return Ok((p, Source::Env)),
        (None, Some(file)) => return Ok((read_password_file(&file)?, Source::File(file))),
        (None, None) => {}
    }
    let path = key_file(store);
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok((Secret::new(s.trim()), Source::KeyFile(path))),
        Ok(_) => return Err(MasterError::EmptyKeyFile(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(MasterError::Io(path, e)),
    }
    if store.exists() {
        return Err(MasterError::NoKey(store.to_owned(), path));
    }
    let secret = random_secret();
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let written = o.open(&path).and_then(|mut f| {
        f.write_all(secret.expose().as_bytes())?;
        f.sync_all()
    });
    match written {
        Ok(()) => Ok((secret, Source::NewKeyFile(path))),
        Err(e) => Err(MasterError::Io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (s, src) = resolve(
            Given {
                password: Some(Secret::from("pw")),
                file: None,
            },
            &dir.path().join("u.json"),
        )
        .unwrap();
        assert_eq!(s.expose(), "pw");
        assert_eq!(src, Source::Env);
    }

    #[test]
    fn key_file_is_created_private_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("u.json");
        let (a, src) = resolve(Given::default(), &store).unwrap();
        assert!(matches!(src, Source::NewKeyFile(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_file(&store))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&store, b"x").unwrap();
        let (b, src) = resolve(Given::default(), &store).unwrap();
        assert_eq!(a, b);
        assert!(matches!(src, Source::KeyFile(_)));
    }

    #[test]
    fn a_new_password_is_given_or_made_for_a_key_file_and_never_the_old_one() {
        let old = Secret::from("old-master");
        let given = |p: &str| Given {
            password: Some(Secret::from(p)),
            file: None,
        };
        assert_eq!(
            resolve_new(given("new-master"), &old, false)
                .unwrap()
                .expose(),
            "new-master"
        );
        assert!(matches!(
            resolve_new(given("old-master"), &old, true),
            Err(MasterError::SameNew)
        ));
        assert!(matches!(
            resolve_new(Given::default(), &old, false),
            Err(MasterError::NoNew)
        ));
        assert!(matches!(
            resolve_new(given(" padded "), &old, true),
            Err(MasterError::Spaces)
        ));
        let made = resolve_new(Given::default(), &old, true).unwrap();
        assert_eq!(made.expose().len(), 43);
        let both = Given {
            password: Some(Secret::from("a")),
            file: Some("f".into()),
        };
        assert!(matches!(
            resolve_new(both, &old, false),
            Err(MasterError::BothNew)
        ));
    }

    #[test]
    fn existing_store_without_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("u.json");
        std::fs::write(&store, b"x").unwrap();
        assert!(resolve(Given::default(), &store).is_err());
    }

    #[test]
    fn a_password_file_is_read_less_its_last_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("u.json");
        let file = dir.path().join("master");
        for (content, expected) in [
            ("s3cret\n", "s3cret"),
            ("s3cret", "s3cret"),
            ("a b\r\n", "a b"),
        ] {
            std::fs::write(&file, content).unwrap();
            let given = Given {
                password: None,
                file: Some(file.clone()),
            };
            let (s, src) = resolve(given, &store).unwrap();
            assert_eq!(s.expose(), expected);
            assert_eq!(src, Source::File(file.clone()));
        }
        assert!(!key_file(&store).exists(), "no key file is made");
        std::fs::write(&file, "\n").unwrap();
        let given = Given {
            password: None,
            file: Some(file.clone()),
        };
        assert!(matches!(resolve(given, &store), Err(MasterError::File(..))));
        let missing = Given {
            password: None,
            file: Some(dir.path().join("nope")),
        };
        assert!(matches!(
            resolve(missing, &store),
            Err(MasterError::File(..))
        ));
        let both = Given {
            password: Some(Secret::from("x")),
            file: Some(file),
        };
        assert!(matches!(resolve(both, &store), Err(MasterError::Both)));
    }
}
