//! Sessions: random bearer tokens with an absolute lifetime and, when
//! `--session-idle-timeout` is set, an idle one; each tied to a user's stable
//! id, so a rename keeps them. Each remembers when it started and was last
//! used, and the client that started it, for the list a user sees.
//!
//! Tokens are kept only as their SHA-256, so a lookup's timing depends on the
//! hash, never on how many bytes of a guessed token match, and a memory dump
//! yields no usable token.

pub(crate) use super::token::{new_token, SessionId};
use crate::model::UserId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// One login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The account.
    pub user: UserId,
    /// When it ends, unless it is left idle before.
    pub expires: SystemTime,
    /// When it started.
    pub created: SystemTime,
    /// When it was last used, as far as this instance knows.
    pub last_used: SystemTime,
    /// Where it was started from.
    pub origin: Arc<Origin>,
}

/// The client a session was started from, as the service saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The client's address (through the bridge, the browser's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The browser's user agent, as the bridge forwarded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

/// A change to the sessions, made once the change it goes with is durable.
/// A store shared by several instances logs these with the users' changes,
/// so every instance applies the same ones in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SessionOp {
    /// Start a session.
    Insert {
        /// The new session.
        id: SessionId,
        /// The account.
        user: UserId,
        /// When it ends.
        expires: SystemTime,
        /// When it started (absent in logs written before it was kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created: Option<SystemTime>,
        /// When it was last used, in a snapshot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_used: Option<SystemTime>,
        /// Where it was started from.
        #[serde(default)]
        origin: Origin,
    },
    /// A session was used at `at`: other instances of a shared store learn
    /// it, so that the idle timeout ends it on none of them early.
    Touch {
        /// The session.
        id: SessionId,
        /// When it was used.
        at: SystemTime,
    },
    /// End one session (a logout).
    Remove {
        /// The session.
        id: SessionId,
    },
    /// End every session of a user except the one given.
    RevokeUser {
        /// The account.
        user: UserId,
        /// A session to keep (the caller's own, on a password change).
        except: Option<SessionId>,
    },
}

/// Where sessions live. Every method takes `&self`: an implementation locks
/// (or queries) as it needs. The writer calls `validate` and `expiry` while it
/// holds the user table's write lock, so an implementation must answer
/// without waiting on the table, and quickly: every write waits behind it.
pub(crate) trait SessionStore: Send + Sync {
    /// When a session started at `now` ends.
    fn expiry(&self, now: SystemTime) -> SystemTime;
    /// The live session for `token`; an expired one is removed.
    fn validate(&self, token: &str, now: SystemTime) -> Option<Session>;
    /// The live session for `token`, without counting it as a use.
    fn peek(&self, token: &str, now: SystemTime) -> Option<Session> {
        self.peek_id(SessionId::of(token), now)
    }
    /// The live session `id` names, without counting it as a use.
    fn peek_id(&self, id: SessionId, now: SystemTime) -> Option<Session>;
    /// Ends one session; false if there was none.
    fn remove(&self, token: &str) -> bool;
    /// Applies an operation decided by an action.
    fn apply(&self, op: SessionOp);
    /// Removes expired sessions.
    fn sweep(&self, now: SystemTime);
    /// Sessions not expired as of at most a second ago.
    fn active(&self, now: SystemTime) -> usize;
    /// Every live session, as the operations that would start them again,
    /// for a snapshot.
    fn live(&self, now: SystemTime) -> Vec<SessionOp>;
    /// The accounts with a live session other than `except`, and how many
    /// such sessions there are: what ending everyone's sessions ends.
    fn holders(&self, now: SystemTime, except: SessionId) -> (BTreeSet<UserId>, usize);
    /// One account's live sessions, the newest first.
    fn of_user(&self, user: UserId, now: SystemTime) -> Vec<(SessionId, Session)>;
    /// When a session ends: at its absolute expiry, or idle before.
    fn ends(&self, session: &Session) -> SystemTime;
    /// The uses to tell other instances of a shared store about, taken once.
    fn take_touches(&self) -> Vec<SessionOp>;
}

