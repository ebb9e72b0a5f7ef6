//! passkey_register_begin and passkey_register_finish, passkey_list,
//! passkey_rename and passkey_delete: the passkeys of an account, each
//! with a name. Adding one is confirmed by the owner (their password or
//! another passkey) and takes the session that began the ceremony; removing
//! one is confirmed by the owner, or by an admin as themselves. An account
//! without a password keeps at least one passkey.

use super::access::{actor_at_write, authenticate, own_or_admins};
use super::confirm::{self, Proof};
use super::outcome::Outcome;
use super::passkey_assert::{spend, started};
use super::step::{Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::passkey::{Ceremony, Kind};
use crate::auth::peer::Caller;
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::invite::new_invite_id;
use crate::model::passkey::StoredPasskey;
use crate::model::{User, UserId};
use crate::storage::UserTable;
use serde_json::Value;
use std::sync::Arc;
use std::time::SystemTime;
use users_protocol::passkey::{MAX_PASSKEYS, NAME_MAX};
use users_protocol::{AuditKind, PasskeyList, PasskeyReply, PasskeyView, ProfileField, Secret};
use webauthn_rs::prelude::{
    CredentialID, Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid,
};

/// A passkey's name, trimmed: 1 to [`NAME_MAX`] characters, none a control.
pub(super) fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > NAME_MAX || name.chars().any(char::is_control) {
        let m = format!("A passkey's name is 1 to {NAME_MAX} characters, none a control character");
        return Err(ServiceError::invalid("name", m));
    }
    Ok(name.to_owned())
}

fn full() -> ServiceError {
    let m = format!("An account has at most {MAX_PASSKEYS} passkeys: remove one first");
    ServiceError::invalid("passkey", m)
}

pub(super) fn stale() -> ServiceError {
    let m = "This passkey ceremony has expired or was used: begin again";
    ServiceError::invalid("ceremony_id", m)
}

/// passkey_register_begin: once the caller is confirmed (on the pool, like
/// any confirmation: a stolen session must not add its own way in), the
/// options for `navigator.credentials.create()`.
pub(super) fn register_begin(
    app: &App,
    (token, proof): (Secret, Proof),
    name: Option<String>,
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    if actor.passkeys.len() >= MAX_PASSKEYS {
        return Err(full());
    }
    let name = name.as_deref().map(checked_name).transpose()?;
    confirm::confirmed_write(app, (actor, token), proof, caller, move |app, _, actor| {
        Ok(Written {
            outcome: creation_options(app, &actor, name)?,
            sessions: vec![],
            events: vec![],
        })
    })
}

/// The options for `navigator.credentials.create()` for the account's
/// passkey: see [`creation`].
fn creation_options(app: &App, actor: &User, name: Option<String>) -> Result<Outcome> {
    let display = match actor.profile.get(ProfileField::FullName) {
        "" => actor.username.as_str(),
        full_name => full_name,
    };
    let exclude = actor
        .passkeys
        .iter()
        .map(|p| p.key.cred_id().clone())
        .collect();
    let (options, state) = creation(app, actor.id, (&actor.username, display), exclude)?;
    started(
        app,
        Ceremony::new(Kind::Register, Some(actor.id), name, state),
        &options,
    )
}

/// The options for `navigator.credentials.create()` for a passkey of the
/// account `id`, named `username`: a discoverable credential, with user
/// verification, and none of `exclude` again; and webauthn-rs's state.
pub(super) fn creation(
    app: &App,
    id: UserId,
    (username, display): (&str, &str),
    exclude: Vec<CredentialID>,
) -> Result<(Value, Value)> {
    let handle = Uuid::from_bytes(id.to_bytes());
    let (ccr, state) = app
        .settings
        .passkeys
        .start_passkey_registration(handle, username, display, Some(exclude))
        .map_err(|e| ServiceError::Internal(format!("starting a passkey: {e}")))?;
    let state = serde_json::to_value(&state)
        .map_err(|e| ServiceError::Internal(format!("keeping a passkey ceremony: {e}")))?;
    let mut options = serde_json::to_value(&ccr.public_key)
        .map_err(|e| ServiceError::Internal(format!("encoding passkey options: {e}")))?;
    // Discoverable: signing in with it needs no username.
    if let Some(sel) = options.get_mut("authenticatorSelection") {
        sel["residentKey"] = Value::from("required");
        sel["requireResidentKey"] = Value::from(true);
    }
    Ok((options, state))
}

/// The passkey `credential` makes, checked by webauthn-rs against the
/// ceremony's `state` (origin, RP id, challenge, user verification).
pub(super) fn made(app: &App, state: Value, credential: Value) -> Result<Passkey> {
    let state: PasskeyRegistration = serde_json::from_value(state).map_err(|_| stale())?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
        .map_err(|e| ServiceError::invalid("credential", format!("Not a credential: {e}")))?;
    app.settings
        .passkeys
        .finish_passkey_registration(&credential, &state)
        .map_err(|e| {
            let m = format!("The passkey could not be verified ({e})");
            ServiceError::invalid("credential", m)
        })
}

