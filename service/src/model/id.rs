//! Stable user ids: 128 random bits, written as a UUID (version 4), so that ids
//! made by several instances never collide and reveal nothing about the order
//! of creation.

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A user's stable id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId([u8; 16]);

impl UserId {
    /// A fresh id from `rng`.
    pub fn random(rng: &mut impl RngCore) -> UserId {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        UserId(b)
    }
}

impl UserId {
    /// The 16 bytes: a passkey's user handle.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The id of a passkey's user handle.
    pub fn from_bytes(b: [u8; 16]) -> UserId {
        UserId(b)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for UserId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hex: String = s.chars().filter(|&c| c != '-').collect();
        let bytes = hex::decode(&hex).map_err(|_| format!("'{s}' is not a user id"))?;
        let b: [u8; 16] = bytes
            .try_into()
            .map_err(|_| format!("'{s}' is not a user id"))?;
        Ok(UserId(b))
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v4_text_and_round_trip() {
        let id = UserId::random(&mut rand::rng());
        let s = id.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(s.as_bytes()[14], b'4');
        assert_eq!(s.parse::<UserId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        assert!("not-an-id".parse::<UserId>().is_err());
        assert_ne!(UserId::random(&mut rand::rng()), id);
    }
}
