//! What binds a snapshot to its journal, so that files from different moments
//! are never mixed at start-up.
//!
//! Journal records form a chain: each names, in `after`, the link of the
//! record before it, and a record's own link is a hash of its token. The
//! snapshot's header carries a seal, a Fernet token under the store's key,
//! holding the snapshot's `journal_seq`, the link of the last record it
//! covers, and the IV of its data token (which that token's HMAC
//! authenticates). So:
//! - editing the clear `journal_seq`, or swapping in another snapshot's data,
//!   breaks the seal;
//! - a journal that does not continue this snapshot (a restored old snapshot
//!   beside a newer journal, or a journal from another timeline) breaks the
//!   chain at its first record after the snapshot;
//! - a gap or a repeat breaks the sequence.

use crate::audit::Head;
use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use fernet::Fernet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A link of the chain: 16 bytes, hex.
pub(crate) type Link = String;

/// The link a journal line's token makes.
pub(crate) fn link_of(token: &str) -> Link {
    hex::encode(&Sha256::digest(token.as_bytes())[..16])
}

/// A fresh link, for a store's first snapshot: nothing comes before it.
pub(crate) fn new_link(rng: &mut impl rand::RngCore) -> Link {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The IV of a Fernet token (bytes 9 to 25 of its decoding), hex.
pub(crate) fn token_iv(token: &str) -> Option<String> {
    let head = URL_SAFE.decode(token.get(..36)?).ok()?;
    head.get(9..25).map(hex::encode)
}

/// The seal of one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Seal {
    /// The last journal record the snapshot holds.
    pub journal_seq: u64,
    /// The link of that record: the next one must name it in `after`.
    pub link: Link,
    /// The IV of the snapshot's data token.
    pub data_iv: String,
    /// A backup: a snapshot meant to stand alone, without a journal. A
    /// store's own snapshot always has its journal beside it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backup: bool,
    /// The audit log's newest event as of `journal_seq` (see
    /// [`crate::audit::chain`]); a journal record after it may seal a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<Head>,
}

impl Seal {
    /// The seal as a Fernet token.
    pub(crate) fn encrypt(&self, cipher: &Fernet) -> Result<String, serde_json::Error> {
        Ok(cipher.encrypt(&serde_json::to_vec(self)?))
    }

    /// Opens a seal token; `None` if it was not made with this key, or altered.
    pub(crate) fn decrypt(token: &str, cipher: &Fernet) -> Option<Seal> {
        let plain = cipher.decrypt(token).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_round_trips_and_names_the_data_token() {
        let cipher = Fernet::new(&Fernet::generate_key()).unwrap();
        let data = cipher.encrypt(b"{}");
        let seal = Seal {
            journal_seq: 7,
            link: new_link(&mut rand::rng()),
            data_iv: token_iv(&data).unwrap(),
            backup: false,
            audit_head: None,
        };
        let token = seal.encrypt(&cipher).unwrap();
        assert_eq!(Seal::decrypt(&token, &cipher), Some(seal.clone()));
        let other = Fernet::new(&Fernet::generate_key()).unwrap();
        assert_eq!(Seal::decrypt(&token, &other), None);
        assert_ne!(token_iv(&cipher.encrypt(b"{}")), Some(seal.data_iv));
        assert_eq!(link_of("a").len(), 32);
        assert_ne!(link_of("a"), link_of("b"));
    }
}
