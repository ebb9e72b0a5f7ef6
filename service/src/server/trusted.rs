//! The trusted endpoint, `--trusted-endpoint ipc://PATH`: a ROUTER socket on
//! a Unix socket file, whose permissions decide who may connect. Whoever can
//! is trusted as a `--trusted-peer` is: the client address it forwards is
//! believed, and no per-peer limit counts it. On a machine where any process
//! may open a TCP connection from 127.0.0.1, an address proves nothing; a
//! file's owner, group and mode do.
//!
//! Binding it, in order:
//! - its directory must exist: it is the operator's to make, with the owner
//!   and mode it needs (systemd's `RuntimeDirectory=`), and is not created;
//! - a file already at the path is refused, unless it is a socket nothing
//!   listens on (what a killed service leaves), which is removed. libzmq
//!   would unlink whatever is there, another instance's live socket or a
//!   regular file alike, so this looks first (two services started at the
//!   same instant on one path can still both pass the look);
//! - the socket is made under umask 0177 (owner only), then given [`MODE`]:
//!   the service's user and the file's group may connect, no one else, not
//!   even between the bind and the chmod;
//! - when the service stops, the file is removed if it is still the one it
//!   made.

use rustix::fs::Mode;
use std::fmt;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket file's mode: its owner (the service's user) and its group (the
/// service's, or the directory's if that is set-group-ID) may connect.
pub(crate) const MODE: u32 = 0o660;

/// The longest path a Unix socket address holds (`sun_path`, less its NUL).
const MAX_PATH: usize = 107;

/// `--trusted-endpoint`: the path of the trusted socket's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedEndpoint {
    path: PathBuf,
}

impl fmt::Display for TrustedEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ipc://{}", self.path.display())
    }
}

/// Why the trusted endpoint could not be bound. Each message names the flag.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The directory of the socket file is not there.
    #[error("--trusted-endpoint {0}: the directory {1} does not exist (make it, with the owner and mode the socket needs)")]
    NoDirectory(TrustedEndpoint, PathBuf),
    /// A socket at the path answers: another process listens on it.
    #[error("--trusted-endpoint {0}: another process listens on it (each instance needs a path of its own)")]
    InUse(TrustedEndpoint),
    /// Something that is not a socket is at the path; it is left alone.
    #[error(
        "--trusted-endpoint {0}: there is a file there that is not a socket; it was left alone"
    )]
    NotASocket(TrustedEndpoint),
    /// Looking at the path, or setting the file's mode, failed.
    #[error("--trusted-endpoint {endpoint}: {doing}")]
    Io {
        endpoint: TrustedEndpoint,
        doing: &'static str,
        source: io::Error,
    },
    /// ZeroMQ would not bind.
    #[error("--trusted-endpoint {0}: cannot listen")]
    Zmq(TrustedEndpoint, #[source] zmq::Error),
}

impl TrustedEndpoint {
    /// Parses `ipc://PATH`. Anything else is refused: a TCP endpoint (an
    /// address is what this replaces), an abstract socket (no file, so no
    /// permissions) and a wildcard (a path no one can give the bridge).
    pub(crate) fn parse(s: &str) -> Result<TrustedEndpoint, String> {
        let Some(path) = s.strip_prefix("ipc://") else {
            return Err(format!(
                "'{s}': use ipc://PATH; the socket file's permissions decide who is trusted, \
                 which no TCP address can (see --trusted-peer)"
            ));
        };
        if path.is_empty() || path.starts_with('@') || path.starts_with('*') {
            return Err(format!(
                "'{s}': name the socket file, e.g. ipc:///run/users-service/bridge.sock"
            ));
        }
        if path.len() > MAX_PATH {
            return Err(format!(
                "'{s}': a socket's path has at most {MAX_PATH} bytes"
            ));
        }
        Ok(TrustedEndpoint { path: path.into() })
    }

    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory the socket file is in.
    fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// Binds a ROUTER socket here; see the module documentation.
    pub fn bind(&self, ctx: &zmq::Context) -> Result<TrustedSocket, BindError> {
        let dir = self.directory();
        if !dir.is_dir() {
            return Err(BindError::NoDirectory(self.clone(), dir.to_owned()));
        }
        self.clear_stale()?;
        let socket = ctx
            .socket(zmq::ROUTER)
            .map_err(|e| BindError::Zmq(self.clone(), e))?;
        // Owner only until the chmod below: others never get in.
        let umask = rustix::process::umask(Mode::from_raw_mode(0o177));
        let bound = socket.bind(&self.to_string());
        rustix::process::umask(umask);
        bound.map_err(|e| BindError::Zmq(self.clone(), e))?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(MODE))
            .map_err(|e| self.io("setting the socket's mode", e))?;
        let made = std::fs::symlink_metadata(&self.path)
            .map_err(|e| self.io("reading the socket's file", e))?;
        warn_if_others_may_replace(dir);
        Ok(TrustedSocket {
            socket,
            endpoint: self.clone(),
            made: (made.dev(), made.ino()),
        })
    }

    /// Clears the way for the socket: nothing is at the path, or a socket
    /// nothing listens on, which is removed. Anything else is refused.
    fn clear_stale(&self) -> Result<(), BindError> {
        let meta = match std::fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io("looking at the path", e)),
            Ok(m) => m,
        };
        if !meta.file_type().is_socket() {
            return Err(BindError::NotASocket(self.clone()));
        }
        match std::os::unix::net::UnixStream::connect(&self.path) {
            Ok(_) => Err(BindError::InUse(self.clone())),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                tracing::info!(endpoint = %self, "removing the socket a stopped service left");
                match std::fs::remove_file(&self.path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        Err(self.io("removing the socket a stopped service left", e))
                    }
                    _ => Ok(()),
                }
            }
            Err(e) => Err(self.io("checking whether anything listens on it", e)),
        }
    }

    fn io(&self, doing: &'static str, source: io::Error) -> BindError {
        BindError::Io {
            endpoint: self.clone(),
            doing,
            source,
        }
    }
}

