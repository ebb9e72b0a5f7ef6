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
/// Recovery links: `/reset/<token>`.
pub(crate) const RESET: &str = "/reset/";
/// Invitations: `/invite/<token>`.
pub(crate) const INVITE: &str = "/invite/";

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
    /// `/reset/<token>`: a recovery link.
    Reset(String),
    Invitations,
    /// `/invite/<token>`: registration with an invitation.
    Invite(String),
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
    /// Admins only.
    Admin,
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
static PLACES: [Place; 10] = [
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
    Place {
        screen: Screen::Invitations,
        path: "/admin/invitations",
        title: Some("Invitations"),
        audience: Audience::Admin,
        link: Some(("nav-invitations", "Invitations")),
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
        for (prefix, screen) in [
            (RESET, Screen::Reset as fn(String) -> Screen),
            (INVITE, Screen::Invite),
        ] {
            if let Some(token) = path.strip_prefix(prefix) {
                return match token.is_empty() || token.contains('/') {
                    true => Screen::NotFound,
                    false => screen(token.to_owned()),
                };
            }
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
            Screen::Reset(token) => Cow::Owned(format!("{RESET}{token}")),
            Screen::Invite(token) => Cow::Owned(format!("{INVITE}{token}")),
            _ => Cow::Borrowed(self.place().map_or("/", |p| p.path)),
        }
    }

    /// The document's title, before ` · Users`: a user's page has the
    /// username. None for `/`, which moves on at once.
    pub(crate) fn title(&self) -> Option<Cow<'static, str>> {
        match self {
            Screen::User(name) => Some(Cow::Owned(name.clone())),
            Screen::NotFound => Some(Cow::Borrowed("Not found")),
            // Not the token: titles go into the browser's history.
            Screen::Reset(_) => Some(Cow::Borrowed("Choose a new password")),
            Screen::Invite(_) => Some(Cow::Borrowed("Invitation")),
            _ => self.place().and_then(|p| p.title).map(Cow::Borrowed),
        }
    }

    /// Whether only a signed-in user may see it.
    pub(crate) fn needs_session(&self) -> bool {
        self.audience() != Audience::Anyone
    }

    /// Whether only admins and moderators may see it.
    pub(crate) fn staff_only(&self) -> bool {
        matches!(self.audience(), Audience::Staff | Audience::Admin)
    }

    /// Whether only admins may see it.
    pub(crate) fn admin_only(&self) -> bool {
        self.audience() == Audience::Admin
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
/// user, with the staff screens for `staff` and the admins' for `admin`.
pub(crate) fn nav_links(
    signed_in: bool,
    staff: bool,
    admin: bool,
) -> impl Iterator<Item = NavLink> {
    let shown = move |audience| match audience {
        Audience::Anyone => !signed_in,
        Audience::SignedIn => signed_in,
        Audience::Staff => signed_in && staff,
        Audience::Admin => signed_in && admin,
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

/// The query that opens the Security page at adding a passkey: where a new
/// account, or one just recovered, goes after its first sign-in.
pub(crate) const ADD_PASSKEY: (&str, &str) = ("add", "passkey");

/// Sign-in, then the Security page at adding a passkey.
pub(crate) fn login_then_add_passkey() -> String {
    let (key, value) = ADD_PASSKEY;
    login_then(&format!("{}?{key}={value}", Screen::Security.path()))
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
#[path = "routes_tests.rs"]
mod tests;
