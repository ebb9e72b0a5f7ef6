use super::*;
use crate::model::tests::user as new_user;

pub(super) fn opts() -> FileOptions {
    FileOptions {
        kdf_iterations: 1000,
        compact_after: 1000,
        audit_retention: crate::audit::DEFAULT_RETENTION,
    }
}

pub(super) fn user(name: &str) -> Arc<User> {
    Arc::new(new_user(name, &format!("{name}@example.com")))
}

pub(super) fn put(u: &Arc<User>) -> Change {
    Change::Put(Arc::clone(u))
}

fn names(users: &[User]) -> Vec<String> {
    let mut n: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
    n.sort();
    n
}

#[test]
fn creates_then_replays_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert!(o.created);
    let (alice, bob) = (user("alice"), user("bob"));
    o.store.commit(&[put(&alice), put(&bob)]).unwrap();
    o.store.commit(&[Change::Delete(bob.id)]).unwrap();
    drop(o);
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert!(!o.created && o.upgraded_from.is_none());
    assert_eq!(o.users, [(*alice).clone()]);
    assert_eq!(o.store.seq(), 3);
}

#[test]
fn a_rename_is_one_put_under_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    let alice = user("alice");
    let renamed = Arc::new(User {
        username: "alice2".into(),
        ..(*alice).clone()
    });
    o.store.commit(&[put(&alice)]).unwrap();
    o.store.commit(&[put(&renamed)]).unwrap();
    drop(o);
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert_eq!(o.users, [(*renamed).clone()]);
}

#[test]
fn no_plaintext_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    let secret = user("secretname");
    o.store.commit(&[put(&secret)]).unwrap();
    o.store.compact_now(vec![secret]).unwrap();
    o.store.commit(&[put(&user("othername"))]).unwrap();
    for p in [path.clone(), journal::path_for(&path)] {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("secretname") && !text.contains("othername"),
            "{p:?}"
        );
    }
}

#[test]
fn wrong_password_refuses_and_leaves_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "right", &opts()).unwrap();
    o.store.commit(&[put(&user("alice"))]).unwrap();
    drop(o);
    let read = || {
        (
            std::fs::read(&path).unwrap(),
            std::fs::read(journal::path_for(&path)).unwrap(),
        )
    };
    let before = read();
    let err = FileStore::open(&path, "wrong", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::WrongPassword(_)), "{err}");
    assert_eq!(before, read());
}

#[test]
fn garbage_snapshot_is_damage_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(&path, b"{not json").unwrap();
    let err = FileStore::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
}

/// A store whose journal holds alice's and bob's records: its directory, the
/// snapshot's and the journal's paths, and the journal's bytes.
pub(super) fn alice_and_bob_in_the_journal() -> (tempfile::TempDir, PathBuf, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    o.store
        .commit(&[put(&user("alice")), put(&user("bob"))])
        .unwrap();
    drop(o);
    let jp = journal::path_for(&path);
    let bytes = std::fs::read(&jp).unwrap();
    (dir, path, jp, bytes)
}

#[test]
fn torn_last_record_is_dropped() {
    let (_dir, path, jp, mut bytes) = alice_and_bob_in_the_journal();
    let full = bytes.len();
    bytes.truncate(full - 20); // bob's record loses its end
    std::fs::write(&jp, &bytes).unwrap();
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert!(o.dropped_torn_tail);
    assert_eq!(names(&o.users), ["alice"]);
    // The torn bytes are gone, so the next append starts on a clean line.
    let mut store = o.store;
    store.commit(&[put(&user("carol"))]).unwrap();
    drop(store);
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert!(!o.dropped_torn_tail);
    assert_eq!(names(&o.users), ["alice", "carol"]);
}

#[test]
fn damage_before_the_last_record_stops_startup() {
    let (_dir, path, jp, mut bytes) = alice_and_bob_in_the_journal();
    bytes[10] ^= 0x01;
    std::fs::write(&jp, &bytes).unwrap();
    let err = FileStore::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&jp).unwrap(), bytes);
}

