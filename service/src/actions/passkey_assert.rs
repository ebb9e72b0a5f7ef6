//! Passkey ceremonies sealed for the client ([`started`]), and a passkey's
//! assertion checked against one: a sign-in's ([`verify`]), which is what
//! signing in with a passkey takes, or a confirmation's (passkey_confirm_begin,
//! [`confirmation`]), which confirms a change in place of the password
//! (`confirm`) and signs no one in. Each ceremony is spent on the account
//! it is for, so it is used once.

use super::access::authenticate;
use super::outcome::Outcome;
use crate::app::App;
use crate::auth::passkey::{Ceremony, Kind};
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::passkey::SpentCeremony;
use crate::model::{User, UserId};
use crate::storage::UserTable;
use serde_json::Value;
use users_protocol::passkey::CEREMONY_SECS;
use users_protocol::{CeremonyStart, Secret};
use webauthn_rs::prelude::{AuthenticationResult, DiscoverableAuthentication, PublicKeyCredential};

/// A ceremony's reply: the options for the browser, and the sealed state.
pub(super) fn started(app: &App, c: Ceremony, options: &impl serde::Serialize) -> Result<Outcome> {
    let options = serde_json::to_value(options)
        .map_err(|e| ServiceError::Internal(format!("encoding passkey options: {e}")))?;
    let ceremony_id = c
        .seal(&app.names, unix_secs(app.clock.now()))
        .ok_or_else(|| ServiceError::Internal("sealing a passkey ceremony".into()))?;
    Ok(Outcome::CeremonyStarted(CeremonyStart {
        options,
        ceremony_id,
    }))
}

/// passkey_confirm_begin: a ceremony for the session's account, which
/// confirms a change; the options name its passkeys, so the browser offers
/// no other, and only they are taken ([`confirmation`]).
pub(super) fn confirm_begin(app: &App, token: &Secret) -> Result<Outcome> {
    let actor = authenticate(app, token)?;
    if actor.passkeys.is_empty() {
        let m = "This account has no passkey: confirm with the password";
        return Err(ServiceError::invalid("passkey", m));
    }
    let (rcr, state) = app
        .settings
        .passkeys
        .start_discoverable_authentication()
        .map_err(|e| ServiceError::Internal(format!("starting a passkey confirmation: {e}")))?;
    let mut options = serde_json::to_value(&rcr.public_key)
        .map_err(|e| ServiceError::Internal(format!("encoding passkey options: {e}")))?;
    let allowed = actor.passkeys.iter().map(|p| {
        use base64::Engine;
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p.key.cred_id());
        serde_json::json!({"type": "public-key", "id": id})
    });
    options["allowCredentials"] = Value::Array(allowed.collect());
    let state = serde_json::to_value(&state)
        .map_err(|e| ServiceError::Internal(format!("keeping a passkey confirmation: {e}")))?;
    let ceremony = Ceremony::new(Kind::Confirm, Some(actor.id), None, state);
    started(app, ceremony, &options)
}

/// `actor`'s assertion in the ceremony `ceremony_id`, as the table has the
/// account: of a confirmation begun for `actor`, or of a sign-in by one of
/// `actor`'s passkeys. A ceremony spent already is refused.
pub(super) fn confirmation(
    app: &App,
    table: &UserTable,
    (ceremony_id, credential): (&str, Value),
    actor: UserId,
) -> Option<Asserted> {
    let now = unix_secs(app.clock.now());
    let Some(ceremony) = Ceremony::open(&app.names, Kind::Confirm, ceremony_id, now) else {
        return verify(app, table, ceremony_id, credential).filter(|a| a.user == actor);
    };
    let user = table
        .get_by_id(actor)
        .filter(|_| ceremony.user == Some(actor))?;
    if spent(user, &ceremony.nonce, now) {
        return None;
    }
    let state: DiscoverableAuthentication = serde_json::from_value(ceremony.state).ok()?;
    let credential: PublicKeyCredential = serde_json::from_value(credential).ok()?;
    // Checked against the passkey as stored, its counter included.
    let raw: &[u8] = credential.raw_id.as_ref();
    let passkey = user
        .passkeys
        .iter()
        .find(|p| AsRef::<[u8]>::as_ref(p.key.cred_id()) == raw)?;
    let result = app
        .settings
        .passkeys
        .finish_discoverable_authentication_v2(&credential, state, &passkey.key)
        .inspect_err(|e| tracing::debug!(error = %e, "a passkey confirmation was refused"))
        .ok()?;
    Some(Asserted {
        user: actor,
        passkey: passkey.id.clone(),
        nonce: ceremony.nonce,
        result,
    })
}

