//! [`Event`]: what an action says happened, before the writer gives it
//! names and an id and it becomes an [`super::AuditRecord`].

use super::record::{AuditRecord, Party, VERSION};
use crate::auth::peer::Caller;
use crate::model::{NameKey, UserId};
use crate::storage::crypto::FingerprintKey;
use users_protocol::AuditKind;

/// The name an event about a name that is no account is recorded under.
pub(crate) const UNKNOWN_ACCOUNT: &str = "(unknown account)";

/// What an event's detail says of a name that is no account: not the name,
/// which may be a password typed in the wrong field, but a short
/// fingerprint of it under the store's key, so that a run against one name
/// shows and no one without the master password can test guesses against it.
pub(crate) fn unknown_name(key: &FingerprintKey, name: &str) -> String {
    let digest = key.digest(NameKey::of(name).as_str());
    format!(" (name #{})", &digest[..8])
}

/// Something that happened to an account, for the audit log. The writer
/// records the events of a change in the same commit as the change, with
/// the names the accounts have then; events of nothing changed (a failed
/// login, a throttled one) go through [`super::AuditQueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// What happened.
    pub kind: AuditKind,
    /// Who did it: the account whose session made the request, if any.
    pub actor: Option<UserId>,
    /// The account it happened to, when there is one.
    pub target: Option<UserId>,
    /// The name it was asked by, when the table will not have it: a deleted
    /// account's, or the name a failed login typed.
    pub name: Option<String>,
    /// The client's address.
    pub client: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// Changed fields, old → new names, or why a login failed. Never a secret.
    pub detail: String,
    /// When it happened (Unix seconds), for events that wait in the queue;
    /// the others take their commit's time.
    pub at: Option<u64>,
}

impl Event {
    /// A successful `kind` by `actor` to `target`.
    pub(crate) fn new(kind: AuditKind, actor: Option<UserId>, target: UserId) -> Self {
        Event {
            kind,
            actor,
            target: Some(target),
            name: None,
            client: None,
            success: true,
            detail: String::new(),
            at: None,
        }
    }

    /// Something the operator did to the whole store, from the command line:
    /// no account did it, and it happened to none.
    pub(crate) fn operator(kind: AuditKind, detail: impl Into<String>) -> Self {
        Event {
            kind,
            actor: None,
            target: None,
            name: None,
            client: None,
            success: true,
            detail: detail.into(),
            at: None,
        }
    }

    /// `rotate-key`'s event.
    pub(crate) fn key_rotated(kdf_iterations: u32) -> Self {
        Event::operator(
            AuditKind::KeyRotated,
            format!(
                "rotate-key: every record re-encrypted under a new master password \
                 (a fresh salt, PBKDF2 with {kdf_iterations} iterations)"
            ),
        )
    }

    /// The same, from `caller`'s address.
    pub(crate) fn from(mut self, caller: &Caller) -> Self {
        self.client = caller.address();
        self
    }

    /// The same, with details.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

impl Event {
    /// The stored record, at `at` (Unix seconds), with the names `name_of`
    /// gives the accounts' ids now; the backend numbers it.
    pub(crate) fn record(self, at: u64, name_of: impl Fn(UserId) -> Option<String>) -> AuditRecord {
        let party = |id: UserId, fallback: Option<String>| Party {
            id: Some(id),
            name: name_of(id).or(fallback).unwrap_or_default(),
        };
        let target = match (self.target, self.name) {
            (Some(id), name) => Some(party(id, name)),
            (None, Some(name)) => Some(Party { id: None, name }),
            (None, None) => None,
        };
        AuditRecord {
            v: VERSION,
            id: 0,
            at: self.at.unwrap_or(at),
            kind: self.kind,
            actor: self.actor.map(|id| party(id, None)),
            target,
            client: self.client,
            success: self.success,
            detail: self.detail,
            prev: None,
        }
    }
}
