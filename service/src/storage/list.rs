//! list_users: filter, order and page the table. Only the requested page is
//! fully sorted; the rest is partitioned around its end.

use super::table::UserTable;
use crate::model::User;
use std::cmp::Ordering;
use std::sync::Arc;
use users_protocol::{ListQuery, ProfileField, Sort, SortKey};

/// One page of matches, and how many matched in all.
pub(crate) struct Page {
    /// The users on this page, in order.
    pub users: Vec<Arc<User>>,
    /// Matches over all pages.
    pub total: usize,
}

/// Filters, orders and pages the users. `admin_view` allows searching by email.
pub(crate) fn list(table: &UserTable, q: &ListQuery, admin_view: bool) -> Page {
    let needle = q.search.as_deref().map(str::to_lowercase);
    let mut hits: Vec<&Arc<User>> = table
        .iter()
        .filter(|u| q.role.is_none_or(|r| u.role == r))
        .filter(|u| q.status.is_none_or(|s| u.status == s))
        .filter(|u| match &needle {
            None => true,
            Some(n) => {
                u.username.to_lowercase().contains(n)
                    || u.profile
                        .get(ProfileField::FullName)
                        .to_lowercase()
                        .contains(n)
                    || (admin_view && u.email.to_lowercase().contains(n))
            }
        })
        .collect();
    let total = hits.len();
    let offset = q.offset.unwrap_or(0).min(total);
    let limit = q.limit.unwrap_or(total);
    let sort = q.sort.unwrap_or_default();
    let cmp = |a: &&Arc<User>, b: &&Arc<User>| order(sort, a, b);
    let end = offset.saturating_add(limit).min(total);
    if end < total && end > 0 {
        hits.select_nth_unstable_by(end - 1, cmp);
        hits.truncate(end);
    }
    hits.sort_unstable_by(cmp);
    let users = hits.into_iter().skip(offset).take(limit).cloned().collect();
    Page { users, total }
}

/// The order of two users under `sort`; ties go by username, so pages are stable.
fn order(sort: Sort, a: &User, b: &User) -> Ordering {
    fn ci(a: &str, b: &str) -> Ordering {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    }
    fn full_name(u: &User) -> &str {
        u.profile.get(ProfileField::FullName)
    }
    let o = match sort.key {
        SortKey::Username => ci(&a.username, &b.username),
        SortKey::Email => ci(&a.email, &b.email),
        SortKey::FullName => ci(full_name(a), full_name(b)),
        SortKey::CreatedAt => a.created_at.cmp(&b.created_at),
        SortKey::LastLogin => a.last_login.cmp(&b.last_login),
        SortKey::Role => a.role.as_str().cmp(b.role.as_str()),
    }
    .then_with(|| a.username.cmp(&b.username));
    if sort.descending {
        o.reverse()
    } else {
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::user;
    use users_protocol::Role;

    fn names(p: &Page) -> Vec<&str> {
        p.users.iter().map(|u| u.username.as_str()).collect()
    }

    #[test]
    fn list_filters_sorts_and_pages() {
        let mut users = Vec::new();
        for i in 0..50 {
            let mut u = user(&format!("user{i:02}"), &format!("u{i}@x.io"));
            if i % 10 == 0 {
                u.role = Role::Admin;
            }
            users.push(Arc::new(u));
        }
        let t = UserTable::from_users(users);
        let q = ListQuery {
            limit: Some(5),
            offset: Some(10),
            ..Default::default()
        };
        let page = list(&t, &q, true);
        assert_eq!(page.total, 50);
        assert_eq!(
            names(&page),
            ["user10", "user11", "user12", "user13", "user14"]
        );

        let q = ListQuery {
            role: Some(Role::Admin),
            sort: Some(Sort::desc(SortKey::Username)),
            ..Default::default()
        };
        let page = list(&t, &q, true);
        assert_eq!(page.total, 5);
        assert_eq!(page.users[0].username, "user40");

        let q = ListQuery {
            search: Some("U3@X".into()),
            ..Default::default()
        };
        assert_eq!(list(&t, &q, true).total, 1);
        assert_eq!(
            list(&t, &q, false).total,
            0,
            "email is searched in the admin view only"
        );
    }

    #[test]
    fn full_names_sort_without_case() {
        let mut a = user("aaa", "a@x.io");
        a.profile.set(ProfileField::FullName, "zed");
        let mut b = user("bbb", "b@x.io");
        b.profile.set(ProfileField::FullName, "Anna");
        let t = UserTable::from_users([Arc::new(a), Arc::new(b)]);
        let q = ListQuery {
            sort: Some(Sort::asc(SortKey::FullName)),
            ..Default::default()
        };
        assert_eq!(names(&list(&t, &q, false)), ["bbb", "aaa"]);
    }
}
