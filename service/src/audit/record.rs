//! The audit event as it is stored (version 2): ids and names of the
//! accounts involved as they were at the time, never a secret, and the
//! digest of the event before it, which chains the log (see [`chain`]).
//! Version 1 had no digest.

use crate::model::UserId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use users_protocol::AuditKind;

/// An account in an event: its id when it had one, and its name then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The stable id; none for a name a failed login typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<UserId>,
    /// The username at the time, or the name typed.
    pub name: String,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The format version, 1.
    pub v: u8,
    /// Increases with every event; names it as a paging cursor.
    pub id: u64,
    /// Unix seconds.
    pub at: u64,
    /// What happened.
    pub kind: AuditKind,
    /// Who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Party>,
    /// The account it happened to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Party>,
    /// The client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Whether it worked.
    pub success: bool,
    /// Changed fields, old → new names, why a login failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Version 2: the [`AuditRecord::digest`] of the event before this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// The version written.
pub(crate) const VERSION: u8 = 2;

/// The newest event of a log: what the store's own records seal, so that a
/// log cut short shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Its id.
    pub id: u64,
    /// Its digest.
    pub digest: String,
}

impl AuditRecord {
    /// SHA-256 of the event as stored, its `prev` included, hex. It lives
    /// only inside the log's tokens, sealed under the store's key, so no
    /// one without the key can read a digest or make an event that fits.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }

    /// The head this event makes.
    pub fn head(&self) -> Head {
        Head {
            id: self.id,
            digest: self.digest(),
        }
    }
}

/// The lowest id an event numbered at `now` may have: the Unix second
/// times 2^20. A log numbers on from its last event, and from at least
/// this, so that ids never go back, not even after every event was dropped
/// for age. They stay below 2^53, exact in JavaScript, until the year 2255.
pub(crate) fn id_floor(now: std::time::SystemTime) -> u64 {
    crate::clock::unix_secs(now) << 20
}

impl AuditRecord {
    /// Stands for `count` events the queue could not keep.
    pub fn dropped(at: u64, count: u64) -> AuditRecord {
        AuditRecord {
            v: VERSION,
            id: 0,
            at,
            kind: AuditKind::LoginFailed,
            actor: None,
            target: None,
            client: None,
            success: false,
            detail: format!("{count} more failed or throttled logins, not recorded one by one"),
            prev: None,
        }
    }
}
