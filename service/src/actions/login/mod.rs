//! login: by username or email, with the throttle, equal work for every
//! failure, and hash upgrades.
//!
//! A login goes through named steps, each a type that holds what the next
//! step needs, on the thread that step runs on:
//! 1. [`Login::begin`], on the socket thread: the request's shape, the
//!    account (on a shared store, one not known here is looked for again
//!    after a catch-up), and a slot in the throttle;
//! 2. [`Login::check_password`], on the pool: PBKDF2, with the same work and
//!    the same answer for an unknown account, a wrong password and an
//!    account that is not active;
//! 3. [`Verified::check_second_factor`]: only once the password is known to
//!    be right, so that a wrong password never learns whether the account
//!    has one;
//! 4. [`Authenticated::open_session`] (in [`session`]): the session and
//!    `last_login`, against the account as it is by then.
//!
//! What a failed login records is in [`trail`].

mod session;
mod trail;

use super::outcome::Outcome;
use super::step::{AfterHash, Look, Step, Written};
use super::totp::Second;
use crate::app::App;
use crate::auth::peer::{Caller, Peer};
use crate::auth::throttle::{self, Attempt};
use crate::auth::{password, policy};
use crate::clock::unix_secs;
use crate::error::{Result, ServiceError};
use crate::model::{User, UserId};
use crate::storage::UserTable;
pub(super) use session::open_without_password;
use session::{Authenticated, Record};
use std::sync::Arc;
use trail::Trail;
use users_protocol::{validate, AuditKind, Credentials, UserStatus};

pub(super) fn login(
    app: &App,
    credentials: Credentials,
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    let Some(login) = Login::begin(app, credentials, caller, look)? else {
        return Ok(Step::CatchUp);
    };
    Ok(Step::slow(move |app| {
        let authenticated = login
            .check_password(app)
            .and_then(|verified| verified.check_second_factor(app));
        match authenticated {
            Ok(authenticated) => authenticated.open_session(app),
            Err(refused) => refused,
        }
    }))
}

/// A login whose account is looked up and whose throttle slot is reserved.
struct Login {
    credentials: Credentials,
    found: Option<Arc<User>>,
    attempt: Attempt,
    trail: Trail,
    /// The service's PBKDF2 count: the least a stored hash is checked at,
    /// and what a lower one is upgraded to.
    iterations: u32,
}

impl Login {
    /// `None` for a name this instance does not know, at the first look on
    /// a store that others share: the account may have been made elsewhere a
    /// moment ago, so the login waits for a catch-up before it is failed,
    /// counted and hashed. Nothing is reserved or recorded before that. A
    /// name that is found costs nothing more; one that is not costs a
    /// catch-up, which tells no one more than `create_user` does (it answers
    /// `username_taken`).
    fn begin(
        app: &App,
        credentials: Credentials,
        caller: &Caller,
        look: Look,
    ) -> Result<Option<Login>> {
        let identifier = credentials.username.trim().to_owned();
        if identifier.is_empty() || credentials.password.is_empty() {
            return Err(ServiceError::Invalid {
                message: "Username and password are required".into(),
                field: None,
            });
        }
        if identifier.chars().count() > validate::EMAIL_MAX
            || credentials.password.expose().chars().count() > validate::PASSWORD_MAX
        {
            return Err(ServiceError::InvalidCredentials);
        }
        // A token this instance would refuse at once is not handed out.
        app.follow.check_in_step()?;
        let found = app.users().find_login(&identifier).cloned();
        // One account, one bucket, whichever of its names was typed.
        let key = match &found {
            Some(u) => throttle::account_key(u.id),
            None => throttle::name_key(&identifier),
        };
        let trail = Trail::new(app, found.as_deref(), &identifier, caller);
        let now = app.clock.now();
        let attempt = Attempt::begin(&app.throttle, key.clone(), caller.peer_key(), now).map_err(
            |retry_after| {
                let why = format!("made to wait {retry_after} s after repeated failures");
                let event = trail.failed(AuditKind::Throttled, &why);
                // A trusted peer (the bridge) speaks for many clients: its
                // own address stands for none of them.
                let trusted = &app.settings.throttle.trusted_peers;
                let client = caller.peer.as_ref().filter(|p| !p.is_trusted(trusted));
                match client.map(Peer::key) {
                    Some(client) => app.audit.push_throttled(&[&key, &client], event, now),
                    None => app.audit.push_throttled(&[&key], event, now),
                }
                ServiceError::RateLimited { retry_after }
            },
        )?;
        // A name this instance does not know may be an account made on
        // another: caught up first, then asked again. Only once the throttle
        // has let the client through, so that a blocked one cannot make
        // this instance catch up for every name it makes up; the slot is
        // given back (dropped) until then.
        if found.is_none() && look.may_catch_up(app) {
            drop(attempt);
            return Ok(None);
        }
        Ok(Some(Login {
            credentials,
            found,
            attempt,
            trail,
            iterations: app.settings.pbkdf2_iterations,
        }))
    }

