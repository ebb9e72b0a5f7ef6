//! The actions driven step by step, as the server would, against a table with
//! no backend: what each returns, which sessions change, which events it records.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::error::{Result, ServiceError};
use crate::model::UserId;
use crate::storage::UserTable;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use users_protocol::{AuditKind, ErrorCode, Secret};

fn app(clock: Arc<ManualClock>) -> App {
    App::new(
        crate::settings::for_tests(),
        clock,
        UserTable::default(),
        false,
    )
}

/// Runs a request to its end, a background change included; returns the
/// outcome and the events of its write.
fn run(app: &App, req: serde_json::Value) -> (Result<Outcome>, Vec<Event>) {
    let req = serde_json::from_value(req).unwrap();
    let (replied, write) = match handle(app, req, &Caller::default(), Look::First) {
        Step::Done(r) => return (r, vec![]),
        Step::CatchUp => panic!("a store of one never waits for a catch-up"),
        Step::Write(w) => (None, w),
        Step::Slow(h) => match h(app) {
            AfterHash::Done(r) => return (r, vec![]),
            AfterHash::Write(w) => (None, w),
            AfterHash::DoneThen(r, w) => (Some(r), w),
        },
    };
    let mut table = app.users_mut();
    let (result, events) = match write(app, &mut table) {
        Ok(written) => {
            table.take_changes();
            table.forget_undo();
            for op in written.sessions {
                app.sessions.apply(op);
            }
            (Ok(written.outcome), written.events)
        }
        Err(e) => {
            table.rollback_all();
            (Err(e), vec![])
        }
    };
    (replied.unwrap_or(result), events)
}

fn register_and_login(app: &App, name: &str) -> (Secret, UserId) {
    let (r, _) = run(
        app,
        json!({"action": "create_user", "user_data": {"username": name,
            "email": format!("{name}@example.com"), "password": "s3cret-Pw"}}),
    );
    assert!(matches!(r, Ok(Outcome::Created(_))));
    let (r, events) = run(
        app,
        json!({"action": "login", "credentials": {"username": name, "password": "s3cret-Pw"}}),
    );
    let Ok(Outcome::LoggedIn(reply)) = r else {
        panic!("login failed: {r:?}");
    };
    (reply.session_token, events[0].target.unwrap())
}

#[test]
fn sessions_expire_on_the_injected_clock() {
    let clock = Arc::new(ManualClock::at(1_000_000));
    let app = app(Arc::clone(&clock));
    let (token, _) = register_and_login(&app, "alice");
    let get = |app: &App| {
        run(
            app,
            json!({"action": "get_user", "session_token": token.expose()}),
        )
        .0
    };
    clock.advance(Duration::from_secs(24 * 3600 - 1));
    assert!(get(&app).is_ok());
    clock.advance(Duration::from_secs(1));
    assert!(matches!(get(&app), Err(ServiceError::SessionInvalid)));
    assert_eq!(app.sessions.active(clock.now()), 0);
}

#[test]
fn a_rename_keeps_the_id_and_the_session() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    let (token, id) = register_and_login(&app, "alice");
    let (r, events) = run(
        &app,
        json!({"action": "update_user", "session_token": token.expose(),
            "update_data": {"username": "alice2", "city": "Oslo"}}),
    );
    assert!(
        matches!(r, Ok(Outcome::Updated(ref u)) if u.username == "alice2"),
        "{r:?}"
    );
    assert_eq!(app.users().get("alice2").unwrap().id, id);
    assert_eq!(
        events,
        [Event::new(AuditKind::AccountUpdated, Some(id), id)
            .detail("fields: username, city; username: alice → alice2")]
    );
    let (r, _) = run(
        &app,
        json!({"action": "get_user", "session_token": token.expose()}),
    );
    assert!(matches!(r, Ok(Outcome::Found(ref u)) if u.username == "alice2"));
}

#[test]
fn creation_login_and_deletion_record_their_events() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    let (r, created) = run(
        &app,
        json!({"action": "create_user", "user_data": {"username": "bob",
            "email": "bob@example.com", "password": "s3cret-Pw", "city": "Bergen"}}),
    );
    assert!(matches!(r, Ok(Outcome::Created(ref n)) if n == "bob"));
    assert_eq!(created[0].kind, AuditKind::AccountCreated);
    assert_eq!(created[0].actor, None);
    let id = created[0].target.unwrap();
    assert_eq!(
        app.users()
            .get_by_id(id)
            .unwrap()
            .profile
            .get(users_protocol::ProfileField::City),
        "Bergen"
    );
    let (r, logged_in) = run(
        &app,
        json!({"action": "login", "credentials": {"username": "BOB@example.com", "password": "s3cret-Pw"}}),
    );
    let Ok(Outcome::LoggedIn(reply)) = r else {
        panic!("{r:?}");
    };
    assert_eq!(logged_in[0].kind, AuditKind::LoginSucceeded);
    let (r, deleted) = run(
        &app,
        json!({"action": "delete_user", "session_token": reply.session_token.expose(), "password": "s3cret-Pw"}),
    );
    assert!(matches!(r, Ok(Outcome::Deleted)));
    assert_eq!(deleted[0].kind, AuditKind::AccountDeleted);
    assert_eq!(deleted[0].target, Some(id));
    assert_eq!(deleted[0].name.as_deref(), Some("bob"));
    assert!(app.users().is_empty());
    assert!(app
        .sessions
        .validate(reply.session_token.expose(), app.clock.now())
        .is_none());
}

