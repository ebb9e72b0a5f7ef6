use super::*;
use crate::audit::record::VERSION;
use users_protocol::AuditKind;

fn record(at: u64) -> AuditRecord {
    AuditRecord {
        v: VERSION,
        id: 0,
        at,
        kind: AuditKind::AccountCreated,
        actor: None,
        target: None,
        client: None,
        success: true,
        detail: "secret-free".into(),
        prev: None,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn appends_undoes_prunes_and_holds_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("users.json");
    let cipher = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
    let day = Duration::from_secs(86_400);
    // One time for the log's opens: ids start at its floor, and a reopen at
    // a later second would start them there again.
    let at = SystemTime::now();
    let opened = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, at, None).unwrap();
    let mut old = [record(now() - 2 * 86_400)];
    log.append(&mut old).unwrap();
    let first = old[0].id;
    assert!(first >= opened << 20, "ids start at the time's floor");
    let mut batch = [record(now()), record(now())];
    log.append(&mut batch).unwrap();
    assert_eq!((batch[0].id, batch[1].id), (first + 1, first + 2));
    let mut undone = [record(now())];
    let before = log.append(&mut undone).unwrap().unwrap();
    log.undo(before);
    let text = std::fs::read_to_string(path_for(&store)).unwrap();
    assert!(!text.contains("secret-free") && !text.contains("account_created"));
    let read = log.reader().read_all().unwrap();
    let ids = |read: &[AuditRecord]| read.iter().map(|r| r.id - first).collect::<Vec<_>>();
    assert_eq!(ids(&read), [0, 1, 2]);
    // A torn line is cut at the next start, and the old line dropped.
    std::fs::OpenOptions::new()
        .append(true)
        .open(path_for(&store))
        .unwrap()
        .write_all(b"gAAAAA-torn")
        .unwrap();
    drop(log);
    let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, at, None).unwrap();
    let read = log.reader().read_all().unwrap();
    assert_eq!(ids(&read), [1, 2]);
    let mut next = [record(now())];
    log.append(&mut next).unwrap();
    assert_eq!(next[0].id, first + 3, "ids go on after the last one kept");
    // Every event past the retention: all go but the newest batch, which
    // holds the chain's head; ids still do not go back.
    drop(log);
    let later_on = SystemTime::now() + 10 * day;
    let sealed = Some(next[0].head());
    let mut log = AuditFile::open(&store, Arc::clone(&cipher), day, later_on, sealed).unwrap();
    let kept = log.reader().read_all().unwrap();
    assert_eq!(
        kept,
        [next[0].clone()],
        "the head stays, and no break is recorded"
    );
    let mut later = [record(now())];
    log.append(&mut later).unwrap();
    assert!(later[0].id > next[0].id);
    // Another key cannot read it.
    let other = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
    assert!(AuditFile::open(&store, other, day, SystemTime::now(), None).is_err());
}

#[test]
fn a_batch_past_the_sealed_head_is_dropped_and_a_cut_log_is_recorded() {
    use crate::storage::backend::Backend;
    use crate::storage::file::tests::opts;
    use crate::storage::file::FileStore;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("users.json");
    let mut s = FileStore::open(&store, "pw", &opts()).unwrap().store;
    s.commit_batch(&[], &[], &mut [record(now())]).unwrap();
    s.commit_batch(&[], &[], &mut [record(now())]).unwrap();
    let cipher = Arc::new(
        crate::storage::file::inspect::inspect(&store, "pw")
            .unwrap()
            .cipher,
    );
    drop(s);
    // As if a crash came between the audit line and its journal record.
    let day = Duration::from_secs(86_400);
    let mut log =
        AuditFile::open(&store, Arc::clone(&cipher), day, SystemTime::now(), None).unwrap();
    log.append(&mut [record(now())]).unwrap();
    drop(log);
    let kinds = || -> Vec<AuditKind> {
        reader_at(&store, Arc::clone(&cipher))
            .read_all()
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    };
    assert_eq!(kinds().len(), 3);
    drop(FileStore::open(&store, "pw", &opts()).unwrap());
    assert_eq!(kinds().len(), 2, "the batch that did not commit is dropped");
    // The newest batch cut off by hand: recorded at the next start.
    let text = std::fs::read_to_string(path_for(&store)).unwrap();
    let first = text.lines().next().unwrap();
    std::fs::write(path_for(&store), format!("{first}\n")).unwrap();
    let broken = [AuditKind::AccountCreated, AuditKind::AuditChainBroken];
    drop(FileStore::open(&store, "pw", &opts()).unwrap());
    assert_eq!(kinds(), broken);
    // Recorded once: the record of the break is sealed at once.
    drop(FileStore::open(&store, "pw", &opts()).unwrap());
    assert_eq!(kinds(), broken);
}

