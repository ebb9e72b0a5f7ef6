//! Which roles may use which host (`--protect HOST=ROLE[,ROLE…]`), and
//! which addresses sign-in may send people back to (`rd`).
//!
//! A host no rule names is refused: deny by default. A pattern is a host
//! name, or `*.` and a domain for every name under it (not the domain
//! itself). The first rule that matches decides.

use std::str::FromStr;
use users_protocol::Role;

/// One `--protect` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protect {
    /// `wiki.example.lan`, or `*.example.lan`; lower case.
    pattern: String,
    /// The roles that may use it.
    roles: Vec<Role>,
}

impl FromStr for Protect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "HOST=ROLE[,ROLE…], e.g. wiki.example.lan=admin,user or *.example.lan=user";
        let (pattern, roles) = s.split_once('=').ok_or(format!("expected {usage}"))?;
        let pattern = pattern.trim().to_ascii_lowercase();
        let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
        if !dns_name(name) {
            return Err(format!(
                "'{pattern}' is no host name or *.domain pattern ({usage})"
            ));
        }
        let roles = roles
            .split(',')
            .map(|r| {
                Role::from_name(r.trim())
                    .ok_or_else(|| format!("'{}' is no role: {}", r.trim(), Role::NAMES.join(", ")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Protect { pattern, roles })
    }
}

/// Whether `name` is a DNS name: labels of letters, digits and hyphens.
fn dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= users_protocol::forward::MAX_HOST
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// `--cookie-domain`: a domain of two labels at least, such as
/// `.example.lan` (the leading dot is optional); lower case.
pub(crate) fn cookie_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_start_matches('.').to_ascii_lowercase();
    if dns_name(&d) && d.contains('.') {
        Ok(d)
    } else {
        Err(format!("'{s}' is no domain such as .example.lan"))
    }
}

/// `--public-url`: an http or https address with a host, such as
/// `https://users.example.lan`; without a trailing slash.
pub(crate) fn public_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or(format!("'{s}': an http:// or https:// address"))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '\\', ' ']) {
        return Err(format!(
            "'{s}': a scheme and a host (and port), nothing more"
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

impl Protect {
    fn matches(&self, host: &str) -> bool {
        match self.pattern.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == self.pattern,
        }
    }
}

/// The host part of a `Host` or `X-Forwarded-Host` value: no port, lower case.
pub(crate) fn host_name(authority: &str) -> String {
    let a = authority.trim();
    let name = match a.strip_prefix('[') {
        // An IPv6 address: `[::1]:8080`.
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => a.rsplit_once(':').map_or(a, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                a
            }
        }),
    };
    // `wiki.example.lan.` is `wiki.example.lan`.
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The roles that may use `host` (a name from [`host_name`]): those of the
/// first rule that matches, or none when no rule does.
pub(crate) fn allowed_roles<'a>(rules: &'a [Protect], host: &str) -> Option<&'a [Role]> {
    rules
        .iter()
        .find(|r| r.matches(host))
        .map(|r| r.roles.as_slice())
}

/// Whether sign-in may send people back to `rd`: an http(s) address whose
/// host a rule covers, or that lies within `cookie_domain`.
pub(crate) fn return_allowed(rd: &str, rules: &[Protect], cookie_domain: Option<&str>) -> bool {
    let Some(rest) = rd
        .strip_prefix("https://")
        .or_else(|| rd.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains(['@', '\\']) || rd.chars().any(char::is_control) {
        return false;
    }
    let host = host_name(authority);
    if host.is_empty() {
        return false;
    }
    // `--cookie-domain`, as `cookie_domain` checked it: lower case, no dot
    // before it.
    let in_domain = cookie_domain
        .is_some_and(|d| !d.is_empty() && (host == d || host.ends_with(&format!(".{d}"))));
    in_domain || allowed_roles(rules, &host).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(specs: &[&str]) -> Vec<Protect> {
        specs.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn rules_parse_and_refuse_what_is_no_rule() {
        let r: Protect = "Wiki.Example.lan=admin, user".parse().unwrap();
        assert_eq!(r.pattern, "wiki.example.lan");
        assert_eq!(r.roles, [Role::Admin, Role::User]);
        for bad in [
            "wiki",
            "=admin",
            "wiki.lan=",
            "wiki.lan=root",
            "a..b=user",
            "*.=user",
            "http://x=user",
        ] {
            assert!(bad.parse::<Protect>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_matching_rule_decides_and_no_rule_means_no() {
        let r = rules(&["grafana.example.lan=admin", "*.example.lan=user,admin"]);
        assert_eq!(
            allowed_roles(&r, "grafana.example.lan"),
            Some(&[Role::Admin][..])
        );
        assert_eq!(
            allowed_roles(&r, "wiki.example.lan"),
            Some(&[Role::User, Role::Admin][..])
        );
        assert_eq!(
            allowed_roles(&r, "a.b.example.lan").map(<[Role]>::len),
            Some(2)
        );
        // Not the domain itself, nor a name that only ends alike.
        assert_eq!(allowed_roles(&r, "example.lan"), None);
        assert_eq!(allowed_roles(&r, "badexample.lan"), None);
        assert_eq!(allowed_roles(&r, "other.lan"), None);
    }

    #[test]
    fn hosts_lose_their_port_and_case() {
        assert_eq!(host_name("Wiki.Example.LAN:8443"), "wiki.example.lan");
        assert_eq!(host_name("wiki.lan"), "wiki.lan");
        assert_eq!(host_name("[::1]:80"), "::1");
        assert_eq!(host_name("wiki.lan.:443"), "wiki.lan");
    }

    #[test]
    fn sign_in_returns_only_to_protected_hosts_or_the_cookie_domain() {
        let r = rules(&["wiki.example.lan=user"]);
        assert!(return_allowed(
            "https://wiki.example.lan/page?x=1",
            &r,
            None
        ));
        assert!(return_allowed("http://wiki.example.lan:8080/", &r, None));
        assert!(!return_allowed("https://evil.example/", &r, None));
        assert!(!return_allowed(
            "https://wiki.example.lan@evil.example/",
            &r,
            None
        ));
        assert!(!return_allowed("//wiki.example.lan/", &r, None));
        assert!(!return_allowed("javascript:alert(1)", &r, None));
        let home = cookie_domain(".Home.lan").unwrap();
        assert!(return_allowed("https://media.home.lan/", &r, Some(&home)));
        assert!(!return_allowed("https://evilhome.lan/", &r, Some(&home)));
    }

    #[test]
    fn cookie_domains_and_public_addresses_are_checked() {
        assert_eq!(cookie_domain(".example.lan").unwrap(), "example.lan");
        for bad in [".", "", "lan", ".exa mple.lan", "a..b"] {
            assert!(cookie_domain(bad).is_err(), "{bad}");
        }
        assert_eq!(
            public_url("https://users.lan:8443/").unwrap(),
            "https://users.lan:8443"
        );
        for bad in [
            "users.lan",
            "ftp://users.lan",
            "https://",
            "https://a/b",
            "https://u@evil",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}
