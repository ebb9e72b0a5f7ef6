use super::*;
use crate::storage::backend::Backend;
use crate::storage::file::inspect::inspect;
use crate::storage::file::tests::{opts, put, user};
use crate::storage::file::{audit, FileStore};
use std::path::PathBuf;

/// A store under "old" with a user in its snapshot, one in its journal
/// and an audit line.
fn store_with_journal(dir: &Path) -> PathBuf {
    let path = dir.join("users.json");
    let mut store = FileStore::open(&path, "old", &opts()).unwrap().store;
    let snap = user("snap");
    store.commit(&[put(&snap)]).unwrap();
    store.compact_now(vec![snap]).unwrap();
    store.commit(&[put(&user("journal"))]).unwrap();
    let now = unix_secs(SystemTime::now());
    let event = Event::operator(users_protocol::AuditKind::StoreRestored, "");
    store
        .commit_batch(&[], &[], &mut [event.record(now, |_| None)])
        .unwrap();
    path
}

fn names(path: &Path, master: &str) -> Vec<String> {
    let opened = FileStore::open(path, master, &opts()).unwrap();
    let mut names: Vec<_> = opened.users.into_iter().map(|u| u.username).collect();
    names.sort();
    names
}

#[test]
fn a_rotation_cut_short_after_its_commit_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, staged) = staged_store(dir.path());
    commit(&path).unwrap();
    assert!(pending(&path));
    // The journal under the old key is still there: opening empties it.
    assert!(std::fs::metadata(journal::path_for(&path)).unwrap().len() > 0);
    assert!(matches!(
        FileStore::open(&path, "old", &opts()),
        Err(StorageError::WrongPassword(_))
    ));
    assert!(!pending(&path));
    assert_eq!(std::fs::read_to_string(key_path(&path)).unwrap(), "new");
    let kept = staged.old_key_kept.unwrap();
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "old");
    assert_eq!(names(&path, "new"), ["journal", "snap"]);
    let i = inspect(&path, "new").unwrap();
    let events =
        super::super::inspect::audit_events(&path, i.cipher, i.audit_head.as_ref()).unwrap();
    assert_eq!(events, 2, "the store's event and the rotation's");
}

#[test]
fn a_rotation_cut_short_before_its_commit_is_undone_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = staged_store(dir.path());
    assert!(pending(&path));
    assert!(inspect(&path, "old").is_err(), "verify waits for it");
    assert!(matches!(
        FileStore::open(&path, "new", &opts()),
        Err(StorageError::WrongPassword(_))
    ));
    assert!(!pending(&path));
    assert_eq!(std::fs::read_to_string(key_path(&path)).unwrap(), "old");
    assert_eq!(names(&path, "old"), ["journal", "snap"]);
}

#[test]
fn staged_files_without_a_marker_or_a_commit_never_empty_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = staged_store(dir.path());
    // The staged snapshot deleted by hand: not committed all the same.
    std::fs::remove_file(staged_snapshot(&path)).unwrap();
    assert_eq!(recover_if_idle(&path).unwrap(), Recovered::RolledBack);
    assert_eq!(std::fs::read_to_string(key_path(&path)).unwrap(), "old");
    assert_eq!(names(&path, "old"), ["journal", "snap"]);
    // Leftovers with no marker at all (copied in, or a lost rename).
    for (staged, _) in staged_others(&path) {
        std::fs::write(staged, "leftover").unwrap();
    }
    assert_eq!(recover_if_idle(&path).unwrap(), Recovered::Nothing);
    assert!(!pending(&path));
    assert_eq!(std::fs::read_to_string(key_path(&path)).unwrap(), "old");
    assert_eq!(names(&path, "old"), ["journal", "snap"]);
}

#[test]
fn two_rotations_in_one_second_keep_both_old_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_with_journal(dir.path());
    std::fs::write(key_path(&path), "old").unwrap();
    let first = rotate(&path, "old", "k1", true, 1000, &mut |_| {}).unwrap();
    let second = rotate(&path, "k1", "k2", true, 1000, &mut |_| {}).unwrap();
    let (a, b) = (first.old_key_kept.unwrap(), second.old_key_kept.unwrap());
    assert_ne!(a, b);
    assert_eq!(std::fs::read_to_string(a).unwrap(), "old");
    assert_eq!(std::fs::read_to_string(b).unwrap(), "k1");
    assert_eq!(names(&path, "k2"), ["journal", "snap"]);
}

#[test]
fn a_rotation_that_fails_before_its_commit_is_undone_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_with_journal(dir.path());
    let salt = snapshot::kdf_of(&path).unwrap().salt;
    // A damaged audit line stops the rotation after the snapshot is staged.
    std::fs::write(audit::path_for(&path), "not a token\n").unwrap();
    assert!(rotate(&path, "old", "new", false, 1000, &mut |_| {}).is_err());
    assert!(!pending(&path), "nothing is left staged");
    assert_eq!(snapshot::kdf_of(&path).unwrap().salt, salt);
}

/// A store with a key file, whose rotation from "old" to "new" is
/// staged and not committed.
fn staged_store(dir: &Path) -> (PathBuf, Rotated) {
    let path = store_with_journal(dir);
    std::fs::write(key_path(&path), "old").unwrap();
    let _lock = files::lock(&path).unwrap();
    let kdf = begin(&path);
    let current = inspect_locked(&path, "old").unwrap();
    let staged = stage(&path, current, "new", true, &kdf, &mut |_| {}).unwrap();
    (path, staged)
}

fn begin(path: &Path) -> KdfParams {
    let kdf = KdfParams::generate(1000, &mut rand::rng());
    files::write_atomic(&marker(path), kdf.salt.as_bytes()).unwrap();
    kdf
}
