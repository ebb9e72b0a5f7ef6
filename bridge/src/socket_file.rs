//! `--listen-unix PATH`: the Unix socket a reverse proxy on the same machine
//! connects through. Whoever can connect to it is believed about the client's
//! address (see [`crate::client_ip`]), so the file's owner, group and mode
//! decide who is trusted, as the service's `--trusted-endpoint` does.
//!
//! Binding it, in order:
//! - its directory must exist: it is the operator's to make, with the owner
//!   and mode it needs (systemd's `RuntimeDirectory=`), and is not created;
//! - a file already at the path is refused, unless it is a socket nothing
//!   listens on (what a killed bridge leaves), which is removed; a live
//!   socket (another bridge) or any other file stops the start;
//! - the socket is made under umask 0177 (owner only), then given [`MODE`]:
//!   the bridge's user and the file's group may connect, no one else, not
//!   even between the bind and the chmod;
//! - when the bridge stops, the file is removed if it is still the one it
//!   made.

use rustix::fs::Mode;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket file's mode: its owner (the bridge's user) and its group (the
/// bridge's, or the directory's if that is set-group-ID) may connect.
pub(crate) const MODE: u32 = 0o660;

/// Why `--listen-unix` could not be bound. Each message names the flag.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The directory of the socket file is not there.
    #[error("--listen-unix {0}: the directory {1} does not exist (make it, with the owner and mode the socket needs)")]
    NoDirectory(String, String),
    /// A socket at the path answers: another process listens on it.
    #[error(
        "--listen-unix {0}: another process listens on it (each bridge needs a path of its own)"
    )]
    InUse(String),
    /// Something that is not a socket is at the path; it is left alone.
    #[error("--listen-unix {0}: there is a file there that is not a socket; it was left alone")]
    NotASocket(String),
    /// Looking at the path, binding, or setting the file's mode failed.
    #[error("--listen-unix {path}: {doing}")]
    Io {
        path: String,
        doing: &'static str,
        source: io::Error,
    },
}

/// The bound `--listen-unix` socket. Dropping it removes the socket file, if
/// it is still the one bound.
pub struct UnixSocket {
    listener: tokio::net::UnixListener,
    path: PathBuf,
    /// The file's device and inode, as bound.
    made: (u64, u64),
}

impl UnixSocket {
    /// Binds a listening socket at `path`; see the module documentation.
    /// Needs a Tokio runtime.
    pub fn bind(path: &Path) -> Result<UnixSocket, BindError> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            let (path, dir) = (shown(path), shown(dir));
            return Err(BindError::NoDirectory(path, dir));
        }
        clear_stale(path)?;
        // Owner only until the chmod below: others never get in.
        let umask = rustix::process::umask(Mode::from_raw_mode(0o177));
        let bound = std::os::unix::net::UnixListener::bind(path);
        rustix::process::umask(umask);
        let std_listener = bound.map_err(|e| io_error(path, "cannot listen", e))?;
        // From here on, dropping `socket` removes the file.
        let made = std::fs::symlink_metadata(path)
            .map_err(|e| io_error(path, "reading the socket's file", e))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| io_error(path, "cannot listen", e))?;
        let listener = tokio::net::UnixListener::from_std(std_listener)
            .map_err(|e| io_error(path, "cannot listen", e))?;
        let socket = UnixSocket {
            listener,
            path: path.to_owned(),
            made: (made.dev(), made.ino()),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE))
            .map_err(|e| io_error(path, "setting the socket's mode", e))?;
        warn_if_others_may_replace(dir);
        Ok(socket)
    }

    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The listening socket.
    pub(crate) fn listener(&self) -> &tokio::net::UnixListener {
        &self.listener
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.made);
        if ours {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove the --listen-unix socket's file");
            }
        }
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn io_error(path: &Path, doing: &'static str, source: io::Error) -> BindError {
    BindError::Io {
        path: shown(path),
        doing,
        source,
    }
}

/// Clears the way for the socket: nothing is at the path, or a socket
/// nothing listens on, which is removed. Anything else is refused.
fn clear_stale(path: &Path) -> Result<(), BindError> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path, "looking at the path", e)),
        Ok(m) => m,
    };
    if !meta.file_type().is_socket() {
        return Err(BindError::NotASocket(shown(path)));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(BindError::InUse(shown(path))),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(path = %path.display(), "removing the socket a stopped bridge left");
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(
                    path,
                    "removing the socket a stopped bridge left",
                    e,
                )),
                _ => Ok(()),
            }
        }
        Err(e) => Err(io_error(path, "checking whether anything listens on it", e)),
    }
}

/// Warns when users other than the directory's owner may remove or replace
/// the socket file: a world-writable directory without the sticky bit.
fn warn_if_others_may_replace(dir: &Path) {
    let mode = std::fs::metadata(dir).map_or(0, |m| m.mode());
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        tracing::warn!(
            directory = %dir.display(),
            "any user may replace the --listen-unix socket's file in this directory; use one only the bridge can write to"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_socket_is_owner_and_group_only_and_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("http.sock");
        let bound = UnixSocket::bind(&path).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o7777, MODE);
        // A second one on the same path is refused, and the first keeps it.
        assert!(matches!(UnixSocket::bind(&path), Err(BindError::InUse(_))));
        assert!(path.exists());
        drop(bound);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_anything_else_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("http.sock");
        // A socket nothing listens on, as a killed bridge leaves it.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        drop(UnixSocket::bind(&path).unwrap());

        std::fs::write(&path, "not a socket").unwrap();
        let refused = UnixSocket::bind(&path).err().unwrap().to_string();
        assert!(refused.starts_with("--listen-unix "), "{refused}");
        assert!(refused.contains("not a socket"), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");

        let missing = dir.path().join("missing/http.sock");
        let refused = UnixSocket::bind(&missing).err().unwrap().to_string();
        assert!(refused.contains("does not exist"), "{refused}");
    }
}
