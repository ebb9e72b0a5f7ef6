//! Passkeys' relying party, and their ceremonies sealed for the client to
//! carry.
//!
//! The WebAuthn checks (origin, RP id, challenge, signature, user
//! verification, counter) are webauthn-rs's. A ceremony's state, with a
//! random nonce, is sealed with Fernet under a key derived from the store's
//! own (the fingerprint key, under a label of its own), and the seal is the
//! `ceremony_id`: any instance of the store can open it, no one else can
//! read or make one, and it ends [`CEREMONY_SECS`] after its begin (by the
//! service's clock, sealed in with it). The account records the nonce of each ceremony it
//! finishes until then (`model::passkey::SpentCeremony`), so a ceremony is
//! used once on every instance.

use crate::model::UserId;
use crate::storage::crypto::FingerprintKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use users_protocol::passkey::CEREMONY_SECS;
use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};
use zeroize::Zeroizing;

/// What the ceremony key is derived for, so that it is no other key. The
/// fingerprint key also tags names that are no account, folded to lower
/// case (`audit::event::unknown_name`): a label in upper case is no name,
/// so no fingerprint in the audit log is a piece of this key.
const CEREMONY_LABEL: &str = "USERS-SERVICE PASSKEY CEREMONIES";

/// The relying party of `rp_id`, for `origins` (the first is the main one).
pub(crate) fn relying_party(rp_id: &str, origins: &[Url]) -> Result<Webauthn, String> {
    let (first, more) = origins
        .split_first()
        .ok_or("--webauthn-origin: at least one origin is needed")?;
    let mut builder = WebauthnBuilder::new(rp_id, first)
        .map_err(|e| format!("--webauthn-rp-id {rp_id} with origin {first}: {e}"))?
        .rp_name("Users Service");
    for origin in more {
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .build()
        .map_err(|e| format!("--webauthn-rp-id {rp_id} and --webauthn-origin: {e}"))
}

/// Which ceremony a seal is for: one is never taken for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Adding a passkey.
    Register,
    /// Signing in with one.
    Login,
    /// Making an invitee's account with a passkey instead of a password.
    Invite,
    /// Confirming a change, for one account, in place of its password.
    Confirm,
}

/// A ceremony under way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ceremony {
    pub kind: Kind,
    /// 128 random bits, hex: what the account records once it is finished.
    pub nonce: String,
    /// Whose it is, for adding a passkey.
    pub user: Option<UserId>,
    /// The passkey's name, given at the begin.
    pub name: Option<String>,
    /// webauthn-rs's state of it.
    pub state: Value,
    /// For an invitee's passkey: the username the account will have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// For an invitee's passkey: the invitation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    /// Unix time after which it no longer finishes; set when sealed.
    #[serde(default)]
    pub expires_at: u64,
}

impl Ceremony {
    /// A new ceremony of `kind`.
    pub(crate) fn new(
        kind: Kind,
        user: Option<UserId>,
        name: Option<String>,
        state: Value,
    ) -> Self {
        let mut b = [0u8; 16];
        rand::rng().fill_bytes(&mut b);
        Ceremony {
            kind,
            nonce: hex::encode(b),
            user,
            name,
            state,
            username: None,
            invite: None,
            expires_at: 0,
        }
    }

    /// Sealed at `now` (Unix seconds): the ceremony_id.
    pub(crate) fn seal(mut self, key: &FingerprintKey, now: u64) -> Option<String> {
        self.expires_at = now + CEREMONY_SECS;
        let text = Zeroizing::new(serde_json::to_vec(&self).ok()?);
        Some(key.sealer(CEREMONY_LABEL)?.encrypt(&text))
    }

    /// The ceremony of `kind` that `id` seals, if it was sealed under `key`
    /// less than [`CEREMONY_SECS`] before `now`.
    pub(crate) fn open(key: &FingerprintKey, kind: Kind, id: &str, now: u64) -> Option<Ceremony> {
        let text = key.sealer(CEREMONY_LABEL)?.decrypt(id.trim()).ok()?;
        let ceremony: Ceremony = serde_json::from_slice(&Zeroizing::new(text)).ok()?;
        (ceremony.kind == kind && now < ceremony.expires_at).then_some(ceremony)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceremony_opens_only_under_its_key_for_its_kind_and_in_time() {
        let key = FingerprintKey::random();
        let c = Ceremony::new(Kind::Login, None, None, serde_json::json!({"s": 1}));
        let id = c.clone().seal(&key, 1_000).unwrap();
        let opened = Ceremony::open(&key, Kind::Login, &id, 1_000 + CEREMONY_SECS - 1).unwrap();
        assert_eq!(opened.nonce, c.nonce);
        assert!(Ceremony::open(&key, Kind::Register, &id, 1_001).is_none());
        assert!(Ceremony::open(&key, Kind::Login, &id, 1_000 + CEREMONY_SECS + 1).is_none());
        assert!(Ceremony::open(&FingerprintKey::random(), Kind::Login, &id, 1_001).is_none());
        assert!(!id.contains(&c.nonce), "sealed, not only signed");
    }

    #[test]
    fn the_relying_party_takes_only_origins_of_its_id() {
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(relying_party("localhost", &[url("http://localhost:8765")]).is_ok());
        assert!(relying_party("example.lan", &[url("https://id.example.lan")]).is_ok());
        assert!(relying_party("example.lan", &[url("https://other.lan")]).is_err());
        assert!(relying_party("localhost", &[]).is_err());
    }
}
