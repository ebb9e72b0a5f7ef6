//! totp_setup, totp_enable and totp_disable: two-factor login (RFC 6238).
//! Setting up stores a secret that login ignores until a code from it
//! turns it on; turning it off takes the password and a code, or, for an
//! admin helping a user who lost their device, the admin's own password.

use super::access::{actor_at_write, authenticate, own_or_admins};
use super::confirm::{self, Proof};
use super::outcome::Outcome;
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{SessionId, SessionOp};
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::totp::TotpState;
use crate::model::User;
use crate::storage::UserTable;
use std::time::Instant;
use users_protocol::{AuditKind, RecoveryCodes, Secret, TotpSetup};

/// totp_setup: a new secret, stored unconfirmed (replacing one that was
/// never confirmed). Refused while two-factor login is on. Limited per
/// account, and its QR code is drawn on the pool, not the socket thread.
pub(super) fn totp_setup(app: &App, token: Secret) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    if actor.has_totp() {
        return Err(already_on());
    }
    let account = actor.id.to_string();
    if !app.totp_setup_rate.take(Some(&account), Instant::now()) {
        return Err(ServiceError::TooFast { retry_after: 2 });
    }
    Ok(Step::slow(move |_| {
        let state = TotpState::generate(&mut rand::rng());
        let setup = match setup_for(&state, &actor.username) {
            Ok(setup) => setup,
            Err(e) => return AfterHash::fail(e),
        };
        AfterHash::write(move |app, table| {
            let mut rec = own_record(app, table, &token)?;
            if rec.has_totp() {
                return Err(already_on());
            }
            rec.totp = Some(state);
            table.put(rec);
            Ok(written(Outcome::TotpSetup(Box::new(setup)), vec![]))
        })
    }))
}

/// What totp_setup shows: the secret, typed or scanned.
fn setup_for(state: &TotpState, username: &str) -> Result<TotpSetup> {
    let uri = state
        .uri(username)
        .ok_or_else(|| ServiceError::Internal("making the otpauth URI".into()))?;
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("making the QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(TotpSetup {
        secret: Secret::new(state.base32()),
        otpauth_uri: Secret::new(uri),
        qr_svg,
    })
}

/// totp_enable: the password and a code from the secret set up turn
/// two-factor login on; the reply carries the recovery codes, this once.
/// The account's other sessions end: whoever else had one logs in again,
/// with a code. The password is checked on the pool like any confirmation,
/// so that a stolen session cannot turn it on and lock its owner out.
pub(super) fn totp_enable(
    app: &App,
    token: Secret,
    (proof, code): (Proof, Secret),
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let (client, session) = (caller.clone(), token.clone());
    confirm::confirmed_write(
        app,
        (actor, token),
        proof,
        caller,
        move |app, table, actor| {
            let mut rec = (*actor).clone();
            let state = match &mut rec.totp {
                Some(s) if !s.enabled => s,
                Some(_) => return Err(already_on()),
                None => {
                    return Err(ServiceError::invalid(
                        "code",
                        "Set up two-factor login first (totp_setup)",
                    ))
                }
            };
            let step = state
                .check(code.expose(), unix_secs(app.clock.now()))
                .ok_or(ServiceError::WrongCode("code"))?;
            state.enabled = true;
            state.last_step = step;
            let codes = state.new_recovery_codes(&mut rand::rng());
            let id = rec.id;
            rec.updated_at = rfc3339(app.clock.now());
            table.put(rec);
            let reply = RecoveryCodes {
                recovery_codes: codes.into_iter().map(Secret::new).collect(),
            };
            Ok(Written {
                outcome: Outcome::TotpEnabled(reply),
                sessions: vec![SessionOp::RevokeUser {
                    user: id,
                    except: Some(SessionId::of(session.expose())),
                }],
                events: vec![Event::new(AuditKind::TotpEnabled, Some(id), id).from(&client)],
            })
        },
    )
}

/// totp_disable's request.
pub(super) struct Disable {
    /// The caller's own password, or passkey.
    pub proof: Proof,
    /// A current code, for one's own account.
    pub code: Option<Secret>,
    /// Or a recovery code.
    pub recovery_code: Option<Secret>,
    /// Another user, for an admin.
    pub username: Option<String>,
}

