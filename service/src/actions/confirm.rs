//! What confirms a change or a deletion ([`Proof`]): the caller's password,
//! or a passkey confirmation made just before (passkey_confirm_begin, or a
//! passkey_login_begin's sign-in), the only way for an account that has no
//! password. Either is a guess like any login's: each counts against
//! the account's throttle, and a session that keeps guessing past the free
//! failures is ended, so a stolen token cannot be used to find the password.

use super::access::actor_at_write;
use super::outcome::Outcome;
use super::passkey_assert::{confirmation, Asserted};
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::auth::sessions::{SessionId, SessionOp};
use crate::auth::throttle::{self, Attempt};
use crate::error::{Result, ServiceError};
use crate::model::{PasswordHash, User};
use crate::storage::UserTable;
use serde_json::Value;
use std::sync::Arc;
use users_protocol::{PasskeyProof, Role, Secret};

/// What a request confirms itself with.
pub(super) enum Proof {
    /// The caller's password, in the member the request names.
    Password(Secret, &'static str),
    /// A passkey assertion of the caller's, begun with passkey_confirm_begin
    /// (or passkey_login_begin).
    Passkey {
        ceremony_id: String,
        credential: Value,
    },
    /// Neither, where the password was wanted in the member named:
    /// refused by [`begin`], after the session is checked.
    Missing(&'static str),
}

impl Proof {
    /// The password, when one is given in the member `field`; else the
    /// passkey sign-in, when both its members are given.
    pub(super) fn of(
        password: Option<Secret>,
        passkey: PasskeyProof,
        field: &'static str,
    ) -> Proof {
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            return Proof::Password(p, field);
        }
        match (passkey.ceremony_id, passkey.credential) {
            (Some(ceremony_id), Some(credential)) => Proof::Passkey {
                ceremony_id,
                credential,
            },
            _ => Proof::Missing(field),
        }
    }

    /// The member a refusal names.
    fn field(&self) -> &'static str {
        match self {
            Proof::Password(_, field) | Proof::Missing(field) => field,
            Proof::Passkey { .. } => "credential",
        }
    }

    /// The password given, if one was.
    pub(super) fn password(&self) -> Option<&Secret> {
        match self {
            Proof::Password(p, _) => Some(p),
            _ => None,
        }
    }
}

/// An admin's change confirmed with their own password or passkey: see
/// [`confirmed_write`]; the role is checked now and on the writer.
/// `refusal` is what anyone else is told.
pub(super) fn admin_write(
    app: &App,
    (actor, token): (Arc<User>, Secret),
    proof: Proof,
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
    confirmed_write(app, (actor, token), proof, caller, confirmed)
}

/// A change confirmed by the caller: the proof is checked on the pool like
/// any confirmation, and on the writer the session and the proof are looked
/// at again ([`Confirmed::actor_at_write`]) before `write` runs with the
/// caller as they are then.
pub(super) fn confirmed_write(
    app: &App,
    (actor, token): (Arc<User>, Secret),
    proof: Proof,
    caller: &Caller,
    write: impl FnOnce(&App, &mut UserTable, Arc<User>) -> Result<Written> + Send + 'static,
) -> Result<Step> {
    let confirmation = begin(app, &actor, caller, &token, proof)?;
    Ok(Step::slow(move |app| {
        let confirmed = match confirmation.check(app) {
            Ok(confirmed) => confirmed,
            Err(refused) => return refused,
        };
        AfterHash::write(move |app, table| {
            let actor = confirmed.actor_at_write(app, table, &token)?;
            write(app, table, actor)
        })
    }))
}

/// A confirmation under way: its throttle slot is reserved until [`Confirmation::check`].
pub(super) struct Confirmation {
    attempt: Attempt,
    session: Secret,
    actor: Arc<User>,
    proof: Proof,
}

/// Reserves an attempt of `actor`'s to confirm with `proof`, made with
/// `session`; refused when the request has no proof. Call it last before
/// the hashing step, which must end it.
pub(super) fn begin(
    app: &App,
    actor: &Arc<User>,
    caller: &Caller,
    session: &Secret,
    proof: Proof,
) -> Result<Confirmation> {
    if let Proof::Missing(field) = proof {
        let m = format!(
            "Your password ({field}), or a passkey confirmation made just now \
             (ceremony_id and credential), is required"
        );
        return Err(ServiceError::invalid(field, m));
    }
    let key = throttle::account_key(actor.id);
    let attempt = Attempt::begin(&app.throttle, key, caller.peer_key(), app.clock.now())
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    Ok(Confirmation {
        attempt,
        session: session.clone(),
        actor: Arc::clone(actor),
        proof,
    })
}

/// A proof that held on the pool, to be looked at again on the writer.
pub(super) enum Confirmed {
    /// The password matched this hash.
    Password(PasswordHash, &'static str),
    /// This passkey sign-in is the caller's.
    Passkey(Box<Asserted>),
}

impl Confirmation {
    /// Checks the proof and counts the result. A refusal is what the
    /// hashing step ends in: the error, and past the free failures the end
    /// of the session that guessed, here at once and, on a shared store,
    /// through the writer so that every instance ends it too.
    pub(super) fn check(self, app: &App) -> std::result::Result<Confirmed, AfterHash> {
        self.check_both(app, (true, ""))
    }

    /// [`Confirmation::check`], with a second factor: `second` says whether
    /// it was right, and names its field. Both must be right to succeed.
    pub(super) fn check_both(
        self,
        app: &App,
        (second, second_field): (bool, &'static str),
    ) -> std::result::Result<Confirmed, AfterHash> {
        let field = self.proof.field();
        let confirmed = match self.proof {
            Proof::Password(given, field) => {
                let floor = app.settings.pbkdf2_iterations;
                let stored = &self.actor.password;
                let right = password::verify_at_least(given.expose(), stored, floor).0;
                right.then(|| Confirmed::Password(stored.clone(), field))
            }
            Proof::Passkey {
                ceremony_id,
                credential,
            } => confirmation(app, &app.users(), (&ceremony_id, credential), self.actor.id)
                .map(|a| Confirmed::Passkey(Box::new(a))),
            Proof::Missing(_) => None,
        };
        let refused = Err(match confirmed {
            Some(confirmed) if second => {
                self.attempt.succeed(app.clock.now());
                return Ok(confirmed);
            }
            Some(_) => ServiceError::WrongCode(second_field),
            None => ServiceError::WrongPassword(field),
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

impl Confirmed {
    /// On the writer: the caller as they are now, once the session is
    /// looked at again and the proof still holds. The password must still
    /// be the one stored; a passkey sign-in is spent here, so that it
    /// confirms one change only, and its passkey's counter kept.
    pub(super) fn actor_at_write(
        self,
        app: &App,
        table: &mut UserTable,
        token: &Secret,
    ) -> Result<Arc<User>> {
        let actor = actor_at_write(app, table, token)?;
        match self {
            Confirmed::Password(hash, field) if actor.password != hash => {
                Err(ServiceError::WrongPassword(field))
            }
            Confirmed::Password(..) => Ok(actor),
            Confirmed::Passkey(asserted) => {
                let mut rec = (*actor).clone();
                asserted
                    .take(&mut rec, app.clock.now())
                    .map_err(|_| ServiceError::WrongPassword("credential"))?;
                table.put(rec);
                table
                    .get_by_id(actor.id)
                    .cloned()
                    .ok_or(ServiceError::NotFound)
            }
        }
    }
}