#[test]
fn compaction_moves_the_journal_into_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let small = FileOptions {
        kdf_iterations: 1000,
        compact_after: 3,
        audit_retention: crate::audit::DEFAULT_RETENTION,
    };
    let mut o = FileStore::open(&path, "pw", &small).unwrap();
    let first = ["a1", "a2", "a3"].map(user);
    o.store.commit(&first.clone().map(|u| put(&u))).unwrap();
    o.store
        .maintain(&mut || State {
            users: first.to_vec(),
            sessions: vec![],
        })
        .unwrap();
    o.store.commit(&[put(&user("a4"))]).unwrap(); // lands after the snapshot began
    o.store.close().unwrap();
    let jlen = std::fs::metadata(journal::path_for(&path)).unwrap().len();
    assert!(
        jlen > 0 && jlen < 1200,
        "journal holds only a4: {jlen} bytes"
    );
    drop(o);
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert_eq!(names(&o.users), ["a1", "a2", "a3", "a4"]);
    assert_eq!(o.store.seq(), 4);
}

#[test]
fn failed_commit_leaves_the_journal_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put(&user("alice"))]).unwrap();
    o.store.break_for_test();
    let err = o.store.commit(&[put(&user("bob"))]).unwrap_err();
    assert!(matches!(err, StorageError::Fatal(_)), "{err}");
    assert_eq!(o.store.seq(), 1);
    drop(o);
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert_eq!(o.users.len(), 1);
}

/// The first release's store in `tests/fixtures/store-v1` (see its README).
fn copy_of_the_v1_fixture() -> (tempfile::TempDir, PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/store-v1");
    let dir = tempfile::tempdir().unwrap();
    for f in ["users.json", "users.json.journal"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join("users.json");
    (dir, path)
}

#[test]
fn a_version_1_store_opens_keeps_everyone_and_is_upgraded_once() {
    let (_dir, path) = copy_of_the_v1_fixture();
    let o = FileStore::open(&path, "fixture-master", &opts()).unwrap();
    assert_eq!(o.upgraded_from, Some(1));
    assert_eq!(
        names(&o.users),
        ["Robert", "admin", "alice", "dave", "erin"]
    );
    let by_name = |n: &str| o.users.iter().find(|u| u.username == n).unwrap().clone();
    let checks = [
        ("admin", "fixture-admin-1"),
        ("alice", "alice-pass-2"),
        ("Robert", "bob-pass-1"),
        ("dave", "dave-pass-1"),
        ("erin", "erin-pass-1"),
    ];
    for (name, pw) in checks {
        let u = by_name(name);
        assert!(crate::auth::password::verify(pw, &u.password), "{name}");
        assert_eq!(u.password.iterations, 1000, "{name}");
    }
    assert_eq!(
        by_name("alice")
            .profile
            .get(users_protocol::ProfileField::City),
        "Oslo"
    );
    assert_eq!(by_name("dave").role, users_protocol::Role::Moderator);
    assert_eq!(by_name("erin").email, "Erin@Example.com");
    let ids: std::collections::HashSet<_> = o.users.iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), 5, "every user has an id of its own");
    let before = o.users.clone();
    drop(o);

    // Written back as version 2: the ids stay, and no second upgrade happens.
    let header: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(header["version"], snapshot::VERSION);
    assert_eq!(
        std::fs::metadata(journal::path_for(&path)).unwrap().len(),
        0
    );
    let again = FileStore::open(&path, "fixture-master", &opts()).unwrap();
    assert_eq!(again.upgraded_from, None);
    let mut a = again.users;
    let mut b = before;
    a.sort_by_key(|u| u.id);
    b.sort_by_key(|u| u.id);
    assert_eq!(a, b);
}

