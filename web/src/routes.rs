//! The app's addresses, as plain functions of strings so they can be tested
//! without a browser: every screen's path, title and link in the navigation
//! (one table, [`PLACES`]), the user list's query string, and where `?next=`
//! may lead after sign-in.

use std::borrow::Cow;
use users_protocol::{ListQuery, Role, Sort, SortKey, UserStatus};

/// Sign-in: where a signed-out visitor is sent, with the way back in `?next=`.
const LOGIN: &str = "/login";
/// Where sign-in leads when `?next=` does not.
const PROFILE: &str = "/account/profile";
/// The user list, under which each user's page sits.
const USERS: &str = "/admin/users";

/// A screen, as its path names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Screen {
    /// `/`: the profile when signed in, else sign-in.
    Home,
    Login,
    Register,
    Profile,
    Credentials,
    DeleteAccount,
    Security,
    Users,
    Audit,
    /// `/admin/users/<username>`, the name decoded.
    User(String),
    NotFound,
}

/// Who a screen is for, and so who sees its link in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Anyone; its link shows while signed out.
    Anyone,
    SignedIn,
    /// Admins and moderators.
    Staff,
}

/// A screen at a fixed path, and what the shell needs to know of it.
struct Place {
    screen: Screen,
    path: &'static str,
    /// The document's title, before ` · Users`. `/` has none: it moves on at once.
    title: Option<&'static str>,
    audience: Audience,
    /// Its link in the header's navigation: the element's id and its text.
    link: Option<(&'static str, &'static str)>,
}

/// Every screen at a fixed path, in the navigation's order. A new screen is
/// a variant of [`Screen`] and its row here; the shell's match then asks for
/// its view.
static PLACES: [Place; 9] = [
    Place {
        screen: Screen::Home,
        path: "/",
        title: None,
        audience: Audience::Anyone,
        link: None,
    },
    Place {
        screen: Screen::Login,
        path: LOGIN,
        title: Some("Log in"),
        audience: Audience::Anyone,
        link: Some(("nav-login", "Log in")),
    },
    Place {
        screen: Screen::Register,
        path: "/register",
        title: Some("Register"),
        audience: Audience::Anyone,
        link: Some(("nav-register", "Register")),
    },
    Place {
        screen: Screen::Profile,
        path: PROFILE,
        title: Some("Profile"),
        audience: Audience::SignedIn,
        link: Some(("nav-profile", "Profile")),
    },
    Place {
        screen: Screen::Credentials,
        path: "/account/credentials",
        title: Some("Credentials"),
        audience: Audience::SignedIn,
        link: Some(("nav-credentials", "Credentials")),
    },
    Place {
        screen: Screen::Security,
        path: "/account/security",
        title: Some("Security"),
        audience: Audience::SignedIn,
        link: Some(("nav-security", "Security")),
    },
    Place {
        screen: Screen::DeleteAccount,
        path: "/account/delete",
        title: Some("Delete account"),
        audience: Audience::SignedIn,
        link: Some(("nav-delete", "Delete account")),
    },
    Place {
        screen: Screen::Users,
        path: USERS,
        title: Some("Users"),
        audience: Audience::Staff,
        link: Some(("nav-users", "Users")),
    },
    Place {
        screen: Screen::Audit,
        path: "/admin/audit",
        title: Some("Audit log"),
        audience: Audience::Staff,
        link: Some(("nav-audit", "Audit")),
    },
];

impl Screen {
    /// The screen at `path`. A username may come percent-encoded (as linked)
    /// or not (as typed in the address bar): both name it.
    pub(crate) fn parse(path: &str) -> Screen {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        if let Some(place) = PLACES.iter().find(|p| p.path == path) {
            return place.screen.clone();
        }
        match path.strip_prefix(USERS).and_then(|r| r.strip_prefix('/')) {
            Some(name) if !name.is_empty() && !name.contains('/') => Screen::User(decode(name)),
            _ => Screen::NotFound,
        }
    }

