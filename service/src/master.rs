//! The master password: `USERS_SERVICE_PASSWORD`, or else a random secret kept in a
//! key file beside the store, readable by its owner only. Never a built-in default.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use users_protocol::Secret;

/// The key file used when no master password is given.
pub fn key_file(store: &Path) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".key");
    PathBuf::from(s)
}

/// Where the master password came from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// The environment variable.
    Env,
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
    #[error("{0} exists but USERS_SERVICE_PASSWORD is not set and there is no key file {1}")]
    NoKey(PathBuf, PathBuf),
    /// The key file could not be read or written.
    #[error("key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Resolves the master password. A store without its key file and without the
/// variable is an error: a new key would not open it.
pub fn resolve(env: Option<String>, store: &Path) -> Result<(Secret, Source), MasterError> {
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return Ok((Secret::new(p), Source::Env));
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
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    let secret = Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
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
        let (s, src) = resolve(Some("pw".into()), &dir.path().join("u.json")).unwrap();
        assert_eq!(s.expose(), "pw");
        assert_eq!(src, Source::Env);
    }

    #[test]
    fn key_file_is_created_private_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("u.json");
        let (a, src) = resolve(None, &store).unwrap();
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
        let (b, src) = resolve(None, &store).unwrap();
        assert_eq!(a, b);
        assert!(matches!(src, Source::KeyFile(_)));
    }

    #[test]
    fn existing_store_without_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("u.json");
        std::fs::write(&store, b"x").unwrap();
        assert!(resolve(None, &store).is_err());
    }
}
