//! `/admin/users`: the user list, searched, filtered, sorted and paged by the
//! service. Everything it shows comes from its address (see
//! [`routes::ListFilters`]), so a reload keeps it, Back returns to the last
//! filters, and it can be linked. It only looks: changes are made on each
//! user's own page.

use crate::dom;
use crate::nav;
use crate::routes::{self, ListFilters, PAGE};
use crate::state::{AppState, Notice};
use crate::widgets::{day, when, NoticeView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::fmt::Display;
use users_protocol::{ProfileField, Role, SortKey, UserStatus, UserView};

/// A filter's options: "any" (no filter), then every value by its wire name.
fn filter_options<T: Copy + Display>(all: &[T]) -> Vec<(Option<T>, String)> {
    std::iter::once((None, "any".to_owned()))
        .chain(all.iter().map(|&v| (Some(v), v.to_string())))
        .collect()
}

/// The wire name of a filter's value, the empty string for "any".
fn filter_value<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The table's columns: a heading, and the key it sorts by, if any.
const COLUMNS: [(&str, Option<SortKey>, &str); 7] = [
    ("Username", Some(SortKey::Username), ""),
    ("Email", Some(SortKey::Email), ""),
    ("Full name", Some(SortKey::FullName), "opt"),
    ("Role", Some(SortKey::Role), ""),
    ("Status", None, ""),
    ("Created", Some(SortKey::CreatedAt), "opt"),
    ("Last login", Some(SortKey::LastLogin), "opt"),
];

/// A link to another page of the list; without one (on the first or last
/// page) it stays on the page, disabled, so focus is not lost when it is used.
fn page_link(id: &'static str, label: &'static str, href: Signal<Option<String>>) -> impl IntoView {
    view! {
        <a id=id class="button secondary" href=move || href.get()
            role=move || href.with(Option::is_none).then_some("link")
            aria-disabled=move || if href.with(Option::is_none) { "true" } else { "false" }
            tabindex=move || if href.with(Option::is_none) { "-1" } else { "0" }>
            {label}
        </a>
    }
}

/// How long typing in the search box pauses before the list follows.
const SEARCH_PAUSE_MS: u32 = 300;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn UserListPage() -> impl IntoView {
    dom::set_title("Users");
    let state = expect_context::<AppState>();
    let location = nav::location();
    let filters = Memo::new(move |_| {
        location
            .search
            .with(|s| ListFilters::from_query(|k| routes::query_value(s, k)))
    });
    // Each change of filters is a step in the history; typing in the search
    // box changes the step it started. The path stays, and so does the scroll.
    let go = move |next: ListFilters, replace: bool| location.navigate(&next.href(), replace);
    let users = RwSignal::new(Vec::<UserView>::new());
    let total = RwSignal::new(0usize);
    let loading = RwSignal::new(false);
    let notice = RwSignal::new(None::<Notice>);
    let latest = StoredValue::new(0u64);

    Effect::new(move |_| {
        let q = filters.get().query();
        let Some(api) = state.api() else { return };
        latest.update_value(|n| *n += 1);
        let mine = latest.get_value();
        loading.set(true);
        spawn_local(async move {
            let result = api.list(q).await;
            // Only the newest query's answer counts, and none once the screen
            // has gone (its signals with it).
            if latest.try_get_value() != Some(mine) {
                return;
            }
            match result {
                Ok(list) => {
                    users.set(list.users);
                    total.set(list.total);
                    notice.set(None);
                }
                Err(e) => notice.set(Some(Notice::err(state.fail(&e)))),
            }
            loading.set(false);
        });
    });

    // The search box holds what is typed; the address (and the query) follow
    // once typing pauses, so that neither the history nor the service sees
    // every keystroke. Continuing a search changes the step it started.
    let typed = RwSignal::new(filters.get_untracked().search);
    let pending = StoredValue::new(0u64);
    // Back and Forward change the search from outside: the box follows, and
    // a search still waiting for its pause is dropped.
    Effect::new(move |_| {
        let search = filters.get().search;
        if typed.get_untracked().trim() != search.trim() {
            pending.update_value(|n| *n += 1);
            typed.set(search);
        }
    });
    // The filters as shown: the search box's text, even before its pause.
    let shown = move || ListFilters {
        search: typed.get_untracked(),
        ..filters.get_untracked()
    };
    let select = move |id: &'static str,
                       label: &'static str,
                       options: Vec<(String, String)>,
                       current: Signal<String>,
                       set: fn(&mut ListFilters, &str)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id prop:value=move || current.get()
                    on:change=move |ev| {
                        let mut next = shown();
                        set(&mut next, &event_target_value(&ev));
                        next.page = 0;
                        go(next, false);
                    }>
                    {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let role_filter = select(
        "admin-role",
        "Role",
        filter_options(Role::ALL)
            .into_iter()
            .map(|(v, l)| (filter_value(v), l))
            .collect(),
        Signal::derive(move || filter_value(filters.get().role)),
        |f, v| f.role = Role::from_name(v),
    );
    let status_filter = select(
        "admin-status",
        "Status",
        filter_options(UserStatus::ALL)
            .into_iter()
            .map(|(v, l)| (filter_value(v), l))
            .collect(),
        Signal::derive(move || filter_value(filters.get().status)),
        |f, v| f.status = UserStatus::from_name(v),
    );

    let search = move |ev| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        pending.update_value(|n| *n += 1);
        let mine = pending.get_value();
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(SEARCH_PAUSE_MS).await;
            if pending.try_get_value() != Some(mine) {
                return;
            }
            let Some(now) = filters.try_get_untracked() else {
                return;
            };
            let continuing = !now.search.trim().is_empty() && !text.trim().is_empty();
            go(
                ListFilters {
                    search: text,
                    page: 0,
                    ..now
                },
                continuing,
            );
        });
    };

    let header = move |(label, key, class): (&'static str, Option<SortKey>, &'static str)| {
        let aria_sort = move || {
            let s = filters.get().sort;
            key.filter(|&k| k == s.key).map(|_| {
                if s.descending {
                    "descending"
                } else {
                    "ascending"
                }
            })
        };
        let inner = match key {
            Some(k) => view! {
                <button type="button" class="sort" id=format!("sort-{k}")
                    on:click=move |_| go(shown().sorted_by(k), false)>
                    {label}
                    <span aria-hidden="true" class="sort-mark">{move || match aria_sort() {
                        Some("ascending") => "▲",
                        Some(_) => "▼",
                        None => "",
                    }}</span>
                </button>
            }
            .into_any(),
            None => label.into_any(),
        };
        view! { <th scope="col" class=class aria-sort=aria_sort>{inner}</th> }
    };

    let row = |u: UserView| {
        let name = u.username.clone();
        let (row_id, href, title) = (
            format!("row-{name}"),
            routes::user_path(&name),
            name.clone(),
        );
        view! {
            <tr id=row_id>
                <td class="cell-name"><a href=href title=title>{name}</a></td>
                <td class="cell-email" title=u.email.clone()>{u.email.clone()}</td>
                <td class="opt">{u.profile.get(ProfileField::FullName).to_owned()}</td>
                <td class="cell-role">{u.role.as_str()}</td>
                <td class="cell-status"><span class=format!("badge {}", u.status.as_str())>{u.status.as_str()}</span></td>
                <td class="opt" title=when(Some(&u.created_at))>{day(Some(&u.created_at))}</td>
                <td class="opt" title=when(u.last_login.as_deref())>{day(u.last_login.as_deref())}</td>
            </tr>
        }
    };

    let range = move || {
        let (t, p) = (total.get(), filters.get().page);
        if t == 0 {
            "No users match.".to_owned()
        } else {
            format!(
                "Showing {}–{} of {t}",
                p * PAGE + 1,
                (p * PAGE + PAGE).min(t)
            )
        }
    };
    let to_page = move |page: usize| {
        let f = filters.get();
        ListFilters { page, ..f }.href()
    };

    view! {
        <h2 class="page-title" tabindex="-1">"Users"</h2>
        <NoticeView notice/>
        <div class="filters">
            <div class="field">
                <label for="admin-search">"Search"</label>
                <input id="admin-search" type="search" placeholder="username, name or email" autocomplete="off"
                    prop:value=move || typed.get()
                    on:input=search/>
            </div>
            {role_filter}
            {status_filter}
        </div>
        <div class="table-wrap">
            <table id="user-table" aria-busy=move || if loading.get() { "true" } else { "false" }>
                <caption class="visually-hidden">"Users; column headers sort"</caption>
                <thead><tr>{COLUMNS.into_iter().map(header).collect_view()}</tr></thead>
                <tbody>
                    {move || users.get().into_iter().map(row).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span id="admin-range" role="status">{move || if loading.get() { "Loading…".to_owned() } else { range() }}</span>
            {page_link("page-prev", "Previous", Signal::derive(move || {
                let p = filters.get().page;
                (p > 0).then(|| to_page(p - 1))
            }))}
            {page_link("page-next", "Next", Signal::derive(move || {
                let p = filters.get().page;
                ((p + 1) * PAGE < total.get()).then(|| to_page(p + 1))
            }))}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_options_offer_any_then_every_value_by_wire_name() {
        let roles = filter_options(Role::ALL);
        assert_eq!(roles.len(), Role::ALL.len() + 1);
        let values: Vec<String> = roles.iter().map(|(v, _)| filter_value(*v)).collect();
        assert_eq!(values, ["", "user", "moderator", "admin"]);
        assert_eq!(roles[0].1, "any");
        let statuses: Vec<String> = filter_options(UserStatus::ALL)
            .into_iter()
            .map(|(v, _)| filter_value(v))
            .collect();
        assert_eq!(statuses, ["", "active", "inactive", "suspended"]);
    }

    #[test]
    fn every_sort_key_has_a_column() {
        for &key in SortKey::ALL {
            assert!(
                COLUMNS.iter().any(|(_, k, _)| *k == Some(key)),
                "{key} has no column"
            );
        }
    }
}
