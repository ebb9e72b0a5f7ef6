//! Passwords that confirm a change or a deletion. They are guesses like any
//! login's: each counts against the account's throttle, and a session that
//! keeps guessing past the free failures is ended, so a stolen token cannot
//! be used to find the password.

use super::access::actor_at_write;
use super::outcome::Outcome;
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::auth::sessions::{SessionId, SessionOp};
use crate::auth::throttle::{self, Attempt};
use crate::error::{Result, ServiceError};
use crate::model::{PasswordHash, User, UserId};
use crate::storage::UserTable;
use std::sync::Arc;
use users_protocol::{Role, Secret};

/// An admin's change confirmed with their own password (`current_password`):
/// see [`confirmed_write`]; the role is checked now and on the writer.
/// `refusal` is what anyone else is told.
pub(super) fn admin_write(
    app: &App,
    (actor, token): (Arc<User>, Secret),
    password: Secret,
    caller: &Caller,
    refusal: &'static str,
    write: impl FnOnce(&App, &mut UserTable, Arc<User>) -> Result<Written> + Send + 'static,
) -> Result<Step> {
    let admin = move |u: &User| match u.role {
        Role::Admin => Ok(()),
        _ => Err(ServiceError::Forbidden(refusal.into())),
    };
    admin(&actor)?;
    let confirmed = move |app: &App, table: &mut UserTable, actor: Arc<User>| {
        admin(&actor)?;
        write(app, table, actor)
    };
    confirmed_write(app, (actor, token), password, caller, confirmed)
}

/// A change confirmed with the caller's own password (`current_password`,
/// or the field the request names it by): the password is checked on the
/// pool like any confirmation, and on the writer the session and the
/// password are looked at again before `write` runs with the caller as
/// they are then.
pub(super) fn confirmed_write(
    app: &App,
    (actor, token): (Arc<User>, Secret),
    password: Secret,
    caller: &Caller,
    write: impl FnOnce(&App, &mut UserTable, Arc<User>) -> Result<Written> + Send + 'static,
) -> Result<Step> {
    if password.is_empty() {
        return Err(ServiceError::invalid(
            "current_password",
            "Your password (current_password) is required",
        ));
    }
    let confirmation = begin(app, actor.id, caller, &token)?;
    Ok(Step::slow(move |app| {
        if let Err(refused) =
            confirmation.check(app, &password, &actor.password, "current_password")
        {
            return refused;
        }
        let confirmed = actor.password.clone();
        AfterHash::write(move |app, table| {
            let actor = actor_at_write(app, table, &token)?;
            // The password confirmed above must still be the one stored.
            if actor.password != confirmed {
                return Err(ServiceError::WrongPassword("current_password"));
            }
            write(app, table, actor)
        })
    }))
}

/// A confirmation under way: its throttle slot is reserved until [`Confirmation::check`].
pub(super) struct Confirmation {
    attempt: Attempt,
    session: Secret,
}

/// Reserves an attempt to confirm with the password of `account`, made with
/// `session`. Call it last before the hashing step, which must end it.
pub(super) fn begin(
    app: &App,
    account: UserId,
    caller: &Caller,
    session: &Secret,
) -> Result<Confirmation> {
    let key = throttle::account_key(account);
    let attempt = Attempt::begin(&app.throttle, key, caller.peer_key(), app.clock.now())
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    Ok(Confirmation {
        attempt,
        session: session.clone(),
    })
}

impl Confirmation {
    /// Checks `given` against `stored` and counts the result. `field` names
    /// the request field that held the password, for the error. A refusal is
    /// what the hashing step ends in: the error, and past the free failures
    /// the end of the session that guessed, here at once and, on a shared
    /// store, through the writer so that every instance ends it too.
    pub(super) fn check(
        self,
        app: &App,
        given: &Secret,
        stored: &PasswordHash,
        field: &'static str,
    ) -> std::result::Result<(), AfterHash> {
        self.check_both(app, given, stored, field, (true, ""))
    }

    /// [`Confirmation::check`], with a second factor: `second` says whether
    /// it was right, and names its field. Both must be right to succeed.
    pub(super) fn check_both(
        self,
        app: &App,
        given: &Secret,
        stored: &PasswordHash,
        field: &'static str,
        (second, second_field): (bool, &'static str),
    ) -> std::result::Result<(), AfterHash> {
        let floor = app.settings.pbkdf2_iterations;
        let right = password::verify_at_least(given.expose(), stored, floor).0;
        if right && second {
            self.attempt.succeed(app.clock.now());
            return Ok(());
        }
        let refused = Err(match right {
            false => ServiceError::WrongPassword(field),
            true => ServiceError::WrongCode(second_field),
        });
        if !self.attempt.fail(app.clock.now()) {
            return Err(AfterHash::Done(refused));
        }
        // Ended here before the reply goes, and on a shared store committed
        // for the other instances too.
        app.sessions.remove(self.session.expose());
        if !app.follow.enabled() {
            return Err(AfterHash::Done(refused));
        }
        let id = SessionId::of(self.session.expose());
        Err(AfterHash::DoneThen(
            refused,
            Box::new(move |_, _| {
                Ok(Written {
                    outcome: Outcome::Recorded,
                    sessions: vec![SessionOp::Remove { id }],
                    events: vec![],
                })
            }),
        ))
    }
}
