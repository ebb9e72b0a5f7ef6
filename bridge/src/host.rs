//! The Host header check against DNS rebinding. A page on `evil.example`
//! whose name is made to resolve to 127.0.0.1 can reach the bridge with a
//! matching Origin and Host, so the Origin check alone does not stop it; but
//! its Host names `evil.example`. Only IP literals, `localhost`, and names
//! given with `--allowed-host` are served; anything else gets 403 on every
//! route.

/// Whether a request with this Host header may be served.
pub(crate) fn host_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    let Some(host) = host else {
        return false;
    };
    let name = strip_port(host.trim());
    if name.parse::<std::net::IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let name = name.trim_end_matches('.');
    allowed
        .iter()
        .any(|a| a.trim_end_matches('.').eq_ignore_ascii_case(name))
}

/// `example.org:8765` → `example.org`; `[::1]:8765` → `::1`.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_pass_other_names_only_when_allowed() {
        let allowed = vec!["users.example.org".to_owned()];
        for ok in [
            "127.0.0.1:8765",
            "127.0.0.1",
            "[::1]:8765",
            "10.1.2.3:80",
            "localhost:8765",
            "LOCALHOST",
            "users.example.org:443",
            "Users.Example.Org.",
        ] {
            assert!(host_allowed(Some(ok), &allowed), "{ok}");
        }
        for bad in [
            "evil.example:8765",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "users.example.org.evil",
            "",
        ] {
            assert!(!host_allowed(Some(bad), &allowed), "{bad}");
        }
        assert!(!host_allowed(None, &allowed), "HTTP/1.1 always sends Host");
    }
}
