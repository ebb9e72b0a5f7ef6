use super::*;
use users_protocol::user::Profile;

fn opts() -> StoreOptions {
    StoreOptions {
        kdf_iterations: 1000,
        compact_after: 1000,
    }
}

fn user(name: &str) -> Arc<UserRecord> {
    Arc::new(UserRecord {
        username: name.into(),
        email: format!("{name}@example.com"),
        password_hash: "00".into(),
        password_salt: "00".into(),
        password_iterations: 1,
        profile: Profile::default(),
        role: Default::default(),
        status: Default::default(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        last_login: None,
        metadata: Default::default(),
    })
}

fn put(name: &str) -> Change {
    Change::Put { user: user(name) }
}

#[test]
fn creates_then_replays_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(&path, "pw", &opts()).unwrap();
    assert!(o.created);
    o.store.commit(&[put("alice"), put("bob")]).unwrap();
    o.store
        .commit(&[Change::Delete {
            username: "bob".into(),
        }])
        .unwrap();
    drop(o);
    let o = Store::open(&path, "pw", &opts()).unwrap();
    assert!(!o.created);
    assert_eq!(o.users.len(), 1);
    assert!(o.users.contains_key("alice"));
    assert_eq!(o.store.seq(), 3);
}

#[test]
fn no_plaintext_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put("secretname")]).unwrap();
    o.store.compact_now(vec![user("secretname")]).unwrap();
    o.store.commit(&[put("othername")]).unwrap();
    for p in [path.clone(), journal_path(&path)] {
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
    let mut o = Store::open(&path, "right", &opts()).unwrap();
    o.store.commit(&[put("alice")]).unwrap();
    drop(o);
    let before = (
        std::fs::read(&path).unwrap(),
        std::fs::read(journal_path(&path)).unwrap(),
    );
    let err = Store::open(&path, "wrong", &opts()).err().unwrap();
    assert!(matches!(err, StoreError::WrongPassword(_)), "{err}");
    let after = (
        std::fs::read(&path).unwrap(),
        std::fs::read(journal_path(&path)).unwrap(),
    );
    assert_eq!(before, after);
}

#[test]
fn garbage_snapshot_is_damage_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    std::fs::write(&path, b"{not json").unwrap();
    let err = Store::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
}

#[test]
fn torn_last_record_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put("alice"), put("bob")]).unwrap();
    drop(o);
    let jp = journal_path(&path);
    let mut bytes = std::fs::read(&jp).unwrap();
    let full = bytes.len();
    bytes.truncate(full - 20); // bob's record loses its end
    std::fs::write(&jp, &bytes).unwrap();
    let o = Store::open(&path, "pw", &opts()).unwrap();
    assert!(o.dropped_torn_tail);
    assert!(o.users.contains_key("alice"));
    assert!(!o.users.contains_key("bob"));
    // The torn bytes are gone, so the next append starts on a clean line.
    let mut store = o.store;
    store.commit(&[put("carol")]).unwrap();
    drop(store);
    let o = Store::open(&path, "pw", &opts()).unwrap();
    assert!(!o.dropped_torn_tail);
    assert!(o.users.contains_key("carol"));
}

#[test]
fn damage_before_the_last_record_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put("alice"), put("bob")]).unwrap();
    drop(o);
    let jp = journal_path(&path);
    let mut bytes = std::fs::read(&jp).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&jp, &bytes).unwrap();
    let err = Store::open(&path, "pw", &opts()).err().unwrap();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&jp).unwrap(), bytes);
}

#[test]
fn compaction_moves_the_journal_into_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(
        &path,
        "pw",
        &StoreOptions {
            kdf_iterations: 1000,
            compact_after: 3,
        },
    )
    .unwrap();
    let names = ["a1", "a2", "a3"];
    o.store.commit(&names.map(put)).unwrap();
    o.store
        .maybe_compact(|| names.iter().map(|n| user(n)).collect())
        .unwrap();
    o.store.commit(&[put("a4")]).unwrap(); // lands after the snapshot began
    o.store.finish_compaction().unwrap();
    let jlen = std::fs::metadata(journal_path(&path)).unwrap().len();
    assert!(
        jlen > 0 && jlen < 900,
        "journal holds only a4: {jlen} bytes"
    );
    drop(o);
    let o = Store::open(&path, "pw", &opts()).unwrap();
    let mut got: Vec<_> = o.users.keys().cloned().collect();
    got.sort();
    assert_eq!(got, ["a1", "a2", "a3", "a4"]);
    assert_eq!(o.store.seq(), 4);
}

#[test]
fn failed_commit_leaves_the_journal_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut o = Store::open(&path, "pw", &opts()).unwrap();
    o.store.commit(&[put("alice")]).unwrap();
    o.store.break_for_test();
    assert!(o.store.commit(&[put("bob")]).is_err());
    assert_eq!(o.store.seq(), 1);
    drop(o);
    let o = Store::open(&path, "pw", &opts()).unwrap();
    assert_eq!(o.users.len(), 1);
}
