//! An account's two-factor state (TOTP, RFC 6238: 6 digits, 30 s steps,
//! HMAC-SHA-1, one step of skew), as it is kept in memory and in the record.
//!
//! The secret is stored in the encrypted store like the rest of the record;
//! recovery codes only as salted SHA-256 digests (ASVS 6.5.2): each code has
//! 80 random bits, so a fast hash is as good as a slow one against guessing,
//! and the salt rules out tables computed ahead.

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
    /// Each recovery code not used yet, as `s1:SALT:DIGEST` (see
    /// [`Salted`]). Older stores kept a plain SHA-256; those are salted as
    /// they are read.
    #[serde(default)]
    pub recovery: RecoveryCodes,
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
            recovery: RecoveryCodes::default(),
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
        self.recovery = RecoveryCodes {
            stored: codes
                .iter()
                .map(|c| Salted::new(&inner(c), rng).to_string())
                .collect(),
            salted_on_read: false,
        };
        codes
    }

    /// Takes `code` off the unused recovery codes; false if it is none of them.
    pub fn use_recovery_code(&mut self, code: &str) -> bool {
        let given = inner(code);
        // Every stored digest is compared, in constant time each.
        let found = self.recovery.stored.iter().fold(None, |hit, d| {
            match Salted::parse(d).is_some_and(|s| s.matches(&given)) {
                true => Some(d.clone()),
                false => hit,
            }
        });
        match found {
            Some(d) => {
                self.recovery.stored.retain(|r| *r != d);
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

/// A recovery code's plain SHA-256, whatever its case, spaces and dashes:
/// what older stores kept, and what the salted digest is taken over.
fn inner(code: &str) -> [u8; 32] {
    let normal: Zeroizing<String> = Zeroizing::new(
        code.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    );
    Sha256::digest(normal.as_bytes()).into()
}

/// A stored recovery code: `s1:SALT:DIGEST`, hex, where DIGEST is
/// SHA-256(SALT || SHA-256(code)) and SALT 16 random bytes of its own. Over
/// the plain digest, so that an older store's codes are salted without
/// knowing them.
struct Salted {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl Salted {
    fn new(inner: &[u8; 32], rng: &mut impl RngCore) -> Salted {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        Salted {
            salt,
            digest: Self::outer(&salt, inner),
        }
    }

    fn outer(salt: &[u8; 16], inner: &[u8; 32]) -> [u8; 32] {
        Sha256::new()
            .chain_update(salt)
            .chain_update(inner)
            .finalize()
            .into()
    }

    fn parse(stored: &str) -> Option<Salted> {
        let rest = stored.strip_prefix("s1:")?;
        let (salt, digest) = rest.split_once(':')?;
        Some(Salted {
            salt: hex::decode(salt).ok()?.try_into().ok()?,
            digest: hex::decode(digest).ok()?.try_into().ok()?,
        })
    }

    fn matches(&self, inner: &[u8; 32]) -> bool {
        Self::outer(&self.salt, inner).ct_eq(&self.digest).into()
    }
}

impl std::fmt::Display for Salted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "s1:{}:{}",
            hex::encode(self.salt),
            hex::encode(self.digest)
        )
    }
}

/// The recovery codes not used yet, each stored as a [`Salted`] digest.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RecoveryCodes {
    stored: Vec<String>,
    /// Whether some were read in an older store's form (a plain SHA-256,
    /// 64 hex digits) and salted as they were read: the store should be
    /// written again, so that the plain form is gone from it.
    #[serde(skip)]
    salted_on_read: bool,
}

impl RecoveryCodes {
    /// How many are left.
    pub fn len(&self) -> usize {
        self.stored.len()
    }

    /// Whether none are left.
    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// See the field.
    pub(crate) fn salted_on_read(&self) -> bool {
        self.salted_on_read
    }

    /// Codes in the form older stores kept them: for tests of the upgrade.
    #[cfg(test)]
    pub(crate) fn plain_for_test(plain: Vec<String>) -> Self {
        RecoveryCodes {
            stored: plain,
            salted_on_read: false,
        }
    }
}

impl<'de> Deserialize<'de> for RecoveryCodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Vec::<String>::deserialize(d)?;
        let mut rng = rand::rng();
        let mut salted_on_read = false;
        let stored = stored
            .into_iter()
            .map(|s| {
                if Salted::parse(&s).is_some() {
                    return Ok(s);
                }
                let inner: [u8; 32] = hex::decode(&s)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| serde::de::Error::custom("a recovery code digest is not hex"))?;
                salted_on_read = true;
                Ok(Salted::new(&inner, &mut rng).to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(RecoveryCodes {
            stored,
            salted_on_read,
        })
    }
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
            !t.recovery.stored.iter().any(|d| codes.contains(d)),
            "only digests"
        );
        assert!(t.use_recovery_code(&codes[3].to_uppercase()));
        assert!(!t.use_recovery_code(&codes[3]), "used once");
        assert_eq!(t.recovery.len(), RECOVERY_CODES - 1);
        assert!(!t.use_recovery_code("nope"));
    }

    #[test]
    fn recovery_codes_are_salted_and_old_plain_digests_are_salted_when_read() {
        let mut t = TotpState::generate(&mut rand::rng());
        let codes = t.new_recovery_codes(&mut rand::rng());
        let plain = hex::encode(inner(&codes[0]));
        assert!(t
            .recovery
            .stored
            .iter()
            .all(|d| d.starts_with("s1:") && !d.contains(&plain)));
        assert!(!t.recovery.salted_on_read());
        // The same code twice gets two different stored forms.
        let again = Salted::new(&inner(&codes[0]), &mut rand::rng()).to_string();
        assert_ne!(again, t.recovery.stored[0]);
        // A record from before: plain SHA-256 digests, read and salted.
        let mut old = serde_json::to_value(&t).unwrap();
        old["recovery"] = serde_json::json!([plain, hex::encode(inner(&codes[1]))]);
        let mut read: TotpState = serde_json::from_value(old).unwrap();
        assert!(read.recovery.stored.iter().all(|d| d.starts_with("s1:")));
        assert!(read.recovery.salted_on_read());
        assert!(read.use_recovery_code(&codes[1]));
        assert!(read.use_recovery_code(&codes[0]));
        assert!(read.recovery.is_empty());
        let mut bad = serde_json::to_value(&t).unwrap();
        bad["recovery"] = serde_json::json!(["not-hex"]);
        assert!(serde_json::from_value::<TotpState>(bad).is_err());
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
