//! Who the client is. Normally the TCP peer; behind a reverse proxy named
//! with `--trusted-proxy`, the address that proxy reports in
//! `X-Forwarded-For` or `Forwarded` (the last one, which that proxy added:
//! any earlier ones came from the client and prove nothing). From any other
//! peer those headers are ignored, so a client cannot choose its address.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// The client's address, given the TCP peer and the request's headers.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    // An IPv4 peer on an IPv6 socket arrives as ::ffff:a.b.c.d.
    let peer = peer.to_canonical();
    if !trusted_proxies.iter().any(|p| p.to_canonical() == peer) {
        return peer;
    }
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
    let from_xff = from_xff.map(|ip| ip.to_canonical());
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
    from_xff
        .or_else(|| from_forwarded().map(|ip| ip.to_canonical()))
        .unwrap_or(peer)
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

    #[test]
    fn only_a_trusted_proxy_says_who_the_client_is() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            client_ip(proxy, &xff, &[proxy]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(other, &xff, &[proxy]),
            other,
            "anyone else's header is ignored"
        );
        let fwd = headers(&[(
            "forwarded",
            r#"for=1.2.3.4, for="[2001:db8::7]:4711";proto=https"#,
        )]);
        assert_eq!(
            client_ip(proxy, &fwd, &[proxy]),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        let fwd4 = headers(&[("forwarded", "for=192.0.2.60:4711")]);
        assert_eq!(
            client_ip(proxy, &fwd4, &[proxy]),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
        let junk = headers(&[("x-forwarded-for", "203.0.113.9, not an address")]);
        assert_eq!(
            client_ip(proxy, &junk, &[proxy]),
            proxy,
            "never an earlier entry"
        );
    }
}
