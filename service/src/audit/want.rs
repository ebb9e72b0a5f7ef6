//! What a read of the audit log asks of the store before any event is
//! decrypted ([`Want`]): the events' keys ([`Key`]: who acted, on whom, by
//! which names, of which kind), an id to page back from, and a time window.
//! A store uses them to skip what cannot match, through an index; the
//! reader checks every event it is given all the same, so a store may give
//! more than asked, never less.

use super::record::AuditRecord;
use crate::model::{NameKey, UserId};
use users_protocol::AuditKind;

/// One fact about an event that an index keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// The account that acted.
    Actor(UserId),
    /// The account it happened to.
    Target(UserId),
    /// A name the actor had then, compared as usernames are.
    ActorName(String),
    /// A name the target had then, or the name typed.
    TargetName(String),
    /// Its kind.
    Kind(AuditKind),
}

impl Key {
    /// Every key of `r`.
    pub(crate) fn of(r: &AuditRecord) -> Vec<Key> {
        let mut keys = vec![Key::Kind(r.kind)];
        if let Some(a) = &r.actor {
            keys.extend(a.id.map(Key::Actor));
            keys.push(Key::ActorName(NameKey::of(&a.name).as_str().to_owned()));
        }
        if let Some(t) = &r.target {
            keys.extend(t.id.map(Key::Target));
            keys.push(Key::TargetName(NameKey::of(&t.name).as_str().to_owned()));
        }
        keys
    }

    /// The key as text, for a keyed digest: a tag, then the value.
    pub(crate) fn text(&self) -> String {
        match self {
            Key::Actor(id) => format!("a:{id}"),
            Key::Target(id) => format!("t:{id}"),
            Key::ActorName(n) => format!("an:{n}"),
            Key::TargetName(n) => format!("tn:{n}"),
            Key::Kind(k) => format!("k:{k}"),
        }
    }
}

/// What a read narrows to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Want {
    /// Events with, from each group, at least one of its keys.
    pub all_of: Vec<Vec<Key>>,
    /// Events with an id below this (a page's cursor).
    pub before: Option<u64>,
    /// Events at or after this Unix second.
    pub since: Option<u64>,
    /// Events before this Unix second.
    pub until: Option<u64>,
}
