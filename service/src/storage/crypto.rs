//! The storage key: Fernet over a key stretched from the master password.
//!
//! The recipe is the one in Python cryptography's Fernet documentation
//! ("Using passwords with Fernet"): key = urlsafe_b64(PBKDF2-HMAC-SHA256(password,
//! salt, iterations, 32 bytes)), so standard Python can open the files too.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use fernet::Fernet;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

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
        Fernet::new(&key).ok_or_else(|| "could not build the storage cipher".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
