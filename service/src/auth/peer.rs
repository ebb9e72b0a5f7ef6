//! Peer addresses as the socket reports them, and which are trusted.

use std::net::IpAddr;

/// The prefix of the key a client forwarded by a trusted peer is counted
/// under: `forwarded:203.0.113.9`.
pub const FORWARDED: &str = "forwarded:";

/// The client's address in a peer key, for people: without the prefix.
pub fn address(peer: &str) -> &str {
    peer.strip_prefix(FORWARDED).unwrap_or(peer)
}

/// Whether `peer` (an address as ZeroMQ reports it, or a `forwarded:` key,
/// which never is) is one of `trusted`.
pub fn is_trusted(peer: &str, trusted: &[IpAddr]) -> bool {
    peer.parse::<IpAddr>().is_ok_and(|ip| trusted.contains(&ip))
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
}
