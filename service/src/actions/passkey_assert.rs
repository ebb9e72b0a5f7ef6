//! A passkey's assertion, checked against a sign-in ceremony: what signing
//! in with a passkey takes, and what confirms a change in place of the
//! password (`confirm`). Each ceremony is spent on the account it signs
//! in to, so it is used once.

use crate::app::App;
use crate::auth::passkey::{Ceremony, Kind};
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::passkey::SpentCeremony;
use crate::model::{User, UserId};
use crate::storage::UserTable;
use serde_json::Value;
use users_protocol::passkey::CEREMONY_SECS;
use webauthn_rs::prelude::{AuthenticationResult, DiscoverableAuthentication, PublicKeyCredential};

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
    let spent = |s: &SpentCeremony| s.nonce == ceremony.nonce && s.until > now;
    if user.spent_ceremonies.iter().any(spent) {
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
