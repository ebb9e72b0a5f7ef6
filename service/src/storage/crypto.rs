//! The storage key: Fernet over a key stretched from the master password.
//!
//! The recipe is the one in Python cryptography's Fernet documentation
//! ("Using passwords with Fernet"): key = urlsafe_b64(PBKDF2-HMAC-SHA256(password,
//! salt, iterations, 32 bytes)), so standard Python can open the files too.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use fernet::Fernet;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use zeroize::Zeroizing;

/// What the fingerprint key is derived for, so that it is no other key.
const FINGERPRINT_LABEL: &[u8] = b"users-service: fingerprints of names that are no account";

/// A key for fingerprints that are the same for one store and cannot be
/// computed without its master password: a name typed at a login that
/// matches no account is recorded as one (it may be a password typed in the
/// wrong field, which a plain digest would let anyone test guesses against).
#[derive(Clone)]
pub struct FingerprintKey(Arc<Zeroizing<[u8; 32]>>);

impl FingerprintKey {
    /// A key of this process's own, for stores that keep no key (tests).
    pub(crate) fn random() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rng(), key.as_mut());
        FingerprintKey(Arc::new(key))
    }

    /// HMAC-SHA256 of `text` under the key, hex.
    pub(crate) fn digest(&self, text: &str) -> String {
        hex::encode(self.tag(text))
    }

    /// A Fernet cipher under a key derived from this one for `label` (in
    /// upper case, which no account's name is, so that no fingerprint in the
    /// audit log is a piece of it): for what the service seals for clients
    /// to carry, such as passkey ceremonies.
    pub(crate) fn sealer(&self, label: &str) -> Option<Fernet> {
        let derived = Zeroizing::new(self.tag(label));
        Fernet::new(&URL_SAFE.encode(derived.as_ref()))
    }

    /// HMAC-SHA256 of `text` under the key, raw.
    pub(crate) fn tag(&self, text: &str) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.0);
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// HMAC-SHA256 under a 32-byte key. HMAC pads a key shorter than SHA-256's
/// 64-byte block with zeros; padding it here makes the infallible
/// constructor (which takes a whole block) give the same MAC.
fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as KeyInit>::new(block.as_ref().into())
}

/// The only algorithm written.
pub(crate) const KDF_ALGORITHM: &str = "pbkdf2-hmac-sha256";

/// How the storage key was derived; kept in clear in the snapshot header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KdfParams {
    /// Always [`KDF_ALGORITHM`].
    pub algorithm: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Standard base64 of the salt.
    pub salt: String,
}

impl KdfParams {
    /// Fresh parameters with a random 16-byte salt.
    pub(crate) fn generate(iterations: u32, rng: &mut impl rand::RngCore) -> Self {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        KdfParams {
            algorithm: KDF_ALGORITHM.into(),
            iterations,
            salt: STANDARD.encode(salt),
        }
    }

    /// Derives the Fernet cipher for `master`.
    pub(crate) fn cipher(&self, master: &str) -> Result<Fernet, String> {
        self.keys(master).map(|(cipher, _)| cipher)
    }

    /// Derives the Fernet cipher for `master`, and the store's fingerprint
    /// key from the same stretched key (one PBKDF2 for both).
    pub(crate) fn keys(&self, master: &str) -> Result<(Fernet, FingerprintKey), String> {
        if self.algorithm != KDF_ALGORITHM {
            return Err(format!("unsupported key derivation '{}'", self.algorithm));
        }
        if self.iterations == 0 {
            return Err("key derivation with zero iterations".into());
        }
        let salt = STANDARD
            .decode(&self.salt)
            .map_err(|_| "key derivation salt is not base64".to_string())?;
        let raw = crate::auth::password::derive(master.as_bytes(), &salt, self.iterations);
        let key = Zeroizing::new(URL_SAFE.encode(raw.as_ref()));
        let cipher =
            Fernet::new(&key).ok_or_else(|| "could not build the storage cipher".to_string())?;
        let mut stretched = Zeroizing::new([0u8; 32]);
        stretched.copy_from_slice(&raw[..32]);
        let mut mac = hmac_sha256(&stretched);
        mac.update(FINGERPRINT_LABEL);
        let mut fingerprint = Zeroizing::new([0u8; 32]);
        fingerprint.copy_from_slice(&mac.finalize().into_bytes());
        Ok((cipher, FingerprintKey(Arc::new(fingerprint))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_key_is_the_stores_own_and_is_keyed() {
        let p = KdfParams::generate(1000, &mut rand::rng());
        let (_, a) = p.keys("master").unwrap();
        let (_, b) = p.keys("master").unwrap();
        let (_, other) = p.keys("other").unwrap();
        assert_eq!(a.digest("bob"), b.digest("bob"), "the same for one store");
        assert_ne!(a.digest("bob"), other.digest("bob"));
        assert_ne!(a.digest("bob"), a.digest("bobby"));
        // Not a plain digest that anyone can compute.
        use sha2::Digest;
        assert_ne!(a.digest("bob"), hex::encode(Sha256::digest(b"bob")));
        // The padded block gives HMAC's own result for a 32-byte key.
        let key = [7u8; 32];
        let mut ours = hmac_sha256(&key);
        let mut theirs = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        ours.update(b"x");
        theirs.update(b"x");
        assert_eq!(ours.finalize().into_bytes(), theirs.finalize().into_bytes());
    }

    #[test]
    fn same_password_same_key_other_password_fails() {
        let p = KdfParams::generate(1000, &mut rand::rng());
        let a = p.cipher("master").unwrap();
        let token = a.encrypt(b"{\"x\":1}");
        let b = p.cipher("master").unwrap();
        assert_eq!(b.decrypt(&token).unwrap(), b"{\"x\":1}");
        let wrong = p.cipher("other").unwrap();
        assert!(wrong.decrypt(&token).is_err());
    }

    #[test]
    fn refuses_unknown_algorithms() {
        let mut p = KdfParams::generate(1, &mut rand::rng());
        p.algorithm = "md5".into();
        assert!(p.cipher("m").is_err());
    }
}
