//! Durable file replacement, and who owns the files made: a file of the
//! store that root makes in a directory another user owns (an operator
//! command run as root on the service's store) is given to that user, so
//! that the service can open it afterwards. Backups and exports stay
//! root's. The store's files are never opened through a symbolic link.

use crate::storage::backend::{io_err, StorageError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

/// Who a new file belongs to when root makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Whoever made it: a backup or an export, which may be written
    /// anywhere, and whose reader the operator chooses.
    Maker,
    /// The owner of its directory: the store's own files, which the
    /// service's user must be able to open.
    Store,
}

/// `path` with `suffix` added to its name: the files beside a store
/// (`STORE.journal`, `STORE.audit`, …) and the temp files.
pub(super) fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    std::path::PathBuf::from(s)
}

/// Refuses a `path` that exists: a backup or an export never overwrites,
/// and says so before any work is done.
pub(crate) fn check_new(path: &Path) -> Result<(), StorageError> {
    match path.exists() {
        true => Err(never_overwritten(
            path,
            std::io::ErrorKind::AlreadyExists.into(),
        )),
        false => Ok(()),
    }
}

fn never_overwritten(path: &Path, error: std::io::Error) -> StorageError {
    StorageError::Io {
        context: format!("{} exists; it is never overwritten", path.display()),
        error,
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new
/// file: write a temp file beside it, fsync, rename, fsync the directory.
///
/// The temp file is made new (`O_EXCL`, owner-only from its first byte): a
/// stale one, left by a crash, is removed first rather than written through,
/// since it could be a link planted to redirect the write. If anything fails
/// before the rename, the temp file is removed.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`], with the content written by `fill`: a long file is
/// streamed, never held in memory whole.
pub(super) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), StorageError> {
    let tmp = with_suffix(path, ".tmp");
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(format!("removing {}", tmp.display()))(e)),
    }
    let mut f = create_private(&tmp, Owner::Store)
        .map_err(io_err(format!("creating {}", tmp.display())))?;
    let written = fill(&mut f)
        .and_then(|()| f.sync_all())
        .map_err(io_err(format!("writing {}", tmp.display())))
        .and_then(|()| {
            drop(f);
            std::fs::rename(&tmp, path).map_err(io_err(format!("replacing {}", path.display())))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Writes `bytes` to `path`, which must not exist, and never over a file
/// that appears there meanwhile (another run of the same command): a temp
/// file of this run's own (fsync'd) is hard-linked to `path`, which fails if
/// the name is taken, then removed. For backups and exports, which no lock
/// serializes, and for the old key rotate-key keeps.
pub(crate) fn write_new(path: &Path, bytes: &[u8], owner: Owner) -> Result<(), StorageError> {
    let unique = format!(".tmp-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let tmp = with_suffix(path, &unique);
    let written = create_private(&tmp, owner)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| place_new(&tmp, path, |from, to| std::fs::hard_link(from, to)));
    let _ = std::fs::remove_file(&tmp);
    written.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => never_overwritten(path, e),
        _ => io_err(format!("writing {}", path.display()))(e),
    })?;
    sync_dir(path)
}

/// Gives the file at `tmp` the name `path` by `link`, which fails if the
/// name is taken. Where the filesystem has no hard links (FAT, some network
/// mounts), a rename instead, after a last look that the name is free.
fn place_new(
    tmp: &Path,
    path: &Path,
    link: fn(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match link(tmp, path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            if path.exists() {
                return Err(std::io::ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(tmp, path)
        }
        linked => linked,
    }
}

/// `base`, or `base-1`, `base-2`…: the first name no file has.
pub(super) fn unused_name(base: &Path) -> Result<std::path::PathBuf, StorageError> {
    (0..1000)
        .map(|n| match n {
            0 => base.to_owned(),
            n => std::path::PathBuf::from(format!("{}-{n}", base.display())),
        })
        .find(|p| !p.exists())
        .ok_or_else(|| {
            io_err(format!("naming a file like {}", base.display()))(
                std::io::ErrorKind::AlreadyExists.into(),
            )
        })
}

/// Creates a new file, readable by its owner only; fails if the name exists
/// (a symbolic link included). A file of the store is given to its
/// directory's owner if root made it there.
pub(super) fn create_private(path: &Path, owner: Owner) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    if owner == Owner::Store {
        if let Err(e) = give_to_directory_owner(&f, path) {
            drop(f);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    }
    Ok(f)
}

/// Gives `file`, just made at `path`, to the owner of its directory when
/// root owns the file and not the directory.
fn give_to_directory_owner(file: &File, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let dir = std::fs::metadata(parent_dir(path))?;
        if file.metadata()?.uid() == 0 && dir.uid() != 0 {
            std::os::unix::fs::fchown(file, Some(dir.uid()), Some(dir.gid())).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("giving it to uid {}, its directory's owner: {e}", dir.uid()),
                )
            })?;
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// Opens a file of the store with `o`, first creating it (owner-only, and
/// given to the directory's owner as above) if there is none. Only a file
/// this call creates changes owner, and no file is opened through a
/// symbolic link: whoever can write the store's directory cannot point root
/// at another file.
pub(super) fn open_store_file(path: &Path, o: &mut OpenOptions) -> std::io::Result<File> {
    match create_private(path, Owner::Store) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    open_existing(path, o)
}

/// Opens an existing file of the store with `o`, never through a symbolic
/// link.
pub(super) fn open_existing(path: &Path, o: &mut OpenOptions) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
        o.open(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::new(
                e.kind(),
                "a symbolic link, which a store's files never are: remove it",
            ),
            _ => e,
        })
    }
    #[cfg(not(unix))]
    o.open(path)
}

