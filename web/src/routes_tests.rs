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
        nav_links(signed_in, staff, false)
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
    let admin: Vec<_> = nav_links(true, true, true).map(|l| l.id).collect();
    assert_eq!(admin[4..], ["nav-users", "nav-audit", "nav-invitations"]);
    assert_eq!(
        Screen::parse("/invite/abc.def"),
        Screen::Invite("abc.def".into())
    );
    assert_eq!(
        Screen::parse("/reset/abc.def"),
        Screen::Reset("abc.def".into())
    );
    assert_eq!(Screen::parse("/reset/"), Screen::NotFound);
    assert!(Screen::Invitations.admin_only() && Screen::Invitations.staff_only());
    assert!(!Screen::Invite("t".into()).needs_session());
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