    /// Its address. [`Screen::NotFound`] has none of its own: it gives `/`,
    /// where its link leads.
    pub(crate) fn path(&self) -> Cow<'static, str> {
        match self {
            Screen::User(name) => Cow::Owned(user_path(name)),
            _ => Cow::Borrowed(self.place().map_or("/", |p| p.path)),
        }
    }

    /// The document's title, before ` · Users`: a user's page has the
    /// username. None for `/`, which moves on at once.
    pub(crate) fn title(&self) -> Option<Cow<'static, str>> {
        match self {
            Screen::User(name) => Some(Cow::Owned(name.clone())),
            Screen::NotFound => Some(Cow::Borrowed("Not found")),
            _ => self.place().and_then(|p| p.title).map(Cow::Borrowed),
        }
    }

    /// Whether only a signed-in user may see it.
    pub(crate) fn needs_session(&self) -> bool {
        self.audience() != Audience::Anyone
    }

    /// Whether only admins and moderators may see it.
    pub(crate) fn staff_only(&self) -> bool {
        self.audience() == Audience::Staff
    }

    fn audience(&self) -> Audience {
        match self {
            Screen::User(_) => Audience::Staff,
            _ => self.place().map_or(Audience::Anyone, |p| p.audience),
        }
    }

    fn place(&self) -> Option<&'static Place> {
        PLACES.iter().find(|p| p.screen == *self)
    }
}

/// A link of the header's navigation.
pub(crate) struct NavLink {
    pub(crate) path: &'static str,
    pub(crate) id: &'static str,
    pub(crate) text: &'static str,
}

/// The navigation's links, in order: for a visitor, or for a signed-in
/// user, with the staff screens for `staff`.
pub(crate) fn nav_links(signed_in: bool, staff: bool) -> impl Iterator<Item = NavLink> {
    let shown = move |audience| match audience {
        Audience::Anyone => !signed_in,
        Audience::SignedIn => signed_in,
        Audience::Staff => signed_in && staff,
    };
    PLACES
        .iter()
        .filter(move |p| shown(p.audience))
        .filter_map(|p| {
            let (id, text) = p.link?;
            Some(NavLink {
                path: p.path,
                id,
                text,
            })
        })
}

/// Users per page of the list.
pub(crate) const PAGE: usize = 20;

/// Percent-encodes all but letters, digits, `-`, `_` and `.`.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of one user.
pub(crate) fn user_path(username: &str) -> String {
    format!("{USERS}/{}", encode(username))
}

/// The sign-in screen, returning to `here` (a path with its query) afterwards.
pub(crate) fn login_then(here: &str) -> String {
    match here {
        "" | "/" | LOGIN => LOGIN.to_owned(),
        _ => format!("{LOGIN}?next={}", encode(here)),
    }
}

/// Decodes `%XX` escapes; anything malformed is kept as it is.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a query string (`?q=a+b&page=2`), decoded as a
/// form's: `+` is a space. The first of several; none when it is absent.
pub(crate) fn query_value(search: &str, key: &str) -> Option<String> {
    let plus = |s: &str| decode(&s.replace('+', " "));
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(k, _)| plus(k) == key)
        .map(|(_, v)| plus(v))
}

/// Where to go after sign-in: `next` when it is a path inside the app, else
/// the profile. Anything that could leave the origin or that a browser would
/// rewrite into such a path (`//host`, `/\host`, `/.//host`, a scheme), and
/// sign-in itself, are refused.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let ok = next.filter(|n| {
        let path = decode(n.split(['?', '#']).next().unwrap_or(""));
        n.starts_with('/')
            && !path.contains("//")
            && !n.contains('\\')
            && !decode(n).contains('\\')
            && !n.chars().any(char::is_control)
            && path.split('/').all(|seg| seg != "." && seg != "..")
            && Screen::parse(&path) != Screen::Login
            && Screen::parse(&path) != Screen::Register
    });
    ok.map_or_else(|| PROFILE.to_owned(), str::to_owned)
}

/// The user list's search, filters, order and page, as its address holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFilters {
    pub(crate) search: String,
    pub(crate) role: Option<Role>,
    pub(crate) status: Option<UserStatus>,
    pub(crate) sort: Sort,
    /// From 0; the address shows it from 1.
    pub(crate) page: usize,
}

