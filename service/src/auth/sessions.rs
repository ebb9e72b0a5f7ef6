//! Sessions: random bearer tokens with an absolute lifetime, each tied to a
//! user's stable id, so a rename keeps them.
//!
//! Tokens are kept only as their SHA-256, so a lookup's timing depends on the
//! hash, never on how many bytes of a guessed token match, and a memory dump
//! yields no usable token.

use crate::model::UserId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use users_protocol::Secret;

/// A session's id: the SHA-256 of its token. Everything but the login reply
/// names a session by it, so no log, snapshot or other instance holds a
/// token that could be used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// The id of `token`.
    pub fn of(token: &str) -> Self {
        SessionId(Sha256::digest(token.as_bytes()).into())
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionId({}…)", hex::encode(&self.0[..4]))
    }
}

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(SessionId(bytes))
    }
}

/// A fresh token: 32 random bytes, URL-safe base64.
pub fn new_token(rng: &mut impl RngCore) -> Secret {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(bytes.as_mut());
    Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// One login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account.
    pub user: UserId,
    /// When it ends.
    pub expires: SystemTime,
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
pub trait SessionStore: Send + Sync {
    /// When a session started at `now` ends.
    fn expiry(&self, now: SystemTime) -> SystemTime;
    /// The live session for `token`; an expired one is removed.
    fn validate(&self, token: &str, now: SystemTime) -> Option<Session>;
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
}

/// Sessions in this process's memory.
pub struct MemorySessions(Mutex<SessionTable>);

impl MemorySessions {
    /// No sessions yet; new ones last `lifetime`, and an account has at most
    /// `max_per_user` at once.
    pub fn new(lifetime: Duration, max_per_user: usize) -> Self {
        MemorySessions(Mutex::new(SessionTable {
            by_hash: HashMap::new(),
            by_user: HashMap::new(),
            lifetime,
            max_per_user: max_per_user.max(1),
            swept_at: SystemTime::UNIX_EPOCH,
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
    max_per_user: usize,
    swept_at: SystemTime,
}

impl SessionTable {
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
        }
        mine.insert((session.expires, id));
        self.by_hash.insert(id, session);
    }

    fn remove(&mut self, id: &SessionId) -> Option<Session> {
        let s = self.by_hash.remove(id)?;
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
            .filter(|(_, s)| s.expires <= now)
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
        match t.by_hash.get(&h) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                t.remove(&h);
                None
            }
            None => None,
        }
    }

    fn remove(&self, token: &str) -> bool {
        self.table().remove(&SessionId::of(token)).is_some()
    }

    fn apply(&self, op: SessionOp) {
        let mut t = self.table();
        match op {
            SessionOp::Insert { id, user, expires } => t.insert(id, Session { user, expires }),
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
            .filter(|(_, s)| s.expires > now)
            .map(|(id, s)| SessionOp::Insert {
                id: *id,
                user: s.user,
                expires: s.expires,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn id() -> UserId {
        UserId::random(&mut rand::rng())
    }

    fn login(s: &MemorySessions, user: UserId, now: SystemTime) -> Secret {
        let token = new_token(&mut rand::rng());
        s.apply(SessionOp::Insert {
            id: SessionId::of(token.expose()),
            user,
            expires: s.expiry(now),
        });
        token
    }

    #[test]
    fn tokens_are_32_random_bytes_urlsafe() {
        let a = new_token(&mut rand::rng());
        let b = new_token(&mut rand::rng());
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn absolute_expiry() {
        let s = MemorySessions::new(Duration::from_secs(100), 100);
        let alice = id();
        let tok = login(&s, alice, t(1000));
        assert_eq!(s.validate(tok.expose(), t(1099)).unwrap().user, alice);
        assert!(s.validate(tok.expose(), t(1100)).is_none());
        assert_eq!(s.active(t(1000)), 0, "the expired session was removed");
    }

    #[test]
    fn revoke_keeps_the_exception_only() {
        let s = MemorySessions::new(Duration::from_secs(100), 100);
        let (alice, bob) = (id(), id());
        let a1 = login(&s, alice, t(0));
        let a2 = login(&s, alice, t(0));
        let b = login(&s, bob, t(0));
        s.apply(SessionOp::RevokeUser {
            user: alice,
            except: Some(SessionId::of(a1.expose())),
        });
        assert!(s.validate(a1.expose(), t(1)).is_some());
        assert!(s.validate(a2.expose(), t(1)).is_none());
        assert!(s.validate(b.expose(), t(1)).is_some());
        assert!(s.remove(b.expose()));
        assert!(!s.remove(b.expose()));
    }

    #[test]
    fn past_the_cap_the_session_that_ends_first_goes() {
        let s = MemorySessions::new(Duration::from_secs(100), 3);
        let (alice, bob) = (id(), id());
        let tokens: Vec<Secret> = (0..4).map(|i| login(&s, alice, t(i))).collect();
        let b = login(&s, bob, t(0));
        assert!(
            s.validate(tokens[0].expose(), t(5)).is_none(),
            "the oldest went"
        );
        for tok in &tokens[1..] {
            assert!(s.validate(tok.expose(), t(5)).is_some());
        }
        assert!(
            s.validate(b.expose(), t(5)).is_some(),
            "others' are not touched"
        );
        // The index follows every way a session ends.
        s.apply(SessionOp::RevokeUser {
            user: alice,
            except: Some(SessionId::of(tokens[3].expose())),
        });
        assert!(s.remove(tokens[3].expose()));
        s.sweep(t(200));
        let table = s.table();
        assert!(table.by_hash.is_empty() && table.by_user.is_empty());
    }

    #[test]
    fn sweep_drops_expired() {
        let s = MemorySessions::new(Duration::from_secs(10), 100);
        login(&s, id(), t(0));
        login(&s, id(), t(5));
        s.sweep(t(12));
        assert_eq!(s.active(t(12)), 1);
    }
}