/// Adds `key` to `rec` as `name`, on the writer, spending the ceremony
/// `nonce`: refused when the account is full or any account has the
/// passkey. The passkey as its owner sees it, and the audit event.
pub(super) fn attach(
    table: &UserTable,
    rec: &mut User,
    (key, name, nonce): (Passkey, String, &str),
    now: SystemTime,
    client: &Caller,
) -> Result<(PasskeyView, Event)> {
    spend(rec, nonce, unix_secs(now)).map_err(|_| stale())?;
    if rec.passkeys.len() >= MAX_PASSKEYS {
        return Err(full());
    }
    let taken = |u: &Arc<User>| u.passkeys.iter().any(|p| p.key.cred_id() == key.cred_id());
    if table.iter().any(taken) {
        let m = "This passkey is registered already";
        return Err(ServiceError::invalid("credential", m));
    }
    let stored = StoredPasskey {
        id: new_invite_id(&mut rand::rng()),
        name,
        created_at: rfc3339(now),
        last_used_at: None,
        key,
    };
    let passkey = stored.view();
    let event = Event::new(AuditKind::PasskeyAdded, Some(rec.id), rec.id)
        .from(client)
        .detail(format!("'{}'", passkey.name));
    rec.passkeys.push(stored);
    Ok((passkey, event))
}

/// passkey_register_finish: the authenticator's credential, checked by
/// webauthn-rs against the ceremony (origin, RP id, challenge, user
/// verification), which the password began; stored on the writer, where the
/// ceremony is spent.
pub(super) fn register_finish(
    app: &App,
    token: Secret,
    (ceremony_id, credential, name): (String, Value, Option<String>),
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let now = app.clock.now();
    let ceremony = Ceremony::open(&app.names, Kind::Register, &ceremony_id, unix_secs(now))
        .filter(|c| c.user == Some(actor.id))
        .ok_or_else(stale)?;
    let key = made(app, ceremony.state, credential)?;
    let name = match name.or(ceremony.name) {
        Some(n) => checked_name(&n)?,
        None => format!("Passkey {}", actor.passkeys.len() + 1),
    };
    let (nonce, client) = (ceremony.nonce, caller.clone());
    Ok(Step::write(move |app, table| {
        let mut rec = (*actor_at_write(app, table, &token)?).clone();
        let (passkey, event) = attach(table, &mut rec, (key, name, &nonce), now, &client)?;
        table.put(rec);
        Ok(Written {
            outcome: Outcome::Passkey(PasskeyReply { passkey }),
            sessions: vec![],
            events: vec![event],
        })
    }))
}

/// passkey_list: one's own passkeys, or (admins) another user's.
pub(super) fn list(app: &App, token: &Secret, username: Option<&str>) -> Result<Outcome> {
    let actor = authenticate(app, token)?;
    let refusal = "Only admins can see other users' passkeys";
    let target = own_or_admins(&app.users(), &actor, username, refusal)?;
    Ok(Outcome::Passkeys(PasskeyList {
        username: target.username.clone(),
        passkeys: target.passkeys.iter().map(StoredPasskey::view).collect(),
    }))
}

/// One of `rec`'s passkeys by id.
fn find<'u>(rec: &'u mut User, id: &str) -> Result<&'u mut StoredPasskey> {
    rec.passkeys
        .iter_mut()
        .find(|p| p.id == id.trim())
        .ok_or_else(|| ServiceError::invalid("passkey_id", "There is no passkey with this id"))
}

/// passkey_rename: one's own.
pub(super) fn rename(app: &App, token: Secret, id: String, name: String) -> Result<Step> {
    authenticate(app, &token)?;
    let name = checked_name(&name)?;
    Ok(Step::write(move |app, table| {
        let mut rec = (*actor_at_write(app, table, &token)?).clone();
        let passkey = find(&mut rec, &id)?;
        passkey.name = name;
        let passkey = passkey.view();
        table.put(rec);
        Ok(Written {
            outcome: Outcome::Passkey(PasskeyReply { passkey }),
            sessions: vec![],
            events: vec![],
        })
    }))
}

/// passkey_delete's members besides the session.
pub(super) struct Removal {
    pub passkey_id: String,
    pub proof: Proof,
    pub username: Option<String>,
}

/// passkey_delete: one's own, confirmed by its owner; (admins) another
/// user's, confirmed by the admin. Not an account's last way in: one
/// without a password keeps a passkey.
pub(super) fn delete(app: &App, token: Secret, r: Removal, caller: &Caller) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let refusal = "Only admins can remove other users' passkeys";
    let target = own_or_admins(&app.users(), &actor, r.username.as_deref(), refusal)?;
    let (target, id, client) = (target.id, r.passkey_id, caller.clone());
    let remove = move |table: &mut UserTable, actor: &User, rec: &mut User| {
        let name = find(rec, &id)?.name.clone();
        if !rec.password.is_set() && rec.passkeys.len() == 1 {
            let m = "This is the account's only way to sign in: add another passkey or set a password first";
            return Err(ServiceError::invalid("passkey_id", m));
        }
        rec.passkeys.retain(|p| p.id != id.trim());
        let event = Event::new(AuditKind::PasskeyRemoved, Some(actor.id), rec.id)
            .from(&client)
            .detail(format!("'{name}'"));
        table.put(rec.clone());
        Ok(Written {
            outcome: Outcome::PasskeyRemoved,
            sessions: vec![],
            events: vec![event],
        })
    };
    let write = move |_: &App, table: &mut UserTable, actor: Arc<User>| {
        let mut rec = (**table.get_by_id(target).ok_or(ServiceError::NotFound)?).clone();
        remove(table, &actor, &mut rec)
    };
    match target == actor.id {
        true => confirm::confirmed_write(app, (actor, token), r.proof, caller, write),
        false => confirm::admin_write(app, (actor, token), r.proof, caller, refusal, write),
    }
}