impl ListFilters {
    /// Reads the query string's values (`get("q")`...). Values that mean
    /// nothing are ignored, so a hand-edited address still shows a list.
    pub(crate) fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let key = get("sort")
            .and_then(|k| SortKey::from_name(&k))
            .unwrap_or_default();
        let descending = get("order").as_deref() == Some("desc");
        ListFilters {
            search: get("q").unwrap_or_default(),
            role: get("role").and_then(|r| Role::from_name(&r)),
            status: get("status").and_then(|s| UserStatus::from_name(&s)),
            sort: Sort { key, descending },
            page: get("page")
                .and_then(|p| p.parse::<usize>().ok())
                .map_or(0, |p| p.saturating_sub(1)),
        }
    }

    /// The address of this list; defaults are left out.
    pub(crate) fn href(&self) -> String {
        let mut parts = Vec::new();
        let search = self.search.trim();
        if !search.is_empty() {
            parts.push(format!("q={}", encode(search)));
        }
        if let Some(r) = self.role {
            parts.push(format!("role={r}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={s}"));
        }
        if self.sort != Sort::default() {
            parts.push(format!("sort={}", self.sort.key));
            if self.sort.descending {
                parts.push("order=desc".to_owned());
            }
        }
        if self.page > 0 {
            parts.push(format!("page={}", self.page + 1));
        }
        if parts.is_empty() {
            USERS.to_owned()
        } else {
            format!("{USERS}?{}", parts.join("&"))
        }
    }

    /// The list_users query for this page.
    pub(crate) fn query(&self) -> ListQuery {
        let search = self.search.trim();
        ListQuery {
            limit: Some(PAGE),
            offset: Some(self.page * PAGE),
            search: (!search.is_empty()).then(|| search.to_owned()),
            role: self.role,
            status: self.status,
            sort: Some(self.sort),
        }
    }

    /// The order after a click on `key`'s column header: the other direction
    /// if it is the current key, else ascending (newest first for times).
    pub(crate) fn sorted_by(&self, key: SortKey) -> ListFilters {
        let sort = if self.sort.key == key {
            Sort {
                key,
                descending: !self.sort.descending,
            }
        } else if matches!(key, SortKey::CreatedAt | SortKey::LastLogin) {
            Sort::desc(key)
        } else {
            Sort::asc(key)
        };
        ListFilters {
            sort,
            page: 0,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(q: &[(&str, &str)]) -> ListFilters {
        let map: HashMap<String, String> = q
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListFilters::from_query(|k| map.get(k).cloned())
    }

    #[test]
    fn filters_go_to_the_address_and_back() {
        let f = parse(&[
            ("q", "ali"),
            ("role", "admin"),
            ("status", "active"),
            ("sort", "created_at"),
            ("order", "desc"),
            ("page", "2"),
        ]);
        assert_eq!(
            f.href(),
            "/admin/users?q=ali&role=admin&status=active&sort=created_at&order=desc&page=2"
        );
        assert_eq!(f.page, 1);
        let q = f.query();
        assert_eq!(q.offset, Some(PAGE));
        assert_eq!(q.search.as_deref(), Some("ali"));
        assert_eq!(q.role, Some(Role::Admin));
        assert_eq!(q.sort, Some(Sort::desc(SortKey::CreatedAt)));
        assert_eq!(ListFilters::default().href(), "/admin/users");
    }

    #[test]
    fn nonsense_in_the_address_falls_back_to_defaults() {
        let f = parse(&[("role", "king"), ("sort", "salary"), ("page", "-3")]);
        assert_eq!(f, ListFilters::default());
        assert_eq!(parse(&[("page", "0")]).page, 0);
    }

    #[test]
    fn a_header_click_turns_the_order_around_and_goes_to_the_first_page() {
        let f = ListFilters {
            page: 3,
            ..Default::default()
        };
        let by_name = f.sorted_by(SortKey::Username);
        assert_eq!(by_name.sort, Sort::desc(SortKey::Username));
        assert_eq!(by_name.page, 0);
        assert_eq!(f.sorted_by(SortKey::Email).sort, Sort::asc(SortKey::Email));
        assert_eq!(
            f.sorted_by(SortKey::CreatedAt).sort,
            Sort::desc(SortKey::CreatedAt)
        );
    }

    #[test]
    fn next_stays_inside_the_app() {
        assert_eq!(safe_next(Some("/admin/users?q=a")), "/admin/users?q=a");
        assert_eq!(safe_next(Some("/admin/users/a.b")), "/admin/users/a.b");
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "/login?next=/x",
            "/register",
            "",
            "admin/users",
            "/a\nb",
            "/.//evil.example",
            "/..//evil.example",
            "/%2e%2e//evil.example",
            "/%2F%2Fevil.example",
            "/a/../../b",
            "/%5Cevil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), PROFILE, "{bad:?}");
        }
        assert_eq!(safe_next(None), PROFILE);
    }

    #[test]
    fn paths_name_their_screens() {
        assert_eq!(Screen::parse("/"), Screen::Home);
        assert_eq!(Screen::parse("/login"), Screen::Login);
        assert_eq!(Screen::parse("/account/profile/"), Screen::Profile);
        assert_eq!(Screen::parse("/admin/users"), Screen::Users);
        for path in [
            "/admin/users/a.b",
            "/admin/users/a%2Eb",
            "/admin/users/a%2eb",
        ] {
            assert_eq!(
                Screen::parse(path),
                Screen::User("a.b".to_owned()),
                "{path}"
            );
        }
        for lost in ["/admin/users/a/b", "/admin/usersx", "/nothing", "/admin"] {
            assert_eq!(Screen::parse(lost), Screen::NotFound, "{lost}");
        }
        assert!(Screen::User("x".into()).staff_only());
        assert!(Screen::Profile.needs_session() && !Screen::Profile.staff_only());
        assert!(!Screen::Login.needs_session());
    }

    #[test]
    fn every_screen_is_at_its_own_path() {
        for place in &PLACES {
            assert_eq!(Screen::parse(place.path), place.screen, "{}", place.path);
            assert_eq!(place.screen.path(), place.path);
        }
        let user = Screen::User("a.b c".to_owned());
        assert_eq!(Screen::parse(&user.path()), user);
        assert_eq!(user.title().as_deref(), Some("a.b c"));
        assert_eq!(Screen::Home.title(), None);
    }

    #[test]
    fn the_navigation_links_what_each_visitor_may_open() {
        let ids = |signed_in, staff| {
            nav_links(signed_in, staff)
                .map(|l| l.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(false, false), ["nav-login", "nav-register"]);
        assert_eq!(ids(false, true), ["nav-login", "nav-register"]);
        let user = [
            "nav-profile",
            "nav-credentials",
            "nav-security",
            "nav-delete",
        ];
        assert_eq!(ids(true, false), user);
        assert_eq!(ids(true, true)[..4], user);
        assert_eq!(ids(true, true)[4..], ["nav-users", "nav-audit"]);
    }

    #[test]
    fn the_query_string_is_read_as_a_form() {
        let search = "?q=ann+lee&next=%2Fadmin%2Fusers%3Fq%3Da&empty=&flag&q=second";
        assert_eq!(query_value(search, "q").as_deref(), Some("ann lee"));
        assert_eq!(
            query_value(search, "next").as_deref(),
            Some("/admin/users?q=a")
        );
        assert_eq!(query_value(search, "empty").as_deref(), Some(""));
        assert_eq!(query_value(search, "flag").as_deref(), Some(""));
        assert_eq!(query_value(search, "page"), None);
        assert_eq!(query_value("", "q"), None);
        assert_eq!(query_value("?a%20b=c", "a b").as_deref(), Some("c"));
        // What the list writes, it reads back.
        let f = ListFilters {
            search: "a&b=c d".into(),
            page: 2,
            ..Default::default()
        };
        let href = f.href();
        let search = &href[href.find('?').unwrap()..];
        assert_eq!(ListFilters::from_query(|k| query_value(search, k)), f);
    }

    #[test]
    fn addresses_are_encoded() {
        assert_eq!(user_path("a.b-c_d"), "/admin/users/a.b-c_d");
        assert_eq!(decode("%2Fx%zz%4"), "/x%zz%4");
        assert_eq!(decode(&encode("ä & b")), "ä & b");
        assert_eq!(
            login_then("/admin/users?q=a b"),
            "/login?next=%2Fadmin%2Fusers%3Fq%3Da%20b"
        );
        assert_eq!(login_then("/"), "/login");
        assert_eq!(encode("ä&"), "%C3%A4%26");
    }
}
