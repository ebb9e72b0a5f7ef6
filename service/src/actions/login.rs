//! login: by username or email, with the throttle, equal work for every
//! failure, and hash upgrades.

use super::outcome::Outcome;
use super::step::{AfterHash, Step, Written};
use super::totp::Second;
use crate::app::App;
use crate::audit::Event;
use crate::auth::sessions::{new_token, Origin, SessionId, SessionOp};
use crate::auth::throttle::{self, Attempt};
use crate::auth::{password, peer, policy};
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::{fold, User, UserId};
use crate::storage::UserTable;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use users_protocol::{validate, AuditKind, Credentials, LoginReply, UserStatus};

pub fn login(
    app: &App,
    c: Credentials,
    peer: Option<String>,
    agent: Option<String>,
) -> Result<Step> {
    let identifier = c.username.trim().to_owned();
    if identifier.is_empty() || c.password.is_empty() {
        return Err(ServiceError::Invalid {
            message: "Username and password are required".into(),
            field: None,
        });
    }
    if identifier.chars().count() > validate::EMAIL_MAX
        || c.password.expose().chars().count() > validate::PASSWORD_MAX
    {
        return Err(ServiceError::InvalidCredentials);
    }
    // A token this instance would refuse at once is not handed out.
    if !app.follow.in_step() {
        return Err(ServiceError::StoreUnavailable(
            "out of step with the other instances".into(),
        ));
    }
    let found = app.users().find_login(&identifier).cloned();
    // One account, one bucket, whichever of its names was typed.
    let key = match &found {
        Some(u) => throttle::account_key(u.id),
        None => throttle::name_key(&identifier),
    };
    let client = peer.clone();
    let origin = Origin {
        client: peer.as_deref().map(|p| peer::address(p).to_owned()),
        agent,
    };
    // What a failed login records: the account if there is one; else not
    // the name typed, which may be a password typed in the wrong field, but
    // a short fingerprint of it, so that a run against one name shows.
    let failed = {
        let (id, client) = (found.as_ref().map(|u| u.id), client.clone());
        let unknown = found.is_none().then(|| {
            let digest = Sha256::digest(fold(&identifier).as_bytes());
            format!(" (name #{})", &hex::encode(digest)[..8])
        });
        move |kind: AuditKind, why: &str| {
            Event {
                kind,
                actor: None,
                target: id,
                name: unknown.as_ref().map(|_| UNKNOWN_ACCOUNT.to_owned()),
                client: None,
                success: false,
                detail: format!("{why}{}", unknown.as_deref().unwrap_or_default()),
                at: None,
            }
            .from(client.as_deref())
        }
    };
    let attempt = match Attempt::begin(&app.throttle, key.clone(), peer, app.clock.now()) {
        Ok(a) => a,
        Err(retry_after) => {
            let why = format!("made to wait {retry_after} s after repeated failures");
            let e = failed(AuditKind::Throttled, &why);
            app.audit.push_throttled(&key, e, app.clock.now());
            return Err(ServiceError::RateLimited { retry_after });
        }
    };
    let iterations = app.settings.pbkdf2_iterations;
    Ok(Step::slow(move |app| {
        // Unknown user, wrong password and a disabled account take the same time
        // and get the same answer.
        let verified = match &found {
            Some(u) => password::verify_at_least(c.password.expose(), &u.password, iterations).0,
            None => {
                password::verify_dummy(c.password.expose(), iterations);
                false
            }
        };
        let why = match &found {
            None => Some("no such account".to_owned()),
            Some(_) if !verified => Some("wrong password".to_owned()),
            Some(u) if u.status != UserStatus::Active => Some(format!("account {}", u.status)),
            Some(_) => None,
        };
        let user = match (found, why) {
            (Some(u), None) => u,
            (_, why) => {
                attempt.fail(app.clock.now());
                let e = failed(AuditKind::LoginFailed, &why.unwrap_or_default());
                app.audit.push(e, app.clock.now());
                return AfterHash::fail(ServiceError::InvalidCredentials);
            }
        };
        // The second factor, once the password is known to be right: a
        // wrong password never learns whether the account has one.
        let now = app.clock.now();
        let second = match second_factor(&user, &c, unix_secs(now)) {
            Ok(second) => second,
            Err(None) => {
                // Neither a failure nor a success: the code is to come.
                drop(attempt);
                return AfterHash::fail(ServiceError::TotpRequired);
            }
            Err(Some(wrong)) => {
                attempt.fail(now);
                let e = failed(AuditKind::LoginFailed, "wrong two-factor or recovery code");
                app.audit.push(e, now);
                return AfterHash::fail(wrong);
            }
        };
        attempt.succeed(now);
        let upgrade = (user.password.iterations < iterations)
            .then(|| password::hash(c.password.expose(), iterations, &mut rand::rng()));
        let token = new_token(&mut rand::rngs::OsRng.unwrap_err());
        let expires = app.sessions.expiry(now);
        let session = SessionOp::Insert {
            id: SessionId::of(token.expose()),
            user: user.id,
            expires,
            created: Some(now),
            last_used: Some(now),
            origin,
        };
        let password_change_required = c.password.expose() == policy::DEFAULT_ADMIN_PASSWORD;
        let reply = move |view| {
            Outcome::LoggedIn(Box::new(LoginReply {
                session_token: token,
                user: view,
                expires_at: rfc3339(expires),
                password_change_required,
            }))
        };
        // last_login, and a hash upgrade if the password was checked at a
        // lower count, made on the table as the writer has it.
        let (id, verified) = (user.id, user.password.clone());
        let recovered = matches!(second, Some(Second::Recovery(_)));
        let record = move |table: &mut UserTable| {
            let current = table
                .get_by_id(id)
                .filter(|cur| cur.password == verified && cur.status == UserStatus::Active)
                .ok_or(ServiceError::InvalidCredentials)?;
            let mut rec = (**current).clone();
            // Taken here, on the table as the writer has it: a code or a
            // recovery code logs in once, however many logins race with it,
            // and two-factor login turned on meanwhile is not skipped.
            match &second {
                Some(second) if !second.take(&mut rec, unix_secs(now)) => {
                    return Err(ServiceError::WrongCode(second.field()));
                }
                None if rec.has_totp() => return Err(ServiceError::TotpRequired),
                _ => {}
            }
            rec.last_login = Some(rfc3339(now));
            if let Some(h) = upgrade {
                rec.password = h;
            }
            let view = rec.view();
            table.put(rec);
            Ok(view)
        };
        let mut logged_in =
            vec![Event::new(AuditKind::LoginSucceeded, Some(id), id).from(client.as_deref())];
        if recovered {
            logged_in.push(
                Event::new(AuditKind::RecoveryCodeUsed, Some(id), id).from(client.as_deref()),
            );
        }
        // A second factor is taken by the writer before the reply, as on a
        // store shared by several instances.
        if app.follow.enabled() || user.has_totp() {
            // A store shared by several instances: the session is committed
            // with last_login, and the reply waits for it, so that every
            // instance knows the token the client is given.
            return AfterHash::write(move |app, table| {
                let view = record(table).inspect_err(|e| {
                    // The code was counted right on the pool; it lost a race.
                    if matches!(e, ServiceError::WrongCode(_)) {
                        let now = app.clock.now();
                        app.throttle.observe(&throttle::account_key(id), true, now);
                        app.audit.push(lost_race(id, client.as_deref()), now);
                    }
                })?;
                Ok(Written {
                    outcome: reply(view),
                    sessions: vec![session],
                    events: logged_in,
                })
            });
        }
        // The session starts under the table's read lock: a suspension or a
        // password change applied before this point is seen here, and one
        // applied after it revokes this session too.
        let view = {
            let table = app.users();
            let Some(current) = table
                .get_by_id(user.id)
                .filter(|cur| cur.password == user.password && cur.status == UserStatus::Active)
            else {
                return AfterHash::fail(ServiceError::InvalidCredentials);
            };
            // Turned on since the account was read: the code is to come.
            if current.has_totp() {
                return AfterHash::fail(ServiceError::TotpRequired);
            }
            app.sessions.apply(session.clone());
            let mut view = current.view();
            view.last_login = Some(rfc3339(now));
            view
        };
        // last_login and a hash upgrade are recorded in the background: a
        // login never waits for the disk, nor fails with it.
        AfterHash::done_then(reply(view), move |_, table| {
            let _ = record(table);
            Ok(Written {
                outcome: Outcome::Recorded,
                sessions: vec![],
                events: logged_in,
            })
        })
    }))
}

/// The second factor `c` gives for `user`, checked without being used up:
/// none when the account has none; `Err(None)` when one is needed and
/// none was given, `Err(Some(error))` when it is wrong.
fn second_factor(
    user: &User,
    c: &Credentials,
    now: u64,
) -> std::result::Result<Option<Second>, Option<ServiceError>> {
    if !user.has_totp() {
        return Ok(None);
    }
    let second = match (&c.totp_code, &c.recovery_code) {
        (Some(code), _) => Second::Code(code.clone()),
        (None, Some(rc)) => Second::Recovery(rc.clone()),
        (None, None) => return Err(None),
    };
    match second.holds(user, now) {
        true => Ok(Some(second)),
        false => Err(Some(ServiceError::WrongCode(second.field()))),
    }
}

/// The name a failed login against no account is recorded under.
pub const UNKNOWN_ACCOUNT: &str = "(unknown account)";

/// A login whose code another login took first.
fn lost_race(id: UserId, client: Option<&str>) -> Event {
    Event {
        success: false,
        detail: "two-factor or recovery code used by another login first".into(),
        ..Event::new(AuditKind::LoginFailed, None, id).from(client)
    }
}