/// Opens an existing file to read it, never through a symbolic link: the
/// operator commands run as root, and a link planted by the service's user
/// (`STORE.journal -> /etc/shadow`) must not make root read or copy its
/// target. A link is refused with a message that says so.
pub(crate) fn open_read(path: &Path) -> std::io::Result<File> {
    open_existing(path, OpenOptions::new().read(true))
}

/// Reads a whole file, never through a symbolic link (see [`open_read`]).
pub(crate) fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_read(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a whole text file, never through a symbolic link (see [`open_read`]).
pub(crate) fn read_to_string(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    open_read(path)?.read_to_string(&mut text)?;
    Ok(text)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes sure an owner-only file of the store exists at `path`, durably.
pub(super) fn create_or_keep_private(path: &Path) -> Result<(), StorageError> {
    open_store_file(path, OpenOptions::new().write(true))
        .and_then(|f| f.sync_all())
        .map_err(io_err(format!("creating {}", path.display())))?;
    sync_dir(path)
}

/// Opens (creating it if need be) the lock file beside a store and takes an
/// exclusive lock on it, held until the returned file is dropped. The store's
/// own files are replaced by rename, so they cannot carry the lock themselves.
pub(super) fn lock(store: &Path) -> Result<File, StorageError> {
    let lock_path = with_suffix(store, ".lock");
    let f = open_store_file(&lock_path, OpenOptions::new().write(true))
        .map_err(io_err(format!("opening {}", lock_path.display())))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(StorageError::InUse(store.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(io_err(format!("locking {}", lock_path.display()))(e))
        }
    }
}

/// Fsyncs the directory holding `path`, making a rename or a creation durable.
pub(super) fn sync_dir(path: &Path) -> Result<(), StorageError> {
    let dir = parent_dir(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("syncing directory {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory with a file, `victim`, holding "keep me": what a planted
    /// link points at, which nothing may change.
    #[cfg(unix)]
    fn dir_with_victim() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep me").unwrap();
        (dir, victim)
    }

    #[test]
    #[cfg(unix)]
    fn a_stale_temp_link_is_replaced_not_followed() {
        let (dir, victim) = dir_with_victim();
        let path = dir.path().join("users.json");
        let tmp = with_suffix(&path, ".tmp");
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_new_file_is_never_written_over_one_that_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.backup");
        write_new(&path, b"first", Owner::Maker).unwrap();
        assert!(write_new(&path, b"second", Owner::Maker).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_failed_replacement_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory with something in it cannot be replaced by a file.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["taken"], "the temp file is gone");
    }

    #[test]
    #[cfg(unix)]
    fn what_root_makes_in_another_users_directory_is_theirs() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let me = std::fs::metadata(dir.path()).unwrap().uid();
        // As root (as CI runs), the directory is given to `nobody` first;
        // as anyone else, files stay theirs.
        let owner = if me == 0 { 65534 } else { me };
        if me == 0 {
            std::os::unix::fs::chown(dir.path(), Some(owner), Some(owner)).unwrap();
        }
        let store = dir.path().join("users.json");
        write_atomic(&store, b"x").unwrap();
        write_new(&with_suffix(&store, ".key.kept"), b"y", Owner::Store).unwrap();
        create_or_keep_private(&with_suffix(&store, ".journal")).unwrap();
        drop(lock(&store).unwrap());
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let meta = entry.as_ref().unwrap().metadata().unwrap();
            assert_eq!(
                (meta.uid(), meta.gid()),
                (owner, if me == 0 { owner } else { meta.gid() }),
                "{entry:?}"
            );
        }
        // Root's own directory keeps root's files.
        if me == 0 {
            let own = tempfile::tempdir().unwrap();
            let file = own.path().join("f");
            write_atomic(&file, b"z").unwrap();
            assert_eq!(std::fs::metadata(&file).unwrap().uid(), 0);
        }
    }

    #[test]
    #[cfg(unix)]
    fn a_store_file_planted_as_a_link_is_refused_and_its_target_untouched() {
        let (dir, victim) = dir_with_victim();
        let store = dir.path().join("users.json");
        for name in [".lock", ".journal", ".audit"] {
            std::os::unix::fs::symlink(&victim, with_suffix(&store, name)).unwrap();
        }
        assert!(lock(&store).is_err());
        assert!(create_or_keep_private(&with_suffix(&store, ".audit")).is_err());
        let appended = open_store_file(
            &with_suffix(&store, ".journal"),
            OpenOptions::new().append(true),
        )
        .and_then(|mut f| f.write_all(b"x"));
        let refused = appended.unwrap_err().to_string();
        assert!(refused.contains("a symbolic link"), "{refused}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    }

    #[test]
    fn without_hard_links_a_new_file_is_renamed_in_but_never_over_another() {
        let no_links = |_: &Path, _: &Path| -> std::io::Result<()> {
            Err(std::io::ErrorKind::Unsupported.into())
        };
        let dir = tempfile::tempdir().unwrap();
        let (tmp, path) = (dir.path().join("t"), dir.path().join("users.backup"));
        std::fs::write(&tmp, b"first").unwrap();
        place_new(&tmp, &path, no_links).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(!tmp.exists(), "renamed, not copied");
        std::fs::write(&tmp, b"second").unwrap();
        let taken = place_new(&tmp, &path, no_links).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }
}
