//! passkey_login_begin and passkey_login_finish: signing in with a passkey,
//! by discoverable credentials, so no username is asked for and none is
//! told. A user-verified passkey counts as both factors. A failure counts
//! against the login throttle like a wrong password, and gets login's one
//! answer, `invalid_credentials`.

use super::login::open_without_password;
use super::outcome::Outcome;
use super::passkey_assert::{started, verify};
use super::step::{AfterHash, Look, Step};
use crate::app::App;
use crate::audit::Event;
use crate::auth::passkey::{Ceremony, Kind};
use crate::auth::peer::Caller;
use crate::auth::throttle::{self, Attempt};
use crate::error::{Result, ServiceError};
use crate::model::UserId;
use serde_json::Value;
use users_protocol::AuditKind;

/// passkey_login_begin: a challenge any of the relying party's passkeys
/// can answer.
pub(super) fn login_begin(app: &App) -> Result<Outcome> {
    let (rcr, state) = app
        .settings
        .passkeys
        .start_discoverable_authentication()
        .map_err(|e| ServiceError::Internal(format!("starting a passkey sign-in: {e}")))?;
    let state = serde_json::to_value(&state)
        .map_err(|e| ServiceError::Internal(format!("keeping a passkey sign-in: {e}")))?;
    let ceremony = Ceremony::new(Kind::Login, None, None, state);
    started(app, ceremony, &rcr.public_key)
}

/// passkey_login_finish: the assertion is checked on the pool, counted
/// against the throttle of the account it names (or of the client alone),
/// and the session opened on the writer, where the ceremony is spent. A
/// passkey this instance does not know, on a shared store, may have been
/// added on another a moment ago: it is looked for again after a catch-up.
pub(super) fn login_finish(
    app: &App,
    (ceremony_id, credential): (String, Value),
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    // The account is named by the credential's user handle, unchecked here:
    // it only picks the throttle's bucket.
    let named = member(&credential, "/response/userHandle")
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(UserId::from_bytes);
    if look.may_catch_up(app) && !known(app, named, &credential) {
        return Ok(Step::CatchUp);
    }
    let key = match named.filter(|id| app.users().get_by_id(*id).is_some()) {
        Some(id) => throttle::account_key(id),
        None => throttle::name_key("(a passkey of no account)"),
    };
    let now = app.clock.now();
    let attempt = Attempt::begin(&app.throttle, key, caller.peer_key(), now)
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    let caller = caller.clone();
    Ok(Step::slow(move |app| {
        let Some(asserted) = verify(app, &app.users(), &ceremony_id, credential) else {
            attempt.fail(app.clock.now());
            if let Some(id) = named {
                let event = Event::new(AuditKind::LoginFailed, None, id)
                    .from(&caller)
                    .detail("passkey not verified");
                app.audit.push(failed(event), app.clock.now());
            }
            return AfterHash::fail(ServiceError::InvalidCredentials);
        };
        attempt.succeed(app.clock.now());
        let (id, now) = (asserted.user, app.clock.now());
        let event = Event::new(AuditKind::PasskeyLogin, Some(id), id).from(&caller);
        open_without_password(app, id, caller, vec![event], move |rec| {
            asserted.take(rec, now).map(drop)
        })
    }))
}

/// The bytes of the base64url member of `credential` at `pointer`.
fn member(credential: &Value, pointer: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = credential.pointer(pointer)?.as_str()?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// Whether this instance knows the passkey `credential` names: its
/// account, by the user handle, and its credential id.
fn known(app: &App, named: Option<UserId>, credential: &Value) -> bool {
    let users = app.users();
    let (Some(user), Some(raw)) = (
        named.and_then(|id| users.get_by_id(id)),
        member(credential, "/rawId"),
    ) else {
        return false;
    };
    let raw: &[u8] = &raw;
    user.passkeys
        .iter()
        .any(|p| AsRef::<[u8]>::as_ref(p.key.cred_id()) == raw)
}

/// `event` as a failure.
fn failed(mut event: Event) -> Event {
    event.success = false;
    event
}
