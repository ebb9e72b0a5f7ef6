//! Sessions: random bearer tokens with an absolute lifetime, kept in memory.
//!
//! Tokens are stored only as their SHA-256, so a lookup's timing depends on the
//! hash, never on how many bytes of a guessed token match, and a memory dump
//! yields no usable token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use users_protocol::Secret;

type TokenHash = [u8; 32];

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// One login.
#[derive(Debug, Clone)]
pub struct Session {
    /// Folded username of the account.
    pub user: String,
    /// When it ends.
    pub expires: SystemTime,
}

/// What to do to the session table once a change is durable.
#[derive(Debug)]
pub enum SessionOp {
    /// Start a session.
    Insert {
        /// The new token.
        token: Secret,
        /// Folded username.
        user: String,
        /// Start time.
        now: SystemTime,
    },
    /// Move sessions to a new folded username (rename).
    Rename {
        /// Old folded username.
        from: String,
        /// New folded username.
        to: String,
    },
    /// End every session of a user except the one given.
    RevokeUser {
        /// Folded username.
        user: String,
        /// A token to keep (the caller's own, on a password change).
        except: Option<Secret>,
    },
}

/// The session table.
pub struct SessionStore {
    by_hash: HashMap<TokenHash, Session>,
    lifetime: Duration,
    swept_at: SystemTime,
}

impl SessionStore {
    /// An empty table issuing sessions of `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        SessionStore {
            by_hash: HashMap::new(),
            lifetime,
            swept_at: SystemTime::UNIX_EPOCH,
        }
    }

    /// A fresh token: 32 random bytes, URL-safe base64.
    pub fn new_token(rng: &mut impl RngCore) -> Secret {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Secret::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
    }

    /// When a session started at `now` ends.
    pub fn expiry(&self, now: SystemTime) -> SystemTime {
        now + self.lifetime
    }

    /// The live session for `token`; an expired one is removed.
    pub fn validate(&mut self, token: &str, now: SystemTime) -> Option<Session> {
        let h = token_hash(token);
        match self.by_hash.get(&h) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                self.by_hash.remove(&h);
                None
            }
            None => None,
        }
    }

    /// Ends one session; false if there was none.
    pub fn remove(&mut self, token: &str) -> bool {
        self.by_hash.remove(&token_hash(token)).is_some()
    }

    /// Applies an operation decided by an action.
    pub fn apply(&mut self, op: SessionOp) {
        match op {
            SessionOp::Insert { token, user, now } => {
                let expires = self.expiry(now);
                self.by_hash
                    .insert(token_hash(token.expose()), Session { user, expires });
            }
            SessionOp::Rename { from, to } => {
                for s in self.by_hash.values_mut().filter(|s| s.user == from) {
                    s.user.clone_from(&to);
                }
            }
            SessionOp::RevokeUser { user, except } => {
                let keep = except.map(|t| token_hash(t.expose()));
                self.by_hash
                    .retain(|h, s| s.user != user || Some(*h) == keep);
            }
        }
    }

    /// Removes expired sessions.
    pub fn sweep(&mut self, now: SystemTime) {
        self.by_hash.retain(|_, s| s.expires > now);
        self.swept_at = now;
    }

    /// Sessions not expired as of at most a second ago. health_check asks on every
    /// call, so the table is walked at most once a second, not once a request.
    pub fn active(&mut self, now: SystemTime) -> usize {
        if now.duration_since(self.swept_at).unwrap_or_default() >= Duration::from_secs(1) {
            self.sweep(now);
        }
        self.by_hash.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn login(s: &mut SessionStore, user: &str, now: SystemTime) -> Secret {
        let token = SessionStore::new_token(&mut rand::rng());
        s.apply(SessionOp::Insert {
            token: token.clone(),
            user: user.into(),
            now,
        });
        token
    }

    #[test]
    fn tokens_are_32_random_bytes_urlsafe() {
        let a = SessionStore::new_token(&mut rand::rng());
        let b = SessionStore::new_token(&mut rand::rng());
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn absolute_expiry() {
        let mut s = SessionStore::new(Duration::from_secs(100));
        let tok = login(&mut s, "alice", t(1000));
        assert_eq!(s.validate(tok.expose(), t(1099)).unwrap().user, "alice");
        assert!(s.validate(tok.expose(), t(1100)).is_none());
        assert_eq!(s.active(t(1000)), 0, "the expired session was removed");
    }

    #[test]
    fn revoke_keeps_the_exception_and_rename_moves() {
        let mut s = SessionStore::new(Duration::from_secs(100));
        let a1 = login(&mut s, "alice", t(0));
        let a2 = login(&mut s, "alice", t(0));
        let b = login(&mut s, "bob", t(0));
        s.apply(SessionOp::RevokeUser {
            user: "alice".into(),
            except: Some(a1.clone()),
        });
        assert!(s.validate(a1.expose(), t(1)).is_some());
        assert!(s.validate(a2.expose(), t(1)).is_none());
        assert!(s.validate(b.expose(), t(1)).is_some());
        s.apply(SessionOp::Rename {
            from: "alice".into(),
            to: "alice2".into(),
        });
        assert_eq!(s.validate(a1.expose(), t(1)).unwrap().user, "alice2");
    }

    #[test]
    fn sweep_drops_expired() {
        let mut s = SessionStore::new(Duration::from_secs(10));
        login(&mut s, "a", t(0));
        login(&mut s, "b", t(5));
        s.sweep(t(12));
        assert_eq!(s.active(t(12)), 1);
    }
}