#[test]
fn the_index_gives_only_the_lines_a_read_can_use_newest_first() {
    use crate::audit::record::Party;
    use crate::audit::want::{Key, Want};
    use crate::model::UserId;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("users.json");
    let cipher = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
    let day = Duration::from_secs(86_400);
    let mut log =
        AuditFile::open(&store, Arc::clone(&cipher), day, SystemTime::now(), None).unwrap();
    let (ann, ben) = (
        UserId::random(&mut rand::rng()),
        UserId::random(&mut rand::rng()),
    );
    let about = |id: UserId, name: &str| {
        let mut r = record(now());
        r.target = Some(Party {
            id: Some(id),
            name: name.into(),
        });
        r
    };
    for i in 0..200 {
        let mut batch = [if i % 50 == 7 {
            about(ann, "ann")
        } else {
            about(ben, "ben")
        }];
        log.append(&mut batch).unwrap();
    }
    // A batch that did not commit is forgotten by the index too.
    let undone = log.append(&mut [about(ann, "ann")]).unwrap().unwrap();
    log.undo(undone);
    let reader = log.reader();
    let read = |want: &Want, stop_after: usize| {
        let mut seen = Vec::new();
        reader
            .newest_first(want, &mut |r| {
                seen.push(r);
                seen.len() < stop_after
            })
            .unwrap();
        seen
    };
    let mine = Want {
        all_of: vec![vec![Key::Target(ann)]],
        ..Want::default()
    };
    let got = read(&mine, usize::MAX);
    assert_eq!(got.len(), 4, "only ann's lines are read");
    assert!(got.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    // A page from a cursor, and a read that stops early.
    let older = Want {
        before: Some(got[1].id),
        ..mine
    };
    assert_eq!(read(&older, usize::MAX).len(), 2);
    assert_eq!(read(&Want::default(), 10).len(), 10);
    let by_name = Want {
        all_of: vec![vec![Key::TargetName("BEN".to_lowercase())]],
        ..Want::default()
    };
    assert_eq!(read(&by_name, usize::MAX).len(), 196);
    // Rebuilt from the file at the next open: the same answer.
    drop(log);
    let log = AuditFile::open(&store, cipher, day, SystemTime::now(), None).unwrap();
    let mut n = 0;
    log.reader()
        .newest_first(
            &Want {
                all_of: vec![vec![Key::Target(ann)]],
                ..Want::default()
            },
            &mut |_| {
                n += 1;
                true
            },
        )
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn dropping_old_lines_moves_the_index_with_the_file() {
    use crate::audit::record::Party;
    use crate::audit::want::{Key, Want};
    use crate::model::UserId;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("users.json");
    let cipher = Arc::new(Fernet::new(&Fernet::generate_key()).unwrap());
    let day = Duration::from_secs(86_400);
    let mut log =
        AuditFile::open(&store, Arc::clone(&cipher), day, SystemTime::now(), None).unwrap();
    let who = UserId::random(&mut rand::rng());
    let reader = log.reader();
    for i in 0..40u64 {
        let mut r = record(if i < 25 { now() - 2 * 86_400 } else { now() });
        r.target = Some(Party {
            id: Some(who),
            name: format!("n{}", i % 2),
        });
        log.append(&mut [r]).unwrap();
    }
    let read = |want: &Want| {
        let mut ids = Vec::new();
        reader
            .newest_first(want, &mut |r| {
                ids.push(r.id);
                true
            })
            .unwrap();
        ids
    };
    let mine = Want {
        all_of: vec![vec![Key::Target(who)]],
        ..Want::default()
    };
    let odd = Want {
        all_of: vec![vec![Key::TargetName("n1".into())]],
        ..Want::default()
    };
    let (all_before, odd_before) = (read(&mine), read(&odd));
    assert!(log.prune(SystemTime::now()).unwrap());
    // The same reader, after the file was replaced: the 15 recent lines.
    let (all_after, odd_after) = (read(&mine), read(&odd));
    assert_eq!(all_after, all_before[..15]);
    assert_eq!(odd_after, odd_before[..odd_after.len()]);
    assert_eq!(odd_after.len(), 8, "{odd_after:?}");
    let mut later = [record(now())];
    log.append(&mut later).unwrap();
    assert_eq!(read(&Want::default())[0], later[0].id);
}