/// Sessions in this process's memory.
pub(crate) struct MemorySessions(Mutex<SessionTable>);

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// From the login, whatever happens.
    pub absolute: Duration,
    /// Unused for this long, a session ends; none when `None`.
    pub idle: Option<Duration>,
    /// Most sessions one account may have at once.
    pub max_per_user: usize,
}

impl MemorySessions {
    /// No sessions yet. `replicate` says that uses are to be told to other
    /// instances ([`SessionStore::take_touches`]).
    pub(crate) fn new(lifetimes: Lifetimes, replicate: bool) -> Self {
        MemorySessions(Mutex::new(SessionTable {
            by_hash: HashMap::new(),
            by_user: HashMap::new(),
            lifetime: lifetimes.absolute,
            idle: lifetimes.idle,
            max_per_user: lifetimes.max_per_user.max(1),
            swept_at: SystemTime::UNIX_EPOCH,
            replicate: replicate && lifetimes.idle.is_some(),
            told: HashMap::new(),
            touches: HashMap::new(),
        }))
    }

    // A panic while holding the lock must not take the service down with it:
    // the table is consistent between statements, so go on.
    fn table(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct SessionTable {
    by_hash: HashMap<SessionId, Session>,
    /// Each account's sessions, the one that ends first first.
    by_user: HashMap<UserId, BTreeSet<(SystemTime, SessionId)>>,
    lifetime: Duration,
    idle: Option<Duration>,
    max_per_user: usize,
    swept_at: SystemTime,
    /// Whether uses are told to other instances.
    replicate: bool,
    /// The last use told, per session.
    told: HashMap<SessionId, SystemTime>,
    /// Uses not yet told.
    touches: HashMap<SessionId, SystemTime>,
}

impl SessionTable {
    fn ends(&self, s: &Session) -> SystemTime {
        match self.idle {
            // Where uses are told to other instances, one that has not seen
            // the latest use knows of one at most a tenth of the timeout
            // older (see `touch`): that much slack keeps every instance
            // from ending a session the one using it keeps.
            Some(idle) if self.replicate => s.expires.min(s.last_used + idle + idle / 10),
            Some(idle) => s.expires.min(s.last_used + idle),
            None => s.expires,
        }
    }

    /// Records a use. Told to the others once it is a tenth of the idle
    /// timeout past the last use told, so that an instance that has not
    /// seen the session used ends it at most that much early.
    fn touch(&mut self, id: SessionId, now: SystemTime) {
        let Some(s) = self.by_hash.get_mut(&id) else {
            return;
        };
        s.last_used = s.last_used.max(now);
        let (Some(idle), true) = (self.idle, self.replicate) else {
            return;
        };
        let told = self.told.get(&id).copied().unwrap_or(s.created);
        if now.duration_since(told).unwrap_or_default() >= idle / 10 {
            self.told.insert(id, now);
            self.touches.insert(id, now);
        }
    }

    fn insert(&mut self, id: SessionId, session: Session) {
        self.remove(&id);
        let mine = self.by_user.entry(session.user).or_default();
        // Past the cap, the session that would end first goes. Every
        // instance of a shared store applies the same inserts in the same
        // order, and an expired session ends first, so all evict alike.
        while mine.len() >= self.max_per_user {
            let Some((_, oldest)) = mine.pop_first() else {
                break;
            };
            self.by_hash.remove(&oldest);
            self.told.remove(&oldest);
            self.touches.remove(&oldest);
        }
        mine.insert((session.expires, id));
        self.by_hash.insert(id, session);
    }

    fn remove(&mut self, id: &SessionId) -> Option<Session> {
        let s = self.by_hash.remove(id)?;
        self.told.remove(id);
        self.touches.remove(id);
        if let Some(mine) = self.by_user.get_mut(&s.user) {
            mine.remove(&(s.expires, *id));
            if mine.is_empty() {
                self.by_user.remove(&s.user);
            }
        }
        Some(s)
    }

    fn revoke_user(&mut self, user: UserId, except: Option<SessionId>) {
        let ids: Vec<SessionId> = self
            .by_user
            .get(&user)
            .map(|mine| mine.iter().map(|(_, id)| *id).collect())
            .unwrap_or_default();
        for id in ids.into_iter().filter(|id| Some(*id) != except) {
            self.remove(&id);
        }
    }

    fn sweep(&mut self, now: SystemTime) {
        let expired: Vec<SessionId> = self
            .by_hash
            .iter()
            .filter(|(_, s)| self.ends(s) <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.remove(&id);
        }
        self.swept_at = now;
    }
}

impl SessionStore for MemorySessions {
    fn expiry(&self, now: SystemTime) -> SystemTime {
        now + self.table().lifetime
    }

    fn validate(&self, token: &str, now: SystemTime) -> Option<Session> {
        let h = SessionId::of(token);
        let mut t = self.table();
        let live = t.by_hash.get(&h).map(|s| t.ends(s) > now)?;
        if !live {
            t.remove(&h);
            return None;
        }
        t.touch(h, now);
        t.by_hash.get(&h).cloned()
    }

    fn peek_id(&self, id: SessionId, now: SystemTime) -> Option<Session> {
        let t = self.table();
        t.by_hash.get(&id).filter(|s| t.ends(s) > now).cloned()
    }

    fn remove(&self, token: &str) -> bool {
        self.table().remove(&SessionId::of(token)).is_some()
    }

    fn apply(&self, op: SessionOp) {
        let mut t = self.table();
        match op {
            SessionOp::Insert {
                id,
                user,
                expires,
                created,
                last_used,
                origin,
            } => {
                let created =
                    created.unwrap_or_else(|| expires.checked_sub(t.lifetime).unwrap_or(expires));
                // A session from before uses were kept counts as used now:
                // turning the idle timeout on must not end it at once.
                let session = Session {
                    user,
                    expires,
                    created,
                    last_used: last_used.unwrap_or_else(SystemTime::now),
                    origin: Arc::new(origin),
                };
                t.insert(id, session)
            }
            SessionOp::Touch { id, at } => {
                if let Some(s) = t.by_hash.get_mut(&id) {
                    s.last_used = s.last_used.max(at);
                    t.told.insert(id, at);
                }
            }
            SessionOp::Remove { id } => {
                t.remove(&id);
            }
            SessionOp::RevokeUser { user, except } => t.revoke_user(user, except),
        }
    }

    fn sweep(&self, now: SystemTime) {
        self.table().sweep(now);
    }

    // health_check asks on every call, so the table is walked at most once a
    // second, not once a request.
    fn active(&self, now: SystemTime) -> usize {
        let mut t = self.table();
        if now.duration_since(t.swept_at).unwrap_or_default() >= Duration::from_secs(1) {
            t.sweep(now);
        }
        t.by_hash.len()
    }

    fn live(&self, now: SystemTime) -> Vec<SessionOp> {
        let t = self.table();
        t.by_hash
            .iter()
            .filter(|(_, s)| t.ends(s) > now)
            .map(|(id, s)| SessionOp::Insert {
                id: *id,
                user: s.user,
                expires: s.expires,
                created: Some(s.created),
                last_used: Some(s.last_used),
                origin: (*s.origin).clone(),
            })
            .collect()
    }

    fn holders(&self, now: SystemTime, except: SessionId) -> (BTreeSet<UserId>, usize) {
        let t = self.table();
        let mut users = BTreeSet::new();
        let mut count = 0;
        for (id, s) in &t.by_hash {
            if *id != except && t.ends(s) > now {
                users.insert(s.user);
                count += 1;
            }
        }
        (users, count)
    }

    fn of_user(&self, user: UserId, now: SystemTime) -> Vec<(SessionId, Session)> {
        let t = self.table();
        let mut mine: Vec<(SessionId, Session)> = t
            .by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| Some((*id, t.by_hash.get(id)?.clone())))
            .filter(|(_, s)| t.ends(s) > now)
            .collect();
        mine.sort_by(|a, b| b.1.created.cmp(&a.1.created).then(a.0.cmp(&b.0)));
        mine
    }

    fn ends(&self, session: &Session) -> SystemTime {
        self.table().ends(session)
    }

    fn take_touches(&self) -> Vec<SessionOp> {
        let mut t = self.table();
        t.touches
            .drain()
            .map(|(id, at)| SessionOp::Touch { id, at })
            .collect()
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