/// Whether `user` has spent the ceremony `nonce`, at `now`.
fn spent(user: &User, nonce: &str, now: u64) -> bool {
    user.spent_ceremonies
        .iter()
        .any(|s| s.nonce == nonce && s.until > now)
}

/// Ceremonies an account keeps as spent at once: past them, a sign-in waits.
const MAX_SPENT: usize = 100;

/// A passkey's assertion, checked: whose, which passkey, and what the
/// sign-in changes on it.
pub(super) struct Asserted {
    pub user: UserId,
    passkey: String,
    nonce: String,
    result: AuthenticationResult,
}

/// The account whose passkey signed `credential` in the ceremony
/// `ceremony_id`, as the table has it. A ceremony the account has spent
/// already is refused here, before any success is counted: a replay is a
/// failure like a wrong password (the writer refuses it again, for one
/// that two requests race with).
pub(super) fn verify(
    app: &App,
    table: &UserTable,
    ceremony_id: &str,
    credential: Value,
) -> Option<Asserted> {
    let now = unix_secs(app.clock.now());
    let ceremony = Ceremony::open(&app.names, Kind::Login, ceremony_id, now)?;
    let state: DiscoverableAuthentication = serde_json::from_value(ceremony.state).ok()?;
    let credential: PublicKeyCredential = serde_json::from_value(credential).ok()?;
    let rp = &app.settings.passkeys;
    let (handle, cred_id) = rp.identify_discoverable_authentication(&credential).ok()?;
    let user = table.get_by_id(UserId::from_bytes(handle.into_bytes()))?;
    if spent(user, &ceremony.nonce, now) {
        return None;
    }
    let passkey = user
        .passkeys
        .iter()
        .find(|p| AsRef::<[u8]>::as_ref(p.key.cred_id()) == cred_id)?;
    let result = rp
        .finish_discoverable_authentication_v2(&credential, state, &passkey.key)
        .inspect_err(|e| tracing::debug!(error = %e, "a passkey assertion was refused"))
        .ok()?;
    Some(Asserted {
        user: user.id,
        passkey: passkey.id.clone(),
        nonce: ceremony.nonce,
        result,
    })
}

impl Asserted {
    /// Makes the sign-in's changes on `rec`: the ceremony spent, the
    /// passkey's counter and last use. Refused if the ceremony was spent
    /// already or the passkey is gone.
    pub(super) fn take(&self, rec: &mut User, now: std::time::SystemTime) -> Result<String> {
        spend(rec, &self.nonce, unix_secs(now))?;
        let passkey = rec
            .passkeys
            .iter_mut()
            .find(|p| p.id == self.passkey)
            .ok_or(ServiceError::InvalidCredentials)?;
        passkey.key.update_credential(&self.result);
        passkey.last_used_at = Some(rfc3339(now));
        Ok(passkey.name.clone())
    }
}

/// Records ceremony `nonce` as spent on `rec`, forgetting expired ones;
/// refused if it was spent before.
pub(super) fn spend(rec: &mut User, nonce: &str, now: u64) -> Result<()> {
    rec.spent_ceremonies.retain(|s| s.until > now);
    if rec.spent_ceremonies.iter().any(|s| s.nonce == nonce) {
        return Err(ServiceError::InvalidCredentials);
    }
    if rec.spent_ceremonies.len() >= MAX_SPENT {
        return Err(ServiceError::RateLimited { retry_after: 5 });
    }
    rec.spent_ceremonies.push(SpentCeremony {
        nonce: nonce.to_owned(),
        until: now + CEREMONY_SECS,
    });
    Ok(())
}
