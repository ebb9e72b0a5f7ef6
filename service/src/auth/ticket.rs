//! Forward-auth tickets: a session's id and a random nonce, sealed with
//! Fernet under a key derived from the store's own (the fingerprint key,
//! under a label of its own), as passkey ceremonies are. Nothing of a ticket
//! is stored: any instance of the store opens one, no one else can read or
//! make one, and it works exactly as long as its session does, which each
//! verification looks up. It is no session token: it names the session by
//! its id, which no action takes in place of a token.

use super::token::SessionId;
use crate::storage::crypto::FingerprintKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// What the ticket key is derived for (in upper case, as no account's
/// name can be: see `auth::passkey`'s label).
const TICKET_LABEL: &str = "USERS-SERVICE FORWARD-AUTH TICKETS";

/// A ticket, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ticket {
    /// The session it stands for.
    pub session: SessionId,
    /// 128 random bits, hex: tells two tickets of one session apart.
    pub nonce: String,
}

impl Ticket {
    /// A new ticket for `session`.
    pub(crate) fn new(session: SessionId) -> Self {
        let mut b = [0u8; 16];
        rand::rng().fill_bytes(&mut b);
        Ticket {
            session,
            nonce: hex::encode(b),
        }
    }

    /// The ticket sealed: what the cookie carries.
    pub(crate) fn seal(&self, key: &FingerprintKey) -> Option<String> {
        let text = Zeroizing::new(serde_json::to_vec(self).ok()?);
        Some(key.sealer(TICKET_LABEL)?.encrypt(&text))
    }

    /// The ticket `sealed` holds, if it was sealed under `key`.
    pub(crate) fn open(key: &FingerprintKey, sealed: &str) -> Option<Ticket> {
        let text = key.sealer(TICKET_LABEL)?.decrypt(sealed.trim()).ok()?;
        serde_json::from_slice(&Zeroizing::new(text)).ok()
    }
}

/// The most tickets remembered; past it, the memory starts again, and a
/// ticket's hosts may be recorded once more.
const SEEN_TICKETS: usize = 4096;
/// The most hosts recorded per ticket: a ticket's holder may name any host
/// to forward_verify, and must not fill the audit log by doing so.
const HOSTS_PER_TICKET: usize = 16;

/// Which tickets this instance has seen for which hosts, so that only a
/// ticket's first verification for a host goes to the audit log.
#[derive(Default)]
pub(crate) struct Seen(Mutex<HashMap<String, HashSet<String>>>);

impl Seen {
    /// True the first time `ticket` is seen for `host`, for its first
    /// [`HOSTS_PER_TICKET`] hosts.
    pub(crate) fn first(&self, ticket: &Ticket, host: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= SEEN_TICKETS && !seen.contains_key(&ticket.nonce) {
            seen.clear();
        }
        let hosts = seen.entry(ticket.nonce.clone()).or_default();
        hosts.len() < HOSTS_PER_TICKET && hosts.insert(host.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_only_under_its_key_and_whole() {
        let key = FingerprintKey::random();
        let t = Ticket::new(SessionId::of("token"));
        let sealed = t.seal(&key).unwrap();
        assert_eq!(Ticket::open(&key, &sealed), Some(t.clone()));
        assert_eq!(Ticket::open(&FingerprintKey::random(), &sealed), None);
        let mut bent = sealed.clone().into_bytes();
        bent[20] ^= 1;
        assert_eq!(Ticket::open(&key, &String::from_utf8_lossy(&bent)), None);
        assert_eq!(Ticket::open(&key, "token"), None);
        // Two tickets of one session differ.
        assert_ne!(Ticket::new(t.session).nonce, t.nonce);
    }

    #[test]
    fn a_ticket_is_seen_first_once_per_host() {
        let seen = Seen::default();
        let t = Ticket::new(SessionId::of("token"));
        assert!(seen.first(&t, "wiki.lan"));
        assert!(!seen.first(&t, "wiki.lan"));
        assert!(seen.first(&t, "grafana.lan"));
        assert!(seen.first(&Ticket::new(t.session), "wiki.lan"));
        // Past its first hosts, a ticket's are no longer recorded.
        for i in 2..HOSTS_PER_TICKET {
            assert!(seen.first(&t, &format!("h{i}.lan")));
        }
        assert!(!seen.first(&t, "one-more.lan"));
    }
}
