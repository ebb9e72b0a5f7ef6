//! The names of the files a key rotation stages beside a store (see
//! [`super::rotate`]), and whether any is there.

use super::audit;
use super::files::with_suffix;
use std::path::{Path, PathBuf};

/// The key file holding the master secret of a store that was given none.
pub(crate) fn key_path(store: &Path) -> PathBuf {
    with_suffix(store, ".key")
}

/// The rotation's marker: written first and removed last, it holds the new
/// key's salt (in clear, as the snapshot's header has it), which tells
/// whether `STORE` is already the new snapshot.
pub(crate) fn marker(store: &Path) -> PathBuf {
    with_suffix(store, ".rotation")
}

/// The staged snapshot.
pub(crate) fn staged_snapshot(store: &Path) -> PathBuf {
    with_suffix(store, ".rotating")
}

/// The other staged files, each with the file it replaces.
pub(crate) fn staged_others(store: &Path) -> [(PathBuf, PathBuf); 2] {
    let audit = audit::path_for(store);
    let key = key_path(store);
    [
        (with_suffix(&audit, ".rotating"), audit),
        (with_suffix(&key, ".rotating"), key),
    ]
}

/// Whether a rotation is staged beside `store` (under way, or interrupted).
pub(crate) fn pending(store: &Path) -> bool {
    marker(store).exists()
        || staged_snapshot(store).exists()
        || staged_others(store).iter().any(|(s, _)| s.exists())
}