/// totp_disable. The password is checked on the pool, counted like any
/// confirmation; a wrong code counts as a failure with it.
pub(super) fn totp_disable(app: &App, token: Secret, d: Disable, caller: &Caller) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let refusal = "Only admins can turn off another user's two-factor login";
    let target = own_or_admins(&app.users(), &actor, d.username.as_deref(), refusal)?;
    if !target.has_totp() {
        return Err(ServiceError::invalid(
            "username",
            "Two-factor login is not on for this account",
        ));
    }
    let is_self = target.id == actor.id;
    let second = match (is_self, d.code, d.recovery_code) {
        (false, _, _) => Second::None,
        (true, Some(code), _) => Second::Code(code),
        (true, None, Some(rc)) => Second::Recovery(rc),
        (true, None, None) => {
            return Err(ServiceError::invalid(
                "code",
                "Give a current code (code) or a recovery code (recovery_code)",
            ))
        }
    };
    let client = caller.clone();
    let (actor_id, target_id) = (actor.id, target.id);
    let confirmation = confirm::begin(app, &actor, caller, &token, d.proof)?;
    Ok(Step::slow(move |app| {
        let now = unix_secs(app.clock.now());
        let right = second.holds(&target, now);
        let confirmed = match confirmation.check_both(app, (right, second.field())) {
            Ok(confirmed) => confirmed,
            Err(refused) => return refused,
        };
        AfterHash::write(move |app, table| {
            confirmed.actor_at_write(app, table, &token)?;
            let mut rec = (**table.get_by_id(target_id).ok_or(ServiceError::NotFound)?).clone();
            // The code is taken now, so that it cannot be used twice.
            if !second.take(&mut rec, now) {
                return Err(ServiceError::WrongCode(second.field()));
            }
            rec.totp = None;
            rec.updated_at = rfc3339(app.clock.now());
            table.put(rec);
            Ok(written(
                Outcome::TotpDisabled,
                vec![Event::new(AuditKind::TotpDisabled, Some(actor_id), target_id).from(&client)],
            ))
        })
    }))
}

/// The second factor given with a request, checked before and taken at the write.
pub(super) enum Second {
    /// None needed (an admin for another user), or none given.
    None,
    /// A TOTP code.
    Code(Secret),
    /// A recovery code.
    Recovery(Secret),
}

impl Second {
    /// The request field that holds it.
    pub(super) fn field(&self) -> &'static str {
        match self {
            Second::Recovery(_) => "recovery_code",
            _ => "totp_code",
        }
    }

    /// Whether it is right for `user` now, without using it up.
    pub(super) fn holds(&self, user: &User, now: u64) -> bool {
        let mut copy = user.clone();
        self.take(&mut copy, now)
    }

    /// Uses it up on `user`: the code's step becomes the last one taken, or
    /// the recovery code is struck off. False if it is not right.
    pub(super) fn take(&self, user: &mut User, now: u64) -> bool {
        let Some(state) = user.totp.as_mut().filter(|t| t.enabled) else {
            return matches!(self, Second::None);
        };
        let right = match self {
            Second::None => return true,
            Second::Code(_) if state.codes_locked() => false,
            Second::Code(code) => match state.check(code.expose(), now) {
                Some(step) => {
                    state.last_step = step;
                    true
                }
                None => false,
            },
            Second::Recovery(code) => state.use_recovery_code(code.expose()),
        };
        if right {
            state.wrong_codes = 0;
        }
        right
    }
}

fn own_record(app: &App, table: &UserTable, token: &Secret) -> Result<User> {
    Ok((*actor_at_write(app, table, token)?).clone())
}

fn already_on() -> ServiceError {
    ServiceError::invalid(
        "code",
        "Two-factor login is already on; turn it off first to set it up again",
    )
}

fn written(outcome: Outcome, events: Vec<Event>) -> Written {
    Written {
        outcome,
        sessions: Vec::<SessionOp>::new(),
        events,
    }
}
