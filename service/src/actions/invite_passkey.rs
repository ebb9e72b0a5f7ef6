//! An invitee's passkey: an invitee may choose one instead of a password.
//! invite_passkey_begin ([`begin`]) starts the ceremony for the username
//! the account will have, under a user handle that becomes the account's
//! id, so that the passkey signs in to it; invite_accept checks the passkey
//! ([`checked`]) and stores it with the account, in the commit that spends
//! the invitation.

use super::outcome::Outcome;
use super::passkey::{attach, creation, made, stale};
use super::passkey_assert::started;
use crate::app::App;
use crate::audit::Event;
use crate::auth::passkey::{Ceremony, Kind};
use crate::auth::peer::Caller;
use crate::clock::unix_secs;
use crate::error::{Result, ServiceError};
use crate::model::{NameKey, User, UserId};
use crate::storage::UserTable;
use std::time::SystemTime;
use users_protocol::PasskeyProof;
use webauthn_rs::prelude::Passkey;

/// The ceremony of invite_passkey_begin, once the invitation `invite` is
/// found open and the account `username` one it may make: the options for
/// `navigator.credentials.create()`.
pub(super) fn begin(app: &App, username: &str, invite: &str) -> Result<Outcome> {
    let id = UserId::random(&mut rand::rng());
    let (options, state) = creation(app, id, (username, username), Vec::new())?;
    let mut ceremony = Ceremony::new(Kind::Invite, Some(id), None, state);
    ceremony.username = Some(username.to_owned());
    ceremony.invite = Some(invite.to_owned());
    started(app, ceremony, &options)
}

/// A new account's passkey, checked; stored by [`NewPasskey::attach`].
pub(super) struct NewPasskey {
    /// The account's id: the passkey's user handle.
    pub id: UserId,
    key: Passkey,
    nonce: String,
}

/// The passkey `proof` carries, if it carries one, for the account named
/// `username` by the invitation `invite`: checked against the ceremony
/// invite_passkey_begin made for both (origin, RP id, challenge, user
/// verification). The invitation is spent with the account, so the
/// ceremony makes one account only.
pub(super) fn checked(
    app: &App,
    proof: PasskeyProof,
    (username, invite): (&str, &str),
) -> Result<Option<NewPasskey>> {
    let (ceremony_id, credential) = match (proof.ceremony_id, proof.credential) {
        (None, None) => return Ok(None),
        (Some(ceremony_id), Some(credential)) => (ceremony_id, credential),
        _ => {
            let m = "A passkey takes both ceremony_id and credential";
            return Err(ServiceError::invalid("credential", m));
        }
    };
    let now = unix_secs(app.clock.now());
    let ceremony = Ceremony::open(&app.names, Kind::Invite, &ceremony_id, now).ok_or_else(stale)?;
    let (Some(id), Some(named)) = (ceremony.user, ceremony.username) else {
        return Err(stale());
    };
    if ceremony.invite.as_deref() != Some(invite) {
        return Err(stale());
    }
    if NameKey::of(&named) != NameKey::of(username) {
        let m = "The passkey was made for another username: make it again";
        return Err(ServiceError::invalid("username", m));
    }
    let key = made(app, ceremony.state, credential)?;
    Ok(Some(NewPasskey {
        id,
        key,
        nonce: ceremony.nonce,
    }))
}

impl NewPasskey {
    /// Adds the passkey to the new account `rec`, on the writer: refused if
    /// its ceremony made an account already. The audit event.
    pub(super) fn attach(
        self,
        table: &UserTable,
        rec: &mut User,
        now: SystemTime,
        client: &Caller,
    ) -> Result<Event> {
        if table.get_by_id(self.id).is_some() {
            return Err(stale());
        }
        let name = "Passkey 1".to_owned();
        let (_, event) = attach(table, rec, (self.key, name, &self.nonce), now, client)?;
        Ok(event)
    }
}
