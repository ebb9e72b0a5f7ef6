//! The snapshot and its journal, bound: files from different moments, edited
//! headers, gaps and repeats are refused, and the files left as they were.

use super::tests::{alice_and_bob_in_the_journal, opts, put, user};
use super::*;

/// The snapshot's and the journal's bytes.
fn files_of(path: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(path).unwrap(),
        std::fs::read(journal::path_for(path)).unwrap(),
    )
}

fn assert_refused_and_untouched(path: &Path, what: &str) {
    let before = files_of(path);
    let err = FileStore::open(path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::Damaged { .. }), "{what}: {err}");
    assert_eq!(
        files_of(path),
        before,
        "{what}: the files are left as they were"
    );
}

#[test]
fn an_old_snapshot_restored_beside_a_newer_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    let mallory = user("mallory");
    o.store.commit(&[put(&mallory)]).unwrap();
    o.store.compact_now(vec![Arc::clone(&mallory)]).unwrap();
    let old_snapshot = std::fs::read(&path).unwrap();
    // Mallory is suspended, the snapshot moves on, and one more change follows.
    let suspended = Arc::new(User {
        status: users_protocol::UserStatus::Suspended,
        ..(*mallory).clone()
    });
    o.store.commit(&[put(&suspended)]).unwrap();
    o.store.compact_now(vec![suspended]).unwrap();
    o.store.commit(&[put(&user("carol"))]).unwrap();
    drop(o);
    std::fs::write(&path, &old_snapshot).unwrap();
    assert_refused_and_untouched(&path, "a gap after the restored snapshot");
}

#[test]
fn an_edited_journal_seq_in_the_clear_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put(&user("alice"))]).unwrap();
    drop(o);
    let mut header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    header["journal_seq"] = serde_json::json!(1);
    std::fs::write(&path, serde_json::to_vec(&header).unwrap()).unwrap();
    assert_refused_and_untouched(&path, "journal_seq moved past a record");
}

#[test]
fn a_journal_from_another_timeline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    drop(o);
    let fork = tempfile::tempdir().unwrap();
    let fork_path = fork.path().join("users.json");
    std::fs::copy(&path, &fork_path).unwrap();
    std::fs::copy(journal::path_for(&path), journal::path_for(&fork_path)).unwrap();
    // Both copies go on from the same snapshot, each with changes of its own.
    for (p, name) in [(&path, "here"), (&fork_path, "there")] {
        let mut o = FileStore::open(p, "pw", &opts()).unwrap();
        o.store.commit(&[put(&user(name))]).unwrap();
        o.store.commit(&[put(&user(&format!("{name}2")))]).unwrap();
        if name == "here" {
            o.store
                .compact_now(vec![user("here")])
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // This snapshot holds record 2 of its own timeline; the other journal's
    // record 3 would follow it by number alone.
    let mut o = FileStore::open(&fork_path, "pw", &opts()).unwrap();
    o.store.commit(&[put(&user("there3"))]).unwrap();
    drop(o);
    std::fs::copy(journal::path_for(&fork_path), journal::path_for(&path)).unwrap();
    assert_refused_and_untouched(&path, "another timeline's journal");
}

#[test]
fn a_header_changed_to_version_1_does_not_skip_the_seal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put(&user("alice"))]).unwrap();
    o.store.compact_now(vec![user("alice")]).unwrap();
    o.store.commit(&[put(&user("bob"))]).unwrap();
    drop(o);
    let mut header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    header["version"] = serde_json::json!(1);
    header.as_object_mut().unwrap().remove("seal");
    std::fs::write(&path, serde_json::to_vec(&header).unwrap()).unwrap();
    assert_refused_and_untouched(&path, "a version-2 snapshot that says version 1");
}

#[test]
fn a_missing_journal_is_damage_not_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put(&user("alice"))]).unwrap();
    drop(o);
    std::fs::remove_file(journal::path_for(&path)).unwrap();
    let err = FileStore::open(&path, "pw", &opts()).err().unwrap();
    assert!(
        matches!(err, StorageError::Io { .. } | StorageError::Damaged { .. }),
        "{err}"
    );
    assert!(
        !journal::path_for(&path).exists(),
        "nothing is made up in its place"
    );
}

#[test]
fn a_creation_cut_short_after_the_journal_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(journal::path_for(&path), b"").unwrap();
    assert!(FileStore::open(&path, "pw", &opts()).unwrap().created);
}

#[test]
fn a_repeated_record_is_refused() {
    let (_dir, path, jp, bytes) = alice_and_bob_in_the_journal();
    let first_line_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut twice = bytes[..first_line_end].to_vec();
    twice.extend_from_slice(&bytes);
    std::fs::write(&jp, &twice).unwrap();
    assert_refused_and_untouched(&path, "record 1 twice");
}
