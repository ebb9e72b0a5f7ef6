//! Invitations and recovery links as the records keep them.
//!
//! A token is `<id>.<secret>`: the id finds what it opens (an invitation's
//! id, or the account's [`UserId`] for a recovery link), and the secret, 32
//! random bytes, proves it. Only the SHA-256 of the secret is stored: with
//! 256 random bits a fast hash is as good as a slow one against guessing,
//! and the store never holds anything that opens an account.
//!
//! An invitation is kept on the record of the admin who made it. It is
//! encrypted, copied to the other instances and backed up with that record,
//! and it dies with the admin's rights: an invitation works only while its
//! maker is an active admin (`actions::invite`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use users_protocol::Role;

use super::id::UserId;

/// Open invitations an admin may have at once: a record stays small.
pub(crate) const MAX_OPEN_INVITES: usize = 100;

/// The SHA-256 of a token's secret; hex in the record. `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    fn of(secret: &str) -> TokenHash {
        TokenHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `secret` is the one this is the hash of, in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        bool::from(Self::of(secret).0.ct_eq(&self.0))
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

impl Serialize for TokenHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.as_bytes(), &mut b)
            .map_err(|_| serde::de::Error::custom("a token hash is 64 hex digits"))?;
        Ok(TokenHash(b))
    }
}

/// A new token for `id`, and the hash that is stored of it.
pub(crate) fn issue(id: &str, rng: &mut impl RngCore) -> (String, TokenHash) {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    let secret = URL_SAFE_NO_PAD.encode(b);
    let hash = TokenHash::of(&secret);
    (format!("{id}.{secret}"), hash)
}

/// A token's id and secret; None for text that is no token.
pub(crate) fn split(token: &str) -> Option<(&str, &str)> {
    token
        .trim()
        .split_once('.')
        .filter(|(id, secret)| !id.is_empty() && secret.len() == 43)
}

/// A new invitation id: 64 random bits, hex.
pub(crate) fn new_invite_id(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 8];
    rng.fill_bytes(&mut b);
    hex::encode(b)
}

/// An open invitation, on the record of the admin who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInvite {
    /// Its id, the first part of its token.
    pub id: String,
    /// The hash of its token's secret.
    pub hash: TokenHash,
    /// The role the new account gets.
    pub role: Role,
    /// The address the new account must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The admin's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// RFC 3339 time it was made.
    pub created_at: String,
    /// Unix time after which it no longer works.
    pub expires_at: u64,
}

/// A recovery link that sets this account's password, on its record. A new
/// one replaces the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetLink {
    /// The hash of its token's secret (the token's id is the account's id).
    pub hash: TokenHash,
    /// Unix time after which it no longer works.
    pub expires_at: u64,
    /// The admin who made it.
    pub created_by: UserId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_hash_and_the_hash_never_shows() {
        let (token, hash) = issue("abc", &mut rand::rng());
        let (id, secret) = split(&token).unwrap();
        assert_eq!(id, "abc");
        assert!(hash.matches(secret));
        let (other, _) = issue("abc", &mut rand::rng());
        assert!(!hash.matches(split(&other).unwrap().1));
        assert!(!format!("{hash:?}").contains(&hex::encode(hash.0)[..8]));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<TokenHash>(&json).unwrap(), hash);
        assert!(!json.contains(secret), "only the hash is stored");
    }

    #[test]
    fn text_that_is_no_token_is_refused() {
        for bad in ["", "abc", ".x", "abc.short", "abc."] {
            assert!(split(bad).is_none(), "{bad}");
        }
    }
}
