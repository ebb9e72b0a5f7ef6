//! Who a request comes from: the socket's peer, or the client a trusted peer
//! (the bridge) forwarded; and which peers are trusted.
//!
//! The server builds a [`Caller`] once per request; the actions read it. The
//! per-peer limits count a peer under its [`Peer::key`], in which a
//! forwarded client is apart from a direct peer of the same address, and
//! never trusted itself, even when the client runs on the proxy's machine.

use std::net::IpAddr;

/// Where a request came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Peer {
    /// The socket's peer, with the address ZeroMQ reports for it.
    Direct(String),
    /// The client a trusted peer forwarded, as that peer said.
    Forwarded(IpAddr),
}

impl Peer {
    /// The key the per-peer limits count this peer under: its address, or
    /// `forwarded:203.0.113.9` for a forwarded client.
    pub(crate) fn key(&self) -> String {
        match self {
            Peer::Direct(address) => address.clone(),
            Peer::Forwarded(ip) => format!("forwarded:{ip}"),
        }
    }

    /// The address, for people and the audit log.
    pub(crate) fn address(&self) -> String {
        match self {
            Peer::Direct(address) => address.clone(),
            Peer::Forwarded(ip) => ip.to_string(),
        }
    }

    /// Whether this is one of `trusted`; a forwarded client never is.
    pub(crate) fn is_trusted(&self, trusted: &[IpAddr]) -> bool {
        match self {
            Peer::Direct(address) => is_trusted(address, trusted),
            Peer::Forwarded(_) => false,
        }
    }
}

/// Who is asking: built once per request by the server, read by the actions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Caller {
    /// Where the request came from; none over inproc.
    pub peer: Option<Peer>,
    /// The browser's user agent, when the bridge forwarded one.
    pub agent: Option<String>,
}

impl Caller {
    /// The key the per-peer limits count this caller under.
    pub(crate) fn peer_key(&self) -> Option<String> {
        self.peer.as_ref().map(Peer::key)
    }

    /// The caller's address, for people and the audit log.
    pub(crate) fn address(&self) -> Option<String> {
        self.peer.as_ref().map(Peer::address)
    }
}

/// Whether `key` (a [`Peer::key`]) is one of `trusted`: only a direct
/// peer's address can be; a forwarded key never parses as one.
pub(crate) fn is_trusted(key: &str, trusted: &[IpAddr]) -> bool {
    key.parse::<IpAddr>().is_ok_and(|ip| trusted.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_addresses_are_trusted() {
        let trusted = ["127.0.0.1".parse().unwrap()];
        assert!(is_trusted("127.0.0.1", &trusted));
        assert!(!is_trusted("10.0.0.1", &trusted));
        assert!(!is_trusted("forwarded:127.0.0.1", &trusted));
    }

    #[test]
    fn a_forwarded_client_is_counted_apart_and_never_trusted() {
        let trusted = ["127.0.0.1".parse().unwrap()];
        let direct = Peer::Direct("127.0.0.1".into());
        let forwarded = Peer::Forwarded("127.0.0.1".parse().unwrap());
        assert!(direct.is_trusted(&trusted));
        assert!(!forwarded.is_trusted(&trusted));
        assert_ne!(direct.key(), forwarded.key());
        assert_eq!(forwarded.key(), "forwarded:127.0.0.1");
        assert_eq!(direct.address(), forwarded.address());
    }
}