    /// Unknown user, wrong password and an account that is not active take
    /// the same time and get the same answer.
    fn check_password(self, app: &App) -> std::result::Result<Verified, AfterHash> {
        let given = self.credentials.password.expose();
        let right = match &self.found {
            Some(u) => password::verify_at_least(given, &u.password, self.iterations).0,
            None => {
                password::verify_dummy(given, self.iterations);
                false
            }
        };
        let why = match &self.found {
            None => Some("no such account".to_owned()),
            Some(_) if !right => Some("wrong password".to_owned()),
            Some(u) if u.status != UserStatus::Active => Some(format!("account {}", u.status)),
            Some(_) => None,
        };
        match (self.found, why) {
            (Some(user), None) => Ok(Verified {
                user,
                credentials: self.credentials,
                attempt: self.attempt,
                trail: self.trail,
                iterations: self.iterations,
            }),
            (_, why) => {
                let now = app.clock.now();
                self.attempt.fail(now);
                let why = why.unwrap_or_default();
                app.audit
                    .push(self.trail.failed(AuditKind::LoginFailed, &why), now);
                Err(AfterHash::fail(ServiceError::InvalidCredentials))
            }
        }
    }
}

/// The password was right and the account active.
struct Verified {
    user: Arc<User>,
    credentials: Credentials,
    attempt: Attempt,
    trail: Trail,
    iterations: u32,
}

impl Verified {
    /// Checks the second factor without using it up: the writer takes it,
    /// so that a code logs in once however many logins race with it.
    fn check_second_factor(self, app: &App) -> std::result::Result<Authenticated, AfterHash> {
        let now = app.clock.now();
        let second = match SecondFactor::of(&self.user, &self.credentials, unix_secs(now)) {
            SecondFactor::NotNeeded => None,
            SecondFactor::Right(second) => Some(second),
            SecondFactor::Missing => {
                // Neither a failure nor a success: the code is to come.
                drop(self.attempt);
                return Err(AfterHash::fail(ServiceError::TotpRequired));
            }
            SecondFactor::Wrong(second) => {
                self.attempt.fail(now);
                let locked = matches!(second, Second::Code(_))
                    && self.user.totp.as_ref().is_some_and(|t| t.codes_locked());
                let why = match locked {
                    true => "two-factor code while codes are locked after too many wrong ones",
                    false => "wrong two-factor or recovery code",
                };
                app.audit
                    .push(self.trail.failed(AuditKind::LoginFailed, why), now);
                let refused = match locked {
                    true => ServiceError::CodesLocked,
                    false => ServiceError::WrongCode(second.field()),
                };
                if !matches!(second, Second::Code(_)) || locked {
                    return Err(AfterHash::fail(refused));
                }
                // Counted on the account, so that every instance sees it.
                let id = self.user.id;
                return Err(AfterHash::DoneThen(
                    Err(refused),
                    Box::new(move |_, table| count_wrong_code(table, id)),
                ));
            }
        };
        self.attempt.succeed(now);
        let given = self.credentials.password.expose();
        let upgrade = (self.user.password.iterations < self.iterations)
            .then(|| password::hash(given, self.iterations, &mut rand::rng()));
        // The documented default, on a store made before it was marked.
        let default = given == policy::DEFAULT_ADMIN_PASSWORD;
        Ok(Authenticated {
            record: Record {
                id: self.user.id,
                checked: self.user.password.clone(),
                second,
                upgrade,
                mark_change_required: default && !self.user.password_change_required,
                now,
            },
            change_required: default || self.user.password_change_required,
            user: self.user,
            caller: self.trail.caller,
        })
    }
}

/// One more wrong code at login for the account `id`.
fn count_wrong_code(table: &mut UserTable, id: UserId) -> Result<Written> {
    if let Some(current) = table.get_by_id(id) {
        let mut rec = (**current).clone();
        if let Some(t) = rec.totp.as_mut().filter(|t| t.enabled) {
            t.wrong_codes = t.wrong_codes.saturating_add(1);
            table.put(rec);
        }
    }
    Ok(Written {
        outcome: Outcome::Recorded,
        sessions: vec![],
        events: vec![],
    })
}

/// What the second factor given with a login amounts to.
enum SecondFactor {
    /// The account has none.
    NotNeeded,
    /// The account has one and none was given: the code is to come.
    Missing,
    /// Right, checked without being used up.
    Right(Second),
    /// Wrong, or used before.
    Wrong(Second),
}

impl SecondFactor {
    fn of(user: &User, c: &Credentials, now: u64) -> Self {
        if !user.has_totp() {
            return SecondFactor::NotNeeded;
        }
        let second = match (&c.totp_code, &c.recovery_code) {
            (Some(code), _) => Second::Code(code.clone()),
            (None, Some(rc)) => Second::Recovery(rc.clone()),
            (None, None) => return SecondFactor::Missing,
        };
        match second.holds(user, now) {
            true => SecondFactor::Right(second),
            false => SecondFactor::Wrong(second),
        }
    }
}
