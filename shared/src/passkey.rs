//! Passkeys (WebAuthn): the payloads of passkey_register_begin and
//! passkey_login_begin (the options a browser's `navigator.credentials`
//! takes, and the ceremony they belong to) and passkey_list's. A credential
//! comes back as the JSON that `PublicKeyCredential.toJSON()` gives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most passkeys an account may have.
pub const MAX_PASSKEYS: usize = 10;
/// The longest name of a passkey, in characters.
pub const NAME_MAX: usize = 64;
/// How long a ceremony may take, from its begin to its finish, in seconds.
pub const CEREMONY_SECS: u64 = 300;

/// A passkey confirmation made just before, which confirms a change in
/// place of the password (the only way for an account without one): the
/// `ceremony_id` of passkey_confirm_begin (or of a passkey_login_begin),
/// and the `credential` that `navigator.credentials.get()` gave for it.
/// Each is used once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PasskeyProof {
    /// From passkey_login_begin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony_id: Option<String>,
    /// `PublicKeyCredential.toJSON()` of the assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Value>,
}

/// passkey_register_begin's and passkey_login_begin's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CeremonyStart {
    /// For `PublicKeyCredential.parseCreationOptionsFromJSON()` (register)
    /// or `parseRequestOptionsFromJSON()` (sign in).
    pub options: Value,
    /// What the finish names: the ceremony's state, sealed by the service.
    pub ceremony_id: String,
}

/// A passkey as its owner (and admins) see it: never key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Names it in passkey_rename and passkey_delete.
    pub id: String,
    /// Its owner's name for it.
    pub name: String,
    /// RFC 3339 time it was added.
    pub created_at: String,
    /// RFC 3339 time it last signed in, if ever.
    #[serde(default)]
    pub last_used_at: Option<String>,
}

/// passkey_list's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyList {
    /// Whose passkeys these are.
    pub username: String,
    /// The oldest first.
    pub passkeys: Vec<PasskeyView>,
}

/// passkey_register_finish's and passkey_rename's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyReply {
    /// The passkey as it is now.
    pub passkey: PasskeyView,
}