#[test]
fn failures_are_error_values_with_stable_codes() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    register_and_login(&app, "carol");
    let code = |v| run(&app, v).0.err().map(|e| e.code());
    assert_eq!(
        code(
            json!({"action": "login", "credentials": {"username": "carol", "password": "wrong1"}})
        ),
        Some(ErrorCode::InvalidCredentials)
    );
    assert_eq!(
        code(
            json!({"action": "create_user", "user_data": {"username": "CAROL",
            "email": "x@example.com", "password": "s3cret-Pw"}})
        ),
        Some(ErrorCode::UsernameTaken)
    );
    assert_eq!(
        code(json!({"action": "get_user", "session_token": "nope"})),
        Some(ErrorCode::SessionInvalid)
    );
    assert_eq!(
        code(json!({"action": "list_users", "limit": 0})),
        Some(ErrorCode::InvalidRequest)
    );
}

/// Runs a request's steps up to its write, without running the write.
fn up_to_the_write(app: &App, req: serde_json::Value) -> WriteFn {
    match handle(
        app,
        serde_json::from_value(req).unwrap(),
        &Caller::default(),
        Look::First,
    ) {
        Step::Write(w) => w,
        Step::Slow(h) => match h(app) {
            AfterHash::Write(w) => w,
            AfterHash::Done(r) | AfterHash::DoneThen(r, _) => panic!("no write: {r:?}"),
        },
        Step::Done(r) => panic!("no write: {r:?}"),
        Step::CatchUp => panic!("a store of one never waits for a catch-up"),
    }
}

#[test]
fn an_admin_demoted_while_their_change_waits_does_not_get_it_applied() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    let (_, victim) = register_and_login(&app, "vic");
    let (admin_token, admin_id) = register_and_login(&app, "boss");
    let promote = |role| {
        let mut t = app.users_mut();
        let mut boss = (**t.get_by_id(admin_id).unwrap()).clone();
        boss.role = role;
        t.put(boss);
        t.take_changes();
        t.forget_undo();
    };
    promote(users_protocol::Role::Admin);
    let suspend = up_to_the_write(
        &app,
        json!({"action": "update_user", "session_token": admin_token.expose(), "username": "vic",
            "update_data": {"status": "suspended", "current_password": "s3cret-Pw"}}),
    );
    let delete = up_to_the_write(
        &app,
        json!({"action": "delete_user", "session_token": admin_token.expose(), "username": "vic",
            "password": "s3cret-Pw"}),
    );
    // Demoted while both writes wait in the queue.
    promote(users_protocol::Role::User);
    let mut table = app.users_mut();
    for write in [suspend, delete] {
        let err = write(&app, &mut table).err();
        assert!(matches!(err, Some(ServiceError::Forbidden(_))), "{err:?}");
    }
    let vic = table.get_by_id(victim).unwrap();
    assert_eq!(vic.status, users_protocol::UserStatus::Active);
}

#[test]
fn a_login_is_answered_before_its_last_login_is_written() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    register_and_login(&app, "lena");
    let req =
        json!({"action": "login", "credentials": {"username": "lena", "password": "s3cret-Pw"}});
    let Step::Slow(h) = handle(
        &app,
        serde_json::from_value(req).unwrap(),
        &Caller::default(),
        Look::First,
    ) else {
        panic!("login hashes");
    };
    let AfterHash::DoneThen(Ok(Outcome::LoggedIn(reply)), touch) = h(&app) else {
        panic!("a login replies at once");
    };
    // The session works before anything is written.
    assert!(app
        .sessions
        .validate(reply.session_token.expose(), app.clock.now())
        .is_some());
    assert!(reply.user.last_login.is_some());
    // The background change fails (a full disk, say): the login stands.
    let mut table = app.users_mut();
    let mark = table.mark();
    let written = touch(&app, &mut table).unwrap();
    assert!(matches!(written.outcome, Outcome::Recorded));
    table.rollback_to(mark);
    drop(table);
    assert!(app
        .sessions
        .validate(reply.session_token.expose(), app.clock.now())
        .is_some());
}

