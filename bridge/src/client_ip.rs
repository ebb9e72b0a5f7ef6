//! Who the client is. A connection comes through one of two listeners, and
//! the listener decides whether its forwarding headers are believed:
//! - on `--listen` (TCP), the client is the TCP peer, unless that peer is a
//!   reverse proxy named with `--trusted-proxy`;
//! - on `--listen-unix`, the peer is a trusted proxy by the socket it came
//!   through: only processes the socket file's mode lets in can connect,
//!   whereas any local process can connect to a loopback port from 127.0.0.1.
//!
//! From a trusted proxy, the client is the address in `X-Forwarded-For` or
//! `Forwarded` (the last one, which that proxy added: any earlier ones came
//! from the client and prove nothing). From any other peer those headers are
//! ignored, so a client cannot choose its address.

use axum::http::HeaderMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client address of a request through `--listen-unix` that says none
/// (no forwarding header, or one that is not an address): 0.0.0.0, which no
/// TCP peer can be. Every such request shares it, as one client, in the
/// per-address limits and in what the service records.
pub(crate) const UNKNOWN: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Who is at the other end of a connection, as the listener saw it; each
/// request carries it as an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A TCP peer on `--listen`, trusted only if `--trusted-proxy` names it.
    Tcp(SocketAddr),
    /// A peer on `--listen-unix`: a proxy, trusted by the socket.
    Proxy,
}

impl Peer {
    /// Whether this peer's forwarding headers are believed, and whether it
    /// has only the overall connection cap.
    pub(crate) fn is_trusted_proxy(&self, trusted_proxies: &[IpAddr]) -> bool {
        match self {
            Peer::Proxy => true,
            Peer::Tcp(addr) => {
                let ip = addr.ip().to_canonical();
                trusted_proxies.iter().any(|p| p.to_canonical() == ip)
            }
        }
    }

    /// The address that counts for the per-address connection cap, or
    /// `None` for a trusted proxy, which carries many clients.
    pub(crate) fn counted_ip(&self, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
        match self {
            Peer::Tcp(addr) if !self.is_trusted_proxy(trusted_proxies) => {
                // An IPv4 peer on an IPv6 socket arrives as ::ffff:a.b.c.d.
                Some(addr.ip().to_canonical())
            }
            _ => None,
        }
    }
}

/// The client's address, given the peer and the request's headers. A
/// trusted proxy that names no client is taken at its word for itself: its
/// TCP address, or [`UNKNOWN`] on the Unix socket.
pub(crate) fn client_ip(peer: &Peer, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    let own = match peer {
        Peer::Tcp(addr) => addr.ip().to_canonical(),
        Peer::Proxy => UNKNOWN,
    };
    if !peer.is_trusted_proxy(trusted_proxies) {
        return own;
    }
    forwarded(headers).unwrap_or(own)
}

/// The last entry of `X-Forwarded-For`, else of `Forwarded`'s `for=`, if it
/// is an address.
fn forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    // The last entry only: earlier ones came from the client. If the proxy's
    // own entry is not an address, none is taken.
    let last_of = |name: &str| -> Option<String> {
        let joined: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let all = joined.join(",");
        all.rsplit(',').next().map(|e| e.trim().to_owned())
    };
    let from_xff = last_of("x-forwarded-for").and_then(|e| e.parse::<IpAddr>().ok());
    let from_forwarded = || {
        let element = last_of("forwarded")?;
        let value = element.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            k.eq_ignore_ascii_case("for").then_some(v.trim_matches('"'))
        })?;
        // `[2001:db8::1]:4711` and `192.0.2.1:4711` carry a port.
        let host = match value.strip_prefix('[') {
            Some(rest) => rest.split_once(']').map(|(h, _)| h)?,
            None => value
                .rsplit_once(':')
                .filter(|(h, _)| !h.contains(':'))
                .map_or(value, |(h, _)| h),
        };
        host.parse::<IpAddr>().ok()
    };
    from_xff.or_else(from_forwarded).map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn tcp(ip: &str) -> Peer {
        Peer::Tcp(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn only_a_trusted_proxy_says_who_the_client_is() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let (via_proxy, other) = (tcp("10.0.0.2"), tcp("198.51.100.1"));
        let xff = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            client_ip(&via_proxy, &xff, &[proxy]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(&other, &xff, &[proxy]),
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "anyone else's header is ignored"
        );
        let fwd = headers(&[(
            "forwarded",
            r#"for=1.2.3.4, for="[2001:db8::7]:4711";proto=https"#,
        )]);
        assert_eq!(
            client_ip(&via_proxy, &fwd, &[proxy]),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        let fwd4 = headers(&[("forwarded", "for=192.0.2.60:4711")]);
        assert_eq!(
            client_ip(&via_proxy, &fwd4, &[proxy]),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(&via_proxy, &HeaderMap::new(), &[proxy]), proxy);
        let junk = headers(&[("x-forwarded-for", "203.0.113.9, not an address")]);
        assert_eq!(
            client_ip(&via_proxy, &junk, &[proxy]),
            proxy,
            "never an earlier entry"
        );
    }

    #[test]
    fn the_unix_socket_is_a_trusted_proxy_whatever_the_addresses_say() {
        let xff = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            client_ip(&Peer::Proxy, &xff, &[]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(&Peer::Proxy, &HeaderMap::new(), &[]), UNKNOWN);
        assert_eq!(Peer::Proxy.counted_ip(&[]), None);
        // On TCP, loopback is no one special.
        let local = tcp("127.0.0.1");
        assert_eq!(
            client_ip(&local, &xff, &[]),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(local.counted_ip(&[]), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(local.counted_ip(&["127.0.0.1".parse().unwrap()]), None);
    }
}
