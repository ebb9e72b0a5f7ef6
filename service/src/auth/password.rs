//! Password hashing: PBKDF2-HMAC-SHA256 with a per-user random salt.

use crate::model::PasswordHash;
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Salt length in bytes.
pub const SALT_LEN: usize = 16;
/// Derived hash length in bytes.
pub const HASH_LEN: usize = 32;
/// OWASP's figure for PBKDF2-HMAC-SHA256.
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// Raw PBKDF2-HMAC-SHA256.
pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; HASH_LEN]> {
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, out.as_mut());
    out
}

/// Hashes `password` with a fresh salt from `rng`.
pub fn hash(password: &str, iterations: u32, rng: &mut impl RngCore) -> PasswordHash {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let out = derive(password.as_bytes(), &salt, iterations);
    PasswordHash {
        hash: out.to_vec(),
        salt: salt.to_vec(),
        iterations,
    }
}

/// No password, for an account that signs in with passkeys only: an empty
/// hash, which no password matches ([`verify`] wants a full one), with a
/// salt and `iterations` so that a guess costs what any other does.
pub fn none(iterations: u32, rng: &mut impl RngCore) -> PasswordHash {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    PasswordHash {
        hash: Vec::new(),
        salt: salt.to_vec(),
        iterations,
    }
}

/// Checks `password` against `stored` in constant time. A malformed stored hash
/// still costs one full derivation, so it cannot be told apart by timing.
pub fn verify(password: &str, stored: &PasswordHash) -> bool {
    let got = derive(password.as_bytes(), &stored.salt, stored.iterations.max(1));
    stored.hash.len() == HASH_LEN && bool::from(got.as_ref().ct_eq(stored.hash.as_slice()))
}

/// Like [`verify`], then tops the work up with dummy rounds to at least `floor`
/// iterations, so that a hash made at a lower count (the original's 100,000,
/// or an older setting) takes as long to refuse as an unknown name, which
/// costs `floor`. Returns whether the password matched and the iterations spent.
pub fn verify_at_least(password: &str, stored: &PasswordHash, floor: u32) -> (bool, u32) {
    let ok = verify(password, stored);
    let done = stored.iterations.max(1);
    let top_up = floor.saturating_sub(done);
    if top_up > 0 {
        verify_dummy(password, top_up);
    }
    (ok, done + top_up)
}

/// Burns the time of one verification, for logins naming no account.
pub fn verify_dummy(password: &str, iterations: u32) {
    let _ = derive(password.as_bytes(), &[0u8; SALT_LEN], iterations);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let mut rng = rand::rng();
        let h = hash("SecurePass123!", 1000, &mut rng);
        assert_eq!(h.salt.len(), SALT_LEN);
        assert_eq!(h.hash.len(), HASH_LEN);
        assert!(verify("SecurePass123!", &h));
        assert!(!verify("SecurePass123?", &h));
    }

    #[test]
    fn salts_differ() {
        let mut rng = rand::rng();
        let a = hash("same", 10, &mut rng);
        let b = hash("same", 10, &mut rng);
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn known_vector() {
        // RFC 7914 §11 test vector for PBKDF2-HMAC-SHA256.
        let out = derive(b"passwd", b"salt", 1);
        assert_eq!(
            hex::encode(out.as_ref()),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn an_old_hash_costs_as_much_to_check_as_the_current_setting() {
        let old = hash("pw", 1000, &mut rand::rng());
        assert_eq!(verify_at_least("pw", &old, 5000), (true, 5000));
        assert_eq!(verify_at_least("nope", &old, 5000), (false, 5000));
        let newer = hash("pw", 8000, &mut rand::rng());
        assert_eq!(verify_at_least("pw", &newer, 5000), (true, 8000));
    }

    #[test]
    fn malformed_stored_hash_never_verifies() {
        let bad = PasswordHash {
            hash: vec![1, 2],
            salt: vec![],
            iterations: 0,
        };
        assert!(!verify("x", &bad));
    }

    #[test]
    fn debug_hides_the_hash() {
        let h = hash("p", 1, &mut rand::rng());
        assert!(!format!("{h:?}").contains(&format!("{:?}", h.hash)));
    }
}