#[test]
fn a_login_that_raced_two_factor_being_turned_on_is_refused() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    register_and_login(&app, "rita");
    let req =
        json!({"action": "login", "credentials": {"username": "rita", "password": "s3cret-Pw"}});
    // The login has read the account, without two-factor login, when it is
    // turned on: its password check must not hand out a session.
    let Step::Slow(check) = handle(
        &app,
        serde_json::from_value(req).unwrap(),
        &Caller::default(),
        Look::First,
    ) else {
        panic!("no password check");
    };
    {
        let mut t = app.users_mut();
        let mut rita = (**t.get("rita").unwrap()).clone();
        let mut totp = crate::model::totp::TotpState::generate(&mut rand::rng());
        totp.enabled = true;
        rita.totp = Some(totp);
        t.put(rita);
        t.take_changes();
        t.forget_undo();
    }
    let refused = match check(&app) {
        AfterHash::Done(r) | AfterHash::DoneThen(r, _) => r.err(),
        AfterHash::Write(w) => w(&app, &mut app.users_mut()).err(),
    };
    assert!(
        matches!(refused, Some(ServiceError::TotpRequired)),
        "{refused:?}"
    );
}

#[test]
fn after_a_hundred_wrong_codes_in_a_row_only_a_recovery_code_signs_in() {
    use crate::model::totp::{TotpState, MAX_WRONG_CODES};
    let clock = Arc::new(ManualClock::at(1_000_000));
    let app = app(Arc::clone(&clock));
    register_and_login(&app, "tess");
    let mut totp = TotpState::generate(&mut rand::rng());
    totp.enabled = true;
    let recovery = totp.new_recovery_codes(&mut rand::rng());
    totp.wrong_codes = MAX_WRONG_CODES - 2;
    let put = |f: &dyn Fn(&mut crate::model::User)| {
        let mut t = app.users_mut();
        let mut u = (**t.get("tess").unwrap()).clone();
        f(&mut u);
        t.put(u);
        t.take_changes();
        t.forget_undo();
    };
    put(&|u| u.totp = Some(totp.clone()));
    let wrong_codes = || {
        app.users()
            .get("tess")
            .unwrap()
            .totp
            .as_ref()
            .unwrap()
            .wrong_codes
    };
    let login = |second: serde_json::Value| {
        let mut credentials = json!({"username": "tess", "password": "s3cret-Pw"});
        credentials
            .as_object_mut()
            .unwrap()
            .extend(second.as_object().unwrap().clone());
        run(&app, json!({"action": "login", "credentials": credentials})).0
    };
    // Each login comes past any back-off, so that only the codes decide.
    let now = || {
        clock.advance(Duration::from_secs(600));
        crate::clock::unix_secs(clock.now())
    };
    // A right code starts the count again.
    assert!(login(json!({"totp_code": totp.code_at(now())})).is_ok());
    assert_eq!(wrong_codes(), 0);
    put(&|u| u.totp.as_mut().unwrap().wrong_codes = MAX_WRONG_CODES - 1);
    // The hundredth wrong code in a row is counted...
    now();
    let r = login(json!({"totp_code": "000000"}));
    assert!(
        matches!(r, Err(ServiceError::WrongCode("totp_code"))),
        "{r:?}"
    );
    assert_eq!(wrong_codes(), MAX_WRONG_CODES);
    // ...and then even the right code does not sign in,
    let r = login(json!({"totp_code": totp.code_at(now())}));
    assert!(matches!(r, Err(ServiceError::CodesLocked)), "{r:?}");
    assert_eq!(
        ServiceError::CodesLocked.to_reply().code,
        ErrorCode::InvalidCredentials
    );
    // but a recovery code does, and starts the count again.
    now();
    assert!(login(json!({"recovery_code": recovery[0]})).is_ok());
    assert_eq!(wrong_codes(), 0);
    assert!(login(json!({"totp_code": totp.code_at(now())})).is_ok());
}

#[test]
fn on_a_shared_store_a_login_for_a_name_unknown_here_waits_for_a_catch_up_first() {
    let app = app(Arc::new(ManualClock::at(1_000_000)));
    register_and_login(&app, "nora");
    // As server::run sets it up for a store that others share.
    app.follow.set_wake(Some(Box::new(|| {})));
    let login = |name: &str, look| {
        let req =
            json!({"action": "login", "credentials": {"username": name, "password": "s3cret-Pw"}});
        handle(
            &app,
            serde_json::from_value(req).unwrap(),
            &Caller::default(),
            look,
        )
    };
    assert!(
        matches!(login("nora", Look::First), Step::Slow(_)),
        "a hit goes on at once"
    );
    assert!(matches!(login("newcomer", Look::First), Step::CatchUp));
    assert!(
        matches!(login("newcomer", Look::Again), Step::Slow(_)),
        "after the catch-up, a miss is hashed and refused as any other"
    );
    app.follow.set_wake(None);
    assert!(
        matches!(login("newcomer", Look::First), Step::Slow(_)),
        "a store of one"
    );
}