#[test]
fn a_version_1_store_with_the_wrong_password_is_left_alone() {
    let (_dir, path) = copy_of_the_v1_fixture();
    let before = std::fs::read(&path).unwrap();
    let err = FileStore::open(&path, "not-the-master", &opts())
        .err()
        .unwrap();
    assert!(matches!(err, StorageError::WrongPassword(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_crash_between_the_upgrade_snapshot_and_the_journal_cut_still_opens() {
    let (dir, path) = copy_of_the_v1_fixture();
    let v1_journal = std::fs::read(journal::path_for(&path)).unwrap();
    let upgraded = FileStore::open(&path, "fixture-master", &opts()).unwrap();
    let mut expected = upgraded.users;
    drop(upgraded.store);
    // As if the process died after the version-2 snapshot was renamed into
    // place but before the journal was cut: the old journal is still there.
    std::fs::write(journal::path_for(&path), &v1_journal).unwrap();
    let reopened = FileStore::open(&path, "fixture-master", &opts()).unwrap();
    assert_eq!(reopened.upgraded_from, None);
    let mut got = reopened.users;
    expected.sort_by_key(|u| u.id);
    got.sort_by_key(|u| u.id);
    assert_eq!(got, expected, "the old records are already in the snapshot");
    drop(dir);
}

#[test]
fn a_store_opens_in_one_place_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let first = FileStore::open(&path, "pw", &opts()).unwrap();
    let err = FileStore::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::InUse(_)), "{err}");
    assert!(err.to_string().contains("in use"), "{err}");
    drop(first);
    FileStore::open(&path, "pw", &opts()).unwrap();
}

#[test]
fn a_complete_last_record_that_cannot_be_read_is_damage_not_a_torn_tail() {
    let (_dir, path, jp, mut bytes) = alice_and_bob_in_the_journal();
    // Flip a byte inside bob's record; its line still ends in a newline, so
    // the append finished: this is damage, not a crash mid-write.
    let last_line_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    bytes[last_line_start + 10] ^= 0x01;
    std::fs::write(&jp, &bytes).unwrap();
    let err = FileStore::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StorageError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&jp).unwrap(), bytes, "left as it was");
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use users_protocol::{ProfileField, Role, UserStatus};

    fn arbitrary_user() -> impl Strategy<Value = User> {
        (
            "[A-Za-z0-9_.-]{3,32}",
            "\\PC{0,40}",
            "\\PC{0,40}",
            proptest::collection::vec(any::<u8>(), 0..40),
            1u32..2_000_000,
            prop_oneof![Just(Role::User), Just(Role::Moderator), Just(Role::Admin)],
            prop_oneof![
                Just(UserStatus::Active),
                Just(UserStatus::Inactive),
                Just(UserStatus::Suspended)
            ],
            proptest::option::of("\\PC{0,20}"),
        )
            .prop_map(
                |(name, full_name, notes, hash, iterations, role, status, last)| {
                    let mut u = new_user(&name, &format!("{name}@example.com"));
                    u.profile.set(ProfileField::FullName, full_name);
                    u.profile.set(ProfileField::Notes, notes);
                    u.password.hash = hash;
                    u.password.iterations = iterations;
                    u.role = role;
                    u.status = status;
                    u.last_login = last;
                    u
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn what_is_committed_is_what_opens(
            users in proptest::collection::vec(arbitrary_user(), 1..8),
            compact in any::<bool>(),
            delete_first in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("users.json");
            let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
            let arcs: Vec<Arc<User>> = users.into_iter().map(Arc::new).collect();
            o.store.commit(&arcs.iter().map(put).collect::<Vec<_>>()).unwrap();
            let mut expected: Vec<User> = arcs.iter().map(|u| (**u).clone()).collect();
            if delete_first {
                o.store.commit(&[Change::Delete(arcs[0].id)]).unwrap();
                expected.remove(0);
            }
            if compact {
                let now: Vec<Arc<User>> = expected.iter().cloned().map(Arc::new).collect();
                o.store.compact_now(now).unwrap();
            }
            drop(o);
            let mut got = FileStore::open(&path, "pw", &opts()).unwrap().users;
            got.sort_by_key(|u| u.id);
            expected.sort_by_key(|u| u.id);
            prop_assert_eq!(got, expected);
        }
    }
}

#[test]
fn events_of_a_batch_whose_journal_could_not_be_put_back_wait_for_start_up() {
    use crate::audit::record::{AuditRecord, VERSION};
    use users_protocol::AuditKind;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = FileStore::open(&path, "pw", &opts()).unwrap();
    let event = || AuditRecord {
        v: VERSION,
        id: 0,
        at: 1,
        kind: AuditKind::AccountCreated,
        actor: None,
        target: None,
        client: None,
        success: true,
        detail: String::new(),
        prev: None,
    };
    o.store
        .commit_batch(&[put(&user("alice"))], &[], &mut [event()])
        .unwrap();
    o.store.break_for_test();
    let err = o
        .store
        .commit_batch(&[put(&user("bob"))], &[], &mut [event()])
        .unwrap_err();
    assert!(matches!(err, StorageError::Fatal(_)), "{err}");
    // The batch may have landed: its events stay until start-up knows.
    let lines = || {
        std::fs::read_to_string(audit::path_for(&path))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(lines(), 2);
    drop(o);
    // It did not: start-up drops them, as a batch past the sealed head.
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert_eq!((o.users.len(), lines()), (1, 1));
}