/// Warns when users other than the directory's owner may remove or replace
/// the socket file: a world-writable directory without the sticky bit.
fn warn_if_others_may_replace(dir: &Path) {
    let mode = std::fs::metadata(dir).map_or(0, |m| m.mode());
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        tracing::warn!(
            directory = %dir.display(),
            "any user may replace the trusted socket's file in this directory; use one only the service can write to"
        );
    }
}

/// The trusted endpoint's bound socket. Dropping it removes the socket file,
/// if it is still the one bound.
pub struct TrustedSocket {
    socket: zmq::Socket,
    endpoint: TrustedEndpoint,
    /// The file's device and inode, as bound.
    made: (u64, u64),
}

impl TrustedSocket {
    /// The ROUTER socket.
    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.socket
    }
}

impl Drop for TrustedSocket {
    fn drop(&mut self) {
        let path = self.endpoint.path();
        let ours = std::fs::symlink_metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == self.made);
        if ours {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!(endpoint = %self.endpoint, error = %e, "cannot remove the trusted socket's file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(dir: &Path, name: &str) -> TrustedEndpoint {
        TrustedEndpoint::parse(&format!("ipc://{}", dir.join(name).display())).unwrap()
    }

    #[test]
    fn only_a_named_ipc_socket_is_accepted() {
        for bad in [
            "tcp://127.0.0.1:5557",
            "inproc://x",
            "ipc://",
            "ipc://@abstract",
            "ipc://*",
            "/run/x.sock",
        ] {
            let e = TrustedEndpoint::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
        let long = format!("ipc:///{}", "x".repeat(MAX_PATH));
        assert!(TrustedEndpoint::parse(&long).is_err());
        let ok = TrustedEndpoint::parse("ipc:///run/users-service/bridge.sock").unwrap();
        assert_eq!(ok.path(), Path::new("/run/users-service/bridge.sock"));
        assert_eq!(ok.to_string(), "ipc:///run/users-service/bridge.sock");
        let here = TrustedEndpoint::parse("ipc://bridge.sock").unwrap();
        assert_eq!(here.directory(), Path::new("."));
    }

    #[test]
    fn the_socket_is_owner_and_group_only_and_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let e = endpoint(dir.path(), "bridge.sock");
        let ctx = zmq::Context::new();
        let bound = e.bind(&ctx).unwrap();
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o7777, MODE);
        // A second one on the same path is refused, and the first keeps it.
        assert!(matches!(e.bind(&ctx), Err(BindError::InUse(_))));
        drop(bound);
        assert!(!e.path().exists());
    }

    #[test]
    fn a_stale_socket_is_replaced_and_anything_else_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let e = endpoint(dir.path(), "bridge.sock");
        // A socket nothing listens on, as a killed service leaves it.
        drop(std::os::unix::net::UnixListener::bind(e.path()).unwrap());
        let ctx = zmq::Context::new();
        drop(e.bind(&ctx).unwrap());

        std::fs::write(e.path(), "not a socket").unwrap();
        let refused = e.bind(&ctx).err().unwrap().to_string();
        assert!(
            refused.starts_with("--trusted-endpoint ipc://"),
            "{refused}"
        );
        assert_eq!(std::fs::read_to_string(e.path()).unwrap(), "not a socket");

        let missing = endpoint(&dir.path().join("missing"), "bridge.sock");
        let refused = missing.bind(&ctx).err().unwrap().to_string();
        assert!(refused.contains("does not exist"), "{refused}");
    }
}
