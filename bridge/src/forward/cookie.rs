//! The sign-in cookie, `users_session`, that carries a forward-auth ticket:
//! made and read with the `cookie` crate.

use cookie::{Cookie, SameSite};
use users_protocol::forward::TICKET_COOKIE;

/// How the cookie is set: over HTTPS or not, for which domain.
pub(crate) struct Scope<'a> {
    /// `Secure`: the page was served over HTTPS.
    pub(crate) https: bool,
    /// `Domain` (`--cookie-domain`), so that apps on other subdomains see it.
    pub(crate) domain: Option<&'a str>,
}

/// The `Set-Cookie` value that sets `ticket` for `max_age_secs`, or, with
/// none, clears the cookie.
pub(crate) fn set_cookie(ticket: Option<&str>, max_age_secs: i64, scope: &Scope<'_>) -> String {
    let mut c = Cookie::build((TICKET_COOKIE, ticket.unwrap_or("").to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(scope.https)
        .max_age(cookie::time::Duration::seconds(match ticket {
            Some(_) => max_age_secs.max(0),
            None => 0,
        }));
    if let Some(d) = scope.domain {
        c = c.domain(d.trim_start_matches('.').to_owned());
    }
    c.build().to_string()
}

/// The ticket in a request's `Cookie` headers, if any.
pub(crate) fn ticket<'a>(cookie_headers: impl Iterator<Item = &'a str>) -> Option<String> {
    cookie_headers
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == TICKET_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_scoped() {
        let plain = Scope {
            https: false,
            domain: None,
        };
        let set = set_cookie(Some("abc"), 3600, &plain);
        for part in [
            "users_session=abc",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!set.contains("Secure") && !set.contains("Domain"), "{set}");
        let lan = Scope {
            https: true,
            domain: Some(".example.lan"),
        };
        let set = set_cookie(Some("abc"), 10, &lan);
        assert!(
            set.contains("Secure") && set.contains("Domain=example.lan"),
            "{set}"
        );
        let cleared = set_cookie(None, 10, &lan);
        assert!(
            cleared.contains("users_session=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    }

    #[test]
    fn the_ticket_is_found_among_other_cookies() {
        let headers = ["theme=dark; users_session=t1", "other=x"];
        assert_eq!(ticket(headers.into_iter()), Some("t1".into()));
        assert_eq!(ticket(["users_session="].into_iter()), None);
        assert_eq!(ticket(["session=t1"].into_iter()), None);
    }
}
