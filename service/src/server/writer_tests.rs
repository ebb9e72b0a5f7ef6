use super::*;
use crate::clock::SystemClock;
use crate::model::tests::user;
use crate::storage::memory::MemoryBackend;
use crate::storage::{Change, UserTable};
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn app() -> App {
    App::new(
        crate::settings::for_tests(),
        Arc::new(SystemClock),
        UserTable::default(),
        false,
    )
}

fn job(name: &'static str, fail: bool) -> WriteJob {
    WriteJob {
        to: Some(ReplyTo {
            endpoint: crate::server::routers::Endpoint::Public,
            envelope: vec![name.as_bytes().to_vec()],
            request_id: None,
            attempt: Default::default(),
            since: std::time::Instant::now(),
        }),
        work: Box::new(move |_, table| {
            let u = user(name, &format!("{name}@example.com"));
            let id = u.id;
            table.put(u);
            if fail {
                return Err(ServiceError::LastAdmin);
            }
            Ok(Written {
                outcome: Outcome::Created(name.into()),
                sessions: vec![],
                events: vec![crate::actions::Event::new(
                    users_protocol::AuditKind::AccountCreated,
                    None,
                    id,
                )],
            })
        }),
    }
}

/// Runs a batch; returns its replies in the order they were given.
fn run(
    app: &App,
    backend: &mut dyn Backend,
    batch: Vec<WriteJob>,
) -> Vec<(ReplyTo, Result<Outcome>)> {
    let mut replies = Vec::new();
    let done = run_batch(app, backend, batch, &mut |to, r| replies.push((to, r)));
    assert!(done.is_ok(), "{done:?}");
    replies
}

#[test]
fn a_failed_commit_is_undone_in_memory_and_reported() {
    let app = app();
    let mut backend = MemoryBackend::default();
    backend.failing.store(true, Ordering::SeqCst);
    let replies = run(&app, &mut backend, vec![job("ghost", false)]);
    assert!(matches!(&replies[..], [(_, Err(ServiceError::Storage(_)))]));
    assert!(
        app.users().get("ghost").is_none(),
        "memory agrees with disk"
    );

    backend.failing.store(false, Ordering::SeqCst);
    let replies = run(&app, &mut backend, vec![job("ghost", false)]);
    assert!(matches!(&replies[..], [(_, Ok(Outcome::Created(_)))]));
    assert!(app.users().get("ghost").is_some());
}

#[test]
fn events_are_committed_with_their_change_and_named_then() {
    let app = app();
    let mut backend = MemoryBackend::default();
    backend.failing.store(true, Ordering::SeqCst);
    run(&app, &mut backend, vec![job("ghost", false)]);
    assert!(
        backend.audit.lock().unwrap().is_empty(),
        "no change, no event"
    );
    backend.failing.store(false, Ordering::SeqCst);
    run(
        &app,
        &mut backend,
        vec![job("anna", false), job("bert", true)],
    );
    let audit = backend.audit.lock().unwrap();
    let named: Vec<_> = audit
        .iter()
        .map(|r| (r.kind, r.target.as_ref().map(|t| t.name.as_str())))
        .collect();
    assert_eq!(
        named,
        [(users_protocol::AuditKind::AccountCreated, Some("anna"))],
        "the failed write has none"
    );
}

#[test]
fn one_failing_write_leaves_the_rest_of_its_batch_committed() {
    let app = app();
    let mut backend = MemoryBackend::default();
    let batch = vec![job("anna", false), job("bert", true), job("cleo", false)];
    let replies = run(&app, &mut backend, batch);
    assert_eq!(replies.len(), 3);
    assert_eq!(
        replies[0].0.envelope[0], b"bert",
        "a failed write is answered before the batch is committed"
    );
    let failed: Vec<_> = replies
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(to, _)| to.envelope[0].clone())
        .collect();
    assert_eq!(failed, [b"bert".to_vec()]);
    assert!(app.users().get("bert").is_none());
    let committed = backend.committed.lock().unwrap();
    let names: Vec<&str> = committed
        .iter()
        .map(|c| match c {
            Change::Put(u) => u.username.as_str(),
            Change::Delete(_) => "?",
        })
        .collect();
    assert_eq!(names, ["anna", "cleo"]);
}

#[test]
fn a_write_whose_undo_fails_stops_the_writer_after_answering() {
    use crate::storage::file::{FileOptions, FileStore};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.json");
    let opts = FileOptions {
        kdf_iterations: 1000,
        compact_after: 1000,
        audit_retention: crate::audit::DEFAULT_RETENTION,
    };
    let mut opened = FileStore::open(&path, "m", &opts).unwrap();
    // Writes to /dev/full fail, and it cannot be truncated either.
    opened.store.break_for_test();
    let app = app();
    let mut replies = Vec::new();
    let done = run_batch(
        &app,
        &mut opened.store,
        vec![job("ghost", false)],
        &mut |to, r| replies.push((to, r)),
    );
    assert!(matches!(done, Err(StorageError::Fatal(_))), "{done:?}");
    assert!(matches!(&replies[..], [(_, Err(ServiceError::Storage(_)))]));
    assert!(
        app.users().get("ghost").is_none(),
        "memory agrees with disk"
    );
    drop(opened);
    assert!(FileStore::open(&path, "m", &opts).unwrap().users.is_empty());
}

#[test]
fn queued_events_a_failed_commit_did_not_record_wait_for_the_next() {
    let app = app();
    let mut backend = MemoryBackend::default();
    let id = crate::model::UserId::random(&mut rand::rng());
    let failed_login = crate::actions::Event::new(users_protocol::AuditKind::LoginFailed, None, id);
    app.audit.push(failed_login, app.clock.now());
    backend.failing.store(true, Ordering::SeqCst);
    run(&app, &mut backend, vec![job("ghost", false)]);
    assert!(!app.audit.is_empty(), "put back");
    backend.failing.store(false, Ordering::SeqCst);
    run(&app, &mut backend, vec![job("anna", false)]);
    let kinds: Vec<_> = backend
        .audit
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert!(
        kinds.contains(&users_protocol::AuditKind::LoginFailed),
        "{kinds:?}"
    );
    assert!(app.audit.is_empty());
}
