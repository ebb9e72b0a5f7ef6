//! An account's two-factor state (TOTP, RFC 6238: 6 digits, 30 s steps,
//! HMAC-SHA-1, one step of skew), as it is kept in memory and in the record.
//!
//! The secret is stored in the encrypted store like the rest of the record;
//! recovery codes only as SHA-256 digests: each has 80 random bits, so a
//! fast hash is as good as a slow one against guessing.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Totp};
use zeroize::Zeroizing;

/// How many recovery codes totp_enable hands out.
pub(crate) const RECOVERY_CODES: usize = 10;

/// Wrong codes in a row after which a code no longer signs in (NIST SP
/// 800-63B's limit): with the password known, guessing would otherwise go on
/// for ever at the throttle's pace. A recovery code, or an admin turning
/// two-factor login off, is the way back; a right code or a recovery code
/// starts the count again.
pub(crate) const MAX_WRONG_CODES: u32 = 100;

/// The issuer shown in authenticator apps.
pub(crate) const ISSUER: &str = "Users Service";

/// Two-factor state: a secret waiting for confirmation, or in use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpState {
    /// The shared secret, 20 random bytes, hex in the record.
    #[serde(with = "secret_hex")]
    pub secret: Zeroizing<Vec<u8>>,
    /// False while it waits for totp_enable: login does not ask for it yet.
    pub enabled: bool,
    /// The last time step a code was accepted for: a code is taken once.
    #[serde(default)]
    pub last_step: u64,
    /// SHA-256 of each recovery code not used yet, hex.
    #[serde(default)]
    pub recovery: Vec<String>,
    /// Wrong codes given at login in a row (see [`MAX_WRONG_CODES`]);
    /// absent while none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wrong_codes: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl std::fmt::Debug for TotpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpState")
            .field("enabled", &self.enabled)
            .field("recovery_left", &self.recovery.len())
            .finish_non_exhaustive()
    }
}

impl TotpState {
    /// A fresh secret, not enabled.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut secret = Zeroizing::new(vec![0u8; 20]);
        rng.fill_bytes(&mut secret);
        TotpState {
            secret,
            enabled: false,
            last_step: 0,
            recovery: Vec::new(),
            wrong_codes: 0,
        }
    }

    fn totp(&self, account: &str) -> Option<Totp> {
        // An account name with a colon cannot go in the label; the
        // username rules allow none, but an email-like name is replaced.
        let account = account.replace(':', "_");
        Builder::new()
            .with_secret(self.secret.to_vec())
            .with_account_name(account)
            .with_issuer(Some(ISSUER))
            .build()
            .ok()
    }

    /// The secret in base32, for typing in.
    pub fn base32(&self) -> String {
        base32_of(&self.secret)
    }

    /// The `otpauth://` URI for `account`.
    pub fn uri(&self, account: &str) -> Option<String> {
        self.totp(account)?.to_url().ok()
    }

    /// The code an authenticator shows at `unix_secs`.
    #[cfg(test)]
    pub(crate) fn code_at(&self, unix_secs: u64) -> String {
        self.totp("")
            .map(|t| t.generate(unix_secs).to_string())
            .unwrap_or_default()
    }

    /// Whether codes no longer sign in, after too many wrong ones.
    pub fn codes_locked(&self) -> bool {
        self.wrong_codes >= MAX_WRONG_CODES
    }

    /// The time step `code` is right for at `unix_secs`, if it is right and
    /// newer than the last one accepted.
    pub fn check(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let step = self.totp("")?.check(&code, unix_secs)?;
        (step > self.last_step).then_some(step)
    }

    /// Replaces the recovery codes with `RECOVERY_CODES` new ones, returned in clear.
    pub fn new_recovery_codes(&mut self, rng: &mut impl RngCore) -> Vec<String> {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let mut b = [0u8; 10];
                rng.fill_bytes(&mut b);
                let s = base32_of(&b).to_lowercase();
                format!("{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..12], &s[12..16])
            })
            .collect();
        self.recovery = codes.iter().map(|c| digest(c)).collect();
        codes
    }

    /// Takes `code` off the unused recovery codes; false if it is none of them.
    pub fn use_recovery_code(&mut self, code: &str) -> bool {
        let given = digest(code);
        // Every stored digest is compared, in constant time each.
        let found = self.recovery.iter().fold(None, |hit, d| {
            match bool::from(d.as_bytes().ct_eq(given.as_bytes())) {
                true => Some(d.clone()),
                false => hit,
            }
        });
        match found {
            Some(d) => {
                self.recovery.retain(|r| *r != d);
                true
            }
            None => false,
        }
    }
}

mod secret_hex {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub(super) fn serialize<S: Serializer>(
        v: &Zeroizing<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Zeroizing::new(hex::encode(v.as_slice())))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Zeroizing<Vec<u8>>, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        hex::decode(text.as_str())
            .map(Zeroizing::new)
            .map_err(serde::de::Error::custom)
    }
}

fn base32_of(bytes: &[u8]) -> String {
    totp_rs::Secret::from(bytes.to_vec()).to_base32()
}

/// A recovery code's digest, whatever its case, spaces and dashes.
fn digest(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_right_once_within_its_window() {
        let mut t = TotpState::generate(&mut rand::rng());
        let now = 1_800_000_000;
        let code = t.totp("").unwrap().generate(now).to_string();
        let step = t.check(&code, now).expect("the current code");
        assert!(t.check(&code, now + 30).is_some(), "one step of skew");
        assert!(t.check(&code, now + 90).is_none(), "too late");
        t.last_step = step;
        assert!(t.check(&code, now).is_none(), "a code is taken once");
        assert!(t.check("000000x", now).is_none());
    }

    #[test]
    fn recovery_codes_work_once_in_any_case() {
        let mut t = TotpState::generate(&mut rand::rng());
        let codes = t.new_recovery_codes(&mut rand::rng());
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            !t.recovery.iter().any(|d| codes.contains(d)),
            "only digests"
        );
        assert!(t.use_recovery_code(&codes[3].to_uppercase()));
        assert!(!t.use_recovery_code(&codes[3]), "used once");
        assert_eq!(t.recovery.len(), RECOVERY_CODES - 1);
        assert!(!t.use_recovery_code("nope"));
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account() {
        let t = TotpState::generate(&mut rand::rng());
        let uri = t.uri("alice").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&t.base32()) && uri.contains("alice"), "{uri}");
        assert!(!format!("{t:?}").contains(&t.base32()));
    }
}
