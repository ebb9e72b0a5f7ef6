//! Session tokens and their ids. A token is 32 random bytes; everything but
//! the login reply names a session by the token's SHA-256, so no log,
//! snapshot or other instance holds a token that could be used.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use users_protocol::Secret;

/// A session's id: the SHA-256 of its token. Everything but the login reply
/// names a session by it, so no log, snapshot or other instance holds a
/// token that could be used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// The id of `token`.
    pub fn of(token: &str) -> Self {
        SessionId(Sha256::digest(token.as_bytes()).into())
    }

    /// What a user is shown and names a session by: the first 64 bits, in
    /// hex. Unique among one account's sessions, and no use without a session.
    pub fn public(&self) -> String {
        hex::encode(&self.0[..8])
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionId({}…)", hex::encode(&self.0[..4]))
    }
}

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(SessionId(bytes))
    }
}

/// A fresh token: 32 random bytes, URL-safe base64.
pub(crate) fn new_token(rng: &mut impl RngCore) -> Secret {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(bytes.as_mut());
    Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}
