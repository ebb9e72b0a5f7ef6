//! Passkeys as the record keeps them, and the ceremonies an account has
//! spent.
//!
//! The key is webauthn-rs's `Passkey`: the credential id, the public key and
//! the signature counter, which the library checks at each sign-in. It is
//! stored encrypted with the rest of the record, like every other field.

use serde::{Deserialize, Serialize};
use users_protocol::PasskeyView;
use webauthn_rs::prelude::Passkey;

/// A passkey of the account.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// Names it in the protocol: 64 random bits, hex.
    pub id: String,
    /// Its owner's name for it.
    pub name: String,
    /// RFC 3339 time it was added.
    pub created_at: String,
    /// RFC 3339 time it last signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// The credential.
    pub key: Passkey,
}

impl StoredPasskey {
    /// As the protocol shows it: no key material.
    pub fn view(&self) -> PasskeyView {
        PasskeyView {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: self.created_at.clone(),
            last_used_at: self.last_used_at.clone(),
        }
    }
}

impl PartialEq for StoredPasskey {
    fn eq(&self, other: &Self) -> bool {
        // webauthn-rs's Passkey has no PartialEq: its stored form stands for it.
        let key = |p: &Passkey| serde_json::to_value(p).ok();
        (&self.id, &self.name, &self.created_at, &self.last_used_at)
            == (
                &other.id,
                &other.name,
                &other.created_at,
                &other.last_used_at,
            )
            && key(&self.key) == key(&other.key)
    }
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A ceremony the account finished: refused if it comes again, until it
/// would have expired anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpentCeremony {
    /// The ceremony's random nonce, hex.
    pub nonce: String,
    /// Unix time after which it is expired, and forgotten.
    pub until: u64,
}
